// `fieldcam devices` against the local cloud: the fleet table joins the things provision created with their
// retained health (published by protocol peers, then disconnected) and the telemetry seen within --wait;
// a thing that never published is 'unknown'; --json parses; --fail-on turns a state into exit 1.
import { join } from 'node:path';
import type { RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { assert, suite } from '../../harness/index.ts';
import { cli, start, startLocalCloud, tempDir } from './controlKit.ts';
import { ProtocolPeer } from './protocolPeer.ts';

const test = suite('fieldcam devices (local cloud, protocol peers)');
const state = tempDir('fieldcam-devices-state-');
const work = tempDir('fieldcam-devices-');
const cloud: RunningCloud = await startLocalCloud(state.dir);
const url = ['--endpoint-url', cloud.endpoint];

test.after(async () => {
  await cloud.close();
  state.remove();
  work.remove();
});

interface DevicesJson {
  things: Array<{
    thing: string;
    health: string;
    reason?: string;
    lastPersistedAgeMs?: number;
    framesIn?: number;
    framesOut?: number;
    drops?: number;
    poolSlotsInUse?: number;
    poolSlots?: number;
    ackLatencyP99Ms?: number;
    live: boolean;
  }>;
  summary: Record<string, number>;
}

test('no cameras: says so, exit 0', async () => {
  const r = await cli(cloud, work.dir, ['devices', ...url]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes('no cameras in us-east-1'), r.stdout);
});

test('health from retained messages, telemetry within --wait, unknown for a thing never seen', async () => {
  const provisioned = await cli(cloud, work.dir, ['provision', '--count', '3', '--prefix', 'cam-', ...url]);
  assert.is(provisioned.status, 0, provisioned.stderr);
  // cam-002 publishes a retained red health and leaves: the broker answers for it.
  const red = await ProtocolPeer.connect(join(work.dir, 'cam-002'));
  await red.publishHealth('red', 'never-persisted', -1);
  await red.close();
  // cam-001 stays connected, retained green health, and publishes telemetry while `devices` listens.
  const green = await ProtocolPeer.connect(join(work.dir, 'cam-001'));
  try {
    await green.publishHealth('green');
    const run = start(cloud, work.dir, ['devices', '--json', '--wait', '3', ...url]);
    // Telemetry is not retained: publish it until the command, listening for --wait seconds, has ended.
    let finished = false;
    void run.done.then(() => (finished = true));
    while (!finished) {
      await green.publishTelemetry({ framesIn: 900, framesOut: 880, lastPersistedAgeMs: 1500 });
      await Promise.race([run.done, new Promise((tick) => setTimeout(tick, 100))]);
    }
    const r = await run.done;
    assert.is(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as DevicesJson;
    const row = (thing: string) => doc.things.find((t) => t.thing === thing)!;
    assert.equal(
      doc.things.map((t) => t.thing),
      ['cam-001', 'cam-002', 'cam-003'],
    );
    assert.is(row('cam-001').health, 'green');
    assert.is(row('cam-001').live, true);
    assert.is(row('cam-001').framesIn, 900);
    assert.is(row('cam-001').framesOut, 880);
    assert.is(row('cam-001').drops, 10, 'drops summed over reasons');
    assert.is(row('cam-001').poolSlots, 64);
    assert.is(row('cam-001').lastPersistedAgeMs, 1500, 'from the telemetry record');
    assert.is(row('cam-002').health, 'red');
    assert.is(row('cam-002').reason, 'never-persisted');
    assert.is(row('cam-002').lastPersistedAgeMs, -1);
    assert.is(row('cam-002').live, false);
    assert.is(row('cam-003').health, 'unknown');
    assert.equal(doc.summary, { green: 1, amber: 0, red: 1, offline: 0, unknown: 1 });
  } finally {
    await green.close();
  }
});

test('the table (not a terminal: no colour), the summary line, and --fail-on', async () => {
  const r = await cli(cloud, work.dir, ['devices', '--wait', '0.2', ...url]);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.ok(/^THING\s+HEALTH\s+REASON\s+PERSISTED\s+FRAMES IN\/OUT\s+DROPS\s+POOL\s+ACK p50\/p99$/.test(lines[0]!), lines[0]);
  assert.ok(/^cam-002\s+red\s+never-persisted\s+never\s/.test(lines[2]!), lines[2]);
  assert.ok(/^cam-003\s+unknown\s+-\s+-/.test(lines[3]!), lines[3]);
  assert.is(lines.at(-1), '3 cameras: 1 green, 1 red, 1 unknown');
  assert.ok(!r.stdout.includes('\x1b['), 'no escape codes in a pipe');

  assert.is((await cli(cloud, work.dir, ['devices', '--wait', '0.2', '--fail-on', 'red', ...url])).status, 1);
  assert.is((await cli(cloud, work.dir, ['devices', '--wait', '0.2', '--fail-on', 'offline', ...url])).status, 0);
  const bad = await cli(cloud, work.dir, ['devices', '--fail-on', 'purple', ...url]);
  assert.is(bad.status, 2);
  assert.ok(bad.stderr.includes("--fail-on must be one of amber, red, offline, got 'purple'"), bad.stderr);
});

test('a device whose connection dropped without DISCONNECT shows offline (its Will), --fail-on offline exits 1', async () => {
  const peer = await ProtocolPeer.connect(join(work.dir, 'cam-001'), { will: true });
  const watch = start(cloud, work.dir, ['device', 'cam-001', 'watch', ...url]);
  await watch.line(/health green/);
  peer.drop();
  await watch.line(/health offline/);
  watch.process.kill('SIGINT');
  assert.is((await watch.done).status, 0);
  const r = await cli(cloud, work.dir, ['devices', '--json', '--wait', '0.2', '--fail-on', 'offline', ...url]);
  assert.is(r.status, 1, r.stderr);
  assert.is((JSON.parse(r.stdout) as DevicesJson).things.find((t) => t.thing === 'cam-001')!.health, 'offline');
});

test.run();
