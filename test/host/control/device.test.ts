// `fieldcam device <thing> <command>` against the local cloud's broker (operator over WSS + SigV4), with a
// protocol peer as the camera: results and their exit statuses (ok 0, refused 3, no answer 4), arguments
// typed and checked before any connection, an unknown thing named, and the configuration round trip.
import { join } from 'node:path';
import { assert, suite } from '../../harness/index.ts';
import { cli, provisionedCloud, start } from './controlKit.ts';
import { ProtocolPeer } from './protocolPeer.ts';

const test = suite('fieldcam device (local cloud, protocol peer)');
const { cloud, work, url, close } = await provisionedCloud('fieldcam-device', 2);
// cam-001 answers; cam-002 exists but never connects (an offline device).
const peer = await ProtocolPeer.connect(join(work.dir, 'cam-001'));

test.after(async () => {
  await peer.close();
  await close();
});

const device = (...args: string[]) => cli(cloud, work.dir, ['device', ...args, ...url]);

test('bad arguments are usage errors naming the argument, before any connection', async () => {
  // An unreachable control plane: had the CLI connected first, it would fail with another error.
  const offline = (...args: string[]) => cli(cloud, work.dir, ['device', ...args, '--endpoint-url', 'https://127.0.0.1:1']);
  const cases: Array<[string[], RegExp]> = [
    [['cam-001', 'set', 'fragmentMs=abc'], /fragmentMs must be a whole number from 1000 to 10000/],
    [['cam-001', 'set', 'fragmentMs=999'], /fragmentMs must be a whole number/],
    [['cam-001', 'set', 'streaming=maybe'], /streaming must be true or false/],
    [['cam-001', 'set', 'fragmentMS=2000'], /unknown setting 'fragmentMS'/],
    [['cam-001', 'set'], /name at least one setting/],
    [['cam-001', 'set', 'fragmentMs'], /argument 'fragmentMs' is not name=value/],
    [['cam-001', 'set', 'fps=10', 'fps=12'], /'fps' is given twice/],
    [['cam-001', 'tag', 'value=x'], /name=<tag name> is required/],
    [['cam-001', 'tag', 'name=AWS_X'], /starts with AWS/],
    [['cam-001', 'tag', 'name=a', `value=${'v'.repeat(257)}`], /value is 257 bytes; at most 256/],
    [['cam-001', 'status', 'x=1'], /'status' takes no arguments/],
    [['cam-001', 'reboot'], /unknown command 'reboot'/],
    [['bad name', 'status'], /is not a thing name/],
    [['cam-001', 'config', 'healthRedMs=-5'], /healthRedMs must be a whole number/],
    [['cam-001', 'status', '--timeout', '0'], /--timeout must be a number from 1/],
  ];
  for (const [args, message] of cases) {
    const r = await offline(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(/error CLI_USAGE: /.test(r.stderr) && message.test(r.stderr), `${args.join(' ')}: ${r.stderr}`);
  }
  assert.is(peer.commands.length, 0, 'nothing reached the device');
});

test('status: exit 0 and the telemetry record as a table', async () => {
  const r = await device('cam-001', 'status');
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith('cam-001: status ok\n'), r.stdout);
  assert.ok(/frames in \/ out\s+1500 \/ 1490/.test(r.stdout), r.stdout);
  assert.ok(/ACK latency p50 \/ p99\s+180 ms \/ 730 ms/.test(r.stdout), r.stdout);
  assert.ok(/pool\s+5 of 64 slots/.test(r.stdout), r.stdout);
  const cmd = peer.commands.at(-1)!;
  assert.is(cmd.name, 'status');
  assert.ok(typeof cmd.id === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(cmd.id), String(cmd.id));
  assert.is(cmd.args, undefined);
});

test('set: arguments arrive typed (numbers and booleans), the reported settings are printed', async () => {
  const r = await device('cam-001', 'set', 'fragmentMs=4000', 'streaming=false');
  assert.is(r.status, 0, r.stderr);
  assert.equal(peer.commands.at(-1)!.args, { fragmentMs: 4000, streaming: false });
  assert.ok(/reported \(version \d+\):/.test(r.stdout) && /fragmentMs\s+4000/.test(r.stdout), r.stdout);
  await device('cam-001', 'start');
  assert.is(peer.settings.streaming, true);
});

test('tag and --json: the result document parses and carries the data', async () => {
  const r = await device('cam-001', 'tag', 'name=event', 'value=door open', '--json');
  assert.is(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { id: string; ok: boolean; data: { fragment: number } };
  assert.is(result.ok, true);
  assert.is(result.data.fragment, 1_763_719_200_000);
  assert.is(result.id, peer.commands.at(-1)!.id);
  assert.equal(peer.commands.at(-1)!.args, { name: 'event', value: 'door open' });
});

test("a refusal: exit 3 with the device's code and message", async () => {
  const r = await device('cam-001', 'set', 'fps=15');
  assert.is(r.status, 3, r.stderr);
  assert.ok(r.stderr.includes("cam-001 refused 'set': CONTROL_UNSUPPORTED: setting fps: this camera adapter cannot change it"), r.stderr);
});

test('no answer: exit 4, says why from the retained health (never connected, offline, or hung)', async () => {
  const r = await device('cam-002', 'status', '--timeout', '1');
  assert.is(r.status, 4, r.stderr);
  assert.ok(
    /error CLI_DEVICE_NO_ANSWER: cam-002 did not answer 'status'.*within 1 s; it may be offline \(try `fieldcam devices`\); it has never published its health: it has not connected yet/.test(
      r.stderr,
    ),
    r.stderr,
  );

  // cam-002 connects once and shuts down cleanly, leaving its retained offline health.
  const once = await ProtocolPeer.connect(join(work.dir, 'cam-002'));
  await once.publishHealth('offline', 'shutdown');
  await once.close();
  const offline = await device('cam-002', 'status', '--timeout', '1');
  assert.is(offline.status, 4, offline.stderr);
  assert.ok(
    /its retained health is offline \(shutdown\) since \d{4}-.*; the command waits in its persistent session until it reconnects/.test(offline.stderr),
    offline.stderr,
  );

  await peer.publishHealth('green', 'persisting');
  peer.answering = false;
  try {
    const hung = await device('cam-001', 'restart', '--timeout', '1');
    assert.is(hung.status, 4, hung.stderr);
    assert.ok(hung.stderr.includes('its retained health is green (persisting)'), hung.stderr);
    assert.is(peer.commands.at(-1)!.name, 'restart', 'the command was delivered');
  } finally {
    peer.answering = true;
  }
});

test('an unknown thing is named, with close names; exit 1', async () => {
  const r = await device('cam-01', 'status');
  assert.is(r.status, 1, r.stderr);
  assert.ok(/error CLI_THING_UNKNOWN: no thing 'cam-01' in us-east-1; did you mean cam-001, cam-002\?/.test(r.stderr), r.stderr);
});

test('config: a new desired version round trip, shown afterwards; a rejected key exits 3', async () => {
  const set = await device('cam-001', 'config', 'fragmentMs=3000', 'telemetryIntervalS=10');
  assert.is(set.status, 0, set.stderr);
  assert.ok(set.stdout.includes('cam-001: desired version 1 published'), set.stdout);
  assert.is(peer.version, 1);
  assert.is(peer.settings.fragmentMs, 3000);
  assert.is(peer.settings.telemetryIntervalS, 10);

  const shown = await device('cam-001', 'config', '--json');
  assert.is(shown.status, 0, shown.stderr);
  const doc = JSON.parse(shown.stdout) as {
    desired: { version: number; settings: Record<string, unknown> };
    reported: { version: number; settings: Record<string, unknown> };
  };
  assert.equal(doc.desired, { version: 1, settings: { fragmentMs: 3000, telemetryIntervalS: 10 } });
  assert.is(doc.reported.version, 1);
  assert.is(doc.reported.settings.fragmentMs, 3000);

  // Merged with the retained desired settings; the device rejects fps, keeps the rest.
  const rejected = await device('cam-001', 'config', 'fps=10', 'healthRedMs=90000');
  assert.is(rejected.status, 3, rejected.stderr);
  assert.ok(rejected.stderr.includes('cam-001 rejected fps (CONTROL_UNSUPPORTED)'), rejected.stderr);
  assert.is(peer.version, 2);
  assert.is(peer.settings.healthRedMs, 90_000);
  assert.is(peer.settings.fragmentMs, 3000, 'earlier desired settings kept in the new document');
});

test('config of a device that never reports: exit 4, the desired document stays retained', async () => {
  const r = await device('cam-002', 'config', 'fragmentMs=5000', '--timeout', '1');
  assert.is(r.status, 4, r.stderr);
  assert.ok(r.stderr.includes('The desired document is retained'), r.stderr);
  const shown = await device('cam-002', 'config', '--json');
  assert.equal((JSON.parse(shown.stdout) as { desired: unknown }).desired, { version: 1, settings: { fragmentMs: 5000 } });
});

test('watch (not a terminal): one line per message, retained health first; SIGINT ends it with exit 0', async () => {
  await peer.publishHealth('amber', 'late', 9000);
  const watch = start(cloud, work.dir, ['device', 'cam-001', 'watch', ...url]);
  await watch.line(/health amber \(late\) \(retained\)/);
  await peer.publishTelemetry({ seq: 77 });
  const line = await watch.line(/telemetry #\d+ green: frames 1500\/1490/);
  assert.ok(line.includes('pool 5/64'), line);
  watch.process.kill('SIGINT');
  const r = await watch.done;
  assert.is(r.status, 0, r.stderr);
});

test('watch --json: each line parses', async () => {
  const watch = start(cloud, work.dir, ['device', 'cam-001', 'watch', '--json', ...url]);
  await watch.line(/"topic":"health"/);
  await peer.publishTelemetry();
  await watch.line(/"topic":"telemetry"/);
  watch.process.kill('SIGINT');
  const r = await watch.done;
  assert.is(r.status, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { topic: string; retained: boolean; document: Record<string, unknown> });
  assert.ok(
    events.some((e) => e.topic === 'health' && e.retained && e.document.state === 'amber'),
    r.stdout,
  );
  assert.ok(
    events.some((e) => e.topic === 'telemetry' && e.document.framesIn === 1500),
    r.stdout,
  );
});

test('watch survives a broker restart: reconnects with a fresh URL, subscribes again, keeps printing', async () => {
  const watch = start(cloud, work.dir, ['device', 'cam-001', 'watch', ...url]);
  await watch.line(/health \w+ .*\(retained\)/);
  await cloud.mqtt.restart();
  // The restart dropped the peer too (it does not reconnect): a new connection of the same camera.
  const again = await ProtocolPeer.connect(join(work.dir, 'cam-001'));
  try {
    // Telemetry is not retained: publish until the watch, once reconnected and subscribed, prints one.
    const printed = watch.line(/telemetry #\d+ green: frames 1500\/1234/);
    let seen = false;
    printed.then(
      () => (seen = true),
      () => (seen = true),
    );
    while (!seen) {
      await again.publishTelemetry({ framesOut: 1234 });
      await new Promise((tick) => setTimeout(tick, 100));
    }
    await printed;
  } finally {
    await again.close();
  }
  watch.process.kill('SIGINT');
  const r = await watch.done;
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stderr.includes('fieldcam: connection lost, reconnecting'), r.stderr);
  assert.ok(r.stderr.includes('fieldcam: reconnected'), r.stderr);
});

test.run();
