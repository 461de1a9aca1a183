// The control channel on the Node board (firmware/app + firmware/core/control), end to end against the local
// KVS and a real MQTT broker over TLS, with mqtt.js + cbor-x as the operator: command round trips, de-duplicated
// ids, desired configuration applied, persisted and reported across a restart, telemetry consistent with what
// the local KVS stored, and health turning red while PutMedia is blocked with the control channel still up.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import type { RunningCloud } from '../../sim/cloud/startCloud.ts';
import { FIXTURES, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { type ControlCloud, fifoCamera, type Operator, startControlCloud } from './controlKit.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';

const test = suite('control channel on the Node board (local KVS, MQTT over TLS)');
const tmp = tempDir('fieldcam-control-');
const THING = 'cam-ctl';
const VIDEO = join(FIXTURES, 'h264-320x240-10fps-gop10.h264'); // 100 frames, 10 fps, a key frame every second
let cloud: RunningCloud;
let net: ControlCloud;
let operator: Operator;

interface Device {
  readonly records: Record<string, unknown>[];
  readonly exit: Promise<number>;
  stop(): void;
  /** The first device line (already printed or to come) matching `match`. */
  line(match: (r: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

function boot(name: string): Device {
  const camera = fifoCamera(join(tmp.dir, `${name}.fifo`), VIDEO, statSync(VIDEO).size / 10);
  const config = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: THING,
    ...localCloudTarget(cloud),
    codec: 'h264',
    live: true,
    cameraFd: camera.fd,
    createRetentionHours: 24,
    statusIntervalMs: 0,
    control: net.control(join(tmp.dir, 'control-state.cbor')),
  });
  const records: Record<string, unknown>[] = [];
  let waiters: { match: (r: Record<string, unknown>) => boolean; resolve: (r: Record<string, unknown>) => void }[] = [];
  let stopApp: (() => void) | undefined;
  const board = nodeBoard({
    print: (text) => {
      const r = JSON.parse(text) as Record<string, unknown>;
      records.push(r);
      waiters = waiters.filter((w) => !(w.match(r) && (w.resolve(r), true)));
    },
    onStop: (callback) => (stopApp = callback),
  });
  const exit = runDevice(board, config).finally(() => camera.stop());
  return {
    records,
    exit,
    stop: () => stopApp?.(),
    line(match, timeoutMs = 30_000) {
      const seen = records.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching device line within ${timeoutMs} ms: ${JSON.stringify(records.slice(-5))}`)), timeoutMs);
        waiters.push({
          match,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
  };
}

const stored = () => fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(THING)!).list();
const persistedAcks = (d: Device) => d.records.filter((r) => r.type === 'control' && r.event === 'health').length;

test.before(async () => {
  // start the local cloud, a TLS broker and the operator
  net = await startControlCloud(tmp.dir, THING);
  ({ cloud, operator } = net);
  // Desired configuration written before the device ever connects (retained).
  await operator.publish('config/desired', { version: 1, settings: { fragmentMs: 2000, telemetryIntervalS: 1, fps: 5 } }, true);
});

let device: Device;

test('boot: connected, desired v1 applied and reported (fps refused by name), health and telemetry published', async () => {
  device = boot('first');
  await device.line((r) => r.type === 'control' && r.event === 'connected');
  const reported = await operator.next('config/reported', (v) => v.version === 1);
  assert.is((reported.settings as Record<string, unknown>).fragmentMs, 2000);
  assert.equal(reported.rejected, { fps: 'CONTROL_UNSUPPORTED' });
  const health = await operator.next('health', (v) => v.state === 'green' && v.reason === 'persisting');
  assert.ok(typeof health.t === 'number');
  const tel = await operator.next('telemetry', (v) => (v.fragmentsPersisted as number) >= 2);
  for (const key of [
    't',
    'seq',
    'uptimeMs',
    'streaming',
    'health',
    'framesIn',
    'framesOut',
    'fragmentsSent',
    'fragmentsPersisted',
    'drops',
    'poolSlotsInUse',
    'poolSlots',
    'bytesBehind',
    'ackLatencyP50Ms',
    'ackLatencyP99Ms',
    'lastPersistedAgeMs',
    'errors',
    'heap',
    'computrons',
  ]) {
    assert.ok(key in tel, key);
  }
  assert.ok((tel.ackLatencyP50Ms as number) >= 0 && (tel.ackLatencyP99Ms as number) >= (tel.ackLatencyP50Ms as number));
  assert.is(tel.poolSlots, device.records.find((r) => r.type === 'boot')!.poolSlots);
});

test('status, unknown command, bad arguments: results with named codes; the device keeps streaming', async () => {
  const status = await operator.command('st-1', 'status');
  assert.is(status.ok, true);
  assert.is((status.data as Record<string, unknown>).streaming, true);
  const unknown = await operator.command('un-1', 'reboot');
  assert.equal([unknown.ok, unknown.code], [false, 'CONTROL_UNKNOWN_COMMAND']);
  const typo = await operator.command('set-typo', 'set', { fragmentMS: 3000 });
  assert.equal([typo.ok, typo.code], [false, 'CONTROL_ARGUMENT_INVALID']);
  const reload = await operator.command('rl-1', 'reload-credentials');
  assert.equal([reload.ok, reload.code], [false, 'CONTROL_UNSUPPORTED'], 'static keys');
  const garbage = operator.received.length;
  await operator.publish('cmd', new Uint8Array([0xa2, 0x62, 0x69]));
  const refused = await operator.next('result', (v) => v.code === 'CONTROL_PAYLOAD_INVALID', garbage);
  assert.is(refused.id, undefined);
  const persisted = (status.data as Record<string, unknown>).fragmentsPersisted as number;
  await operator.next('telemetry', (v) => (v.fragmentsPersisted as number) > persisted, garbage);
});

test('a repeated command id is executed once; its stored result is published again', async () => {
  const first = await operator.command('tag-1', 'tag', { name: 'event', value: 'door' });
  assert.is(first.ok, true);
  const fragment = (first.data as Record<string, unknown>).fragment as number;
  assert.ok(fragment > 1.7e12, String(fragment));
  const again = await operator.command('tag-1', 'tag', { name: 'event', value: 'door' });
  assert.equal(again, first);
  assert.is(device.records.filter((r) => r.type === 'control' && r.event === 'result' && r.id === 'tag-1').length, 1);
  assert.ok(device.records.some((r) => r.type === 'control' && r.event === 'command' && r.id === 'tag-1' && r.repeat === true));
  (globalThis as Record<string, unknown>).taggedFragment = fragment;
});

test('stop: answered after the last PERSISTED; camera drained as `stopped`; telemetry matches the stored fragments; start resumes', async () => {
  const stop = await operator.command('stop-1', 'stop');
  assert.is(stop.ok, true);
  const atStop = stored().length;
  const status = await operator.command('st-3', 'status');
  const s = status.data as Record<string, unknown>;
  assert.is(s.streaming, false);
  assert.is(s.health, 'amber');
  assert.is(s.fragmentsPersisted, atStop, 'every fragment the device counts as PERSISTED is stored, and no more');
  assert.is(s.fragmentsSent, atStop);
  assert.is(s.bytesBehind, 0);
  await operator.next('health', (v) => v.reason === 'stopped');
  // The tag went on exactly the fragment the result named.
  const tagged = stored().filter((f) => f.tags.some(([n, v]) => n === 'event' && v === 'door'));
  assert.equal(
    tagged.map((f) => f.producerTimestampMs),
    [(globalThis as Record<string, unknown>).taggedFragment],
  );
  const from = operator.received.length;
  const drained = await operator.next('telemetry', (v) => (v.drops as Record<string, number>).stopped >= 10, from);
  assert.is(drained.fragmentsPersisted, atStop);
  assert.is(stored().length, atStop, 'nothing uploaded while stopped');
  const start = await operator.command('start-1', 'start');
  assert.is(start.ok, true);
  await operator.next('telemetry', (v) => (v.fragmentsPersisted as number) >= atStop + 2, operator.received.length);
  assert.ok(stored().length >= atStop + 2);
});

test('set fragmentMs: reported and applied from the next fragment', async () => {
  const set = await operator.command('set-1', 'set', { fragmentMs: 3000, healthAmberMs: 2000, healthRedMs: 4000 });
  assert.is(set.ok, true);
  assert.is(((set.data as Record<string, unknown>).settings as Record<string, unknown>).fragmentMs, 3000);
  await operator.next('config/reported', (v) => (v.settings as Record<string, unknown>).fragmentMs === 3000);
  const before = stored().length;
  await operator.next('telemetry', (v) => (v.fragmentsPersisted as number) >= before + 3, operator.received.length);
  const recent = stored().slice(-2);
  for (const f of recent) assert.is(f.durationMs, 3000, `fragment at ${f.producerTimestampMs}: ${f.durationMs} ms`);
});

test('PutMedia blocked: health turns red, the control channel stays up and answers; green again after', async () => {
  const from = operator.received.length;
  cloud.ctx.faults.ackDelayMs = 9000;
  await operator.next('health', (v) => v.state === 'red', from);
  const status = await operator.command('st-red', 'status');
  assert.is((status.data as Record<string, unknown>).health, 'red');
  cloud.ctx.faults.ackDelayMs = undefined;
  await operator.next('health', (v) => v.state === 'green', operator.received.length);
  assert.ok(persistedAcks(device) > 0);
});

test('restart: result first, last fragment flushed, exit 12; the next boot applies the state before the broker and does not restart again', async () => {
  const restart = await operator.command('rs-1', 'restart');
  assert.is(restart.ok, true);
  assert.is(await device.exit, DEVICE_EXIT.RESTART);
  const summary = device.records.find((r) => r.type === 'summary')!;
  assert.is(summary.error, undefined, JSON.stringify(summary));
  await operator.next('health', (v) => v.state === 'offline' && v.reason === 'restart');
  // The broker re-delivers nothing new, but send the same restart id again: it must not restart the device.
  const from = operator.received.length;
  device = boot('second');
  await device.line((r) => r.type === 'control' && r.event === 'connected');
  const reported = await operator.next('config/reported', () => true, from);
  assert.is(reported.version, 1);
  assert.is((reported.settings as Record<string, unknown>).fragmentMs, 3000, 'set survives the restart');
  const repeat = await operator.command('rs-1', 'restart');
  assert.equal(repeat, restart);
  // A newer desired version is applied and persisted.
  await operator.publish('config/desired', { version: 2, settings: { fragmentMs: 1000 } }, true);
  await operator.next('config/reported', (v) => v.version === 2);
  device.stop();
  assert.is(await device.exit, DEVICE_EXIT.OK);
});

test.after(async () => {
  // stop everything
  await operator.publish('config/desired', new Uint8Array(0), true);
  await net.close();
  tmp.remove();
});

test.run();
