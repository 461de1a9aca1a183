// A provisioned device on the Node board against the local cloud's own broker (mTLS with the device
// certificate, IoT policy authorization) and its credentials provider: the control channel comes from the
// bundle's endpoints.iotData, the state file from `state` (--state), and reload-credentials fetches new IoT
// credentials. The operator is mqtt.js over WSS + SigV4, as `fieldcam device` connects.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { decodeControlState } from '../../firmware/core/control/ControlState.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { FIXTURES, ROOT, tempDir } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { Operator } from '../device/controlKit.ts';
import { cli } from '../host/control/controlKit.ts';
import { fifoCamera } from './controlKit.ts';
import { readFileSync } from 'node:fs';

const test = suite('control channel of a provisioned device on the Node board (local cloud broker, IoT credentials)');
const tmp = tempDir('fieldcam-control-bundle-');
const THING = 'cam-nb-001';
const VIDEO = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
const STATE = join(tmp.dir, 'state', 'control-state.cbor');
let cloud: RunningCloud;
let operator: Operator;

function boot(name: string): { records: Record<string, unknown>[]; exit: Promise<number>; stop(): void; connected: Promise<void> } {
  const camera = fifoCamera(join(tmp.dir, `${name}.fifo`), VIDEO, statSync(VIDEO).size / 10);
  const records: Record<string, unknown>[] = [];
  let connected!: () => void;
  const up = new Promise<void>((resolve) => (connected = resolve));
  let stopApp: (() => void) | undefined;
  const board = nodeBoard({
    print: (text) => {
      const r = JSON.parse(text) as Record<string, unknown>;
      records.push(r);
      if (process.env.DEBUG_DEVICE) process.stderr.write(`${text}\n`);
      if (r.type === 'control' && r.event === 'connected') connected();
    },
    onStop: (callback) => (stopApp = callback),
  });
  const exit: Promise<number> = runDevice(board, {
    bundle: join(tmp.dir, THING),
    board: join(ROOT, 'manifests', 'boards', 'pi-zero-w.json'),
    cameraFd: camera.fd,
    state: STATE,
  }).finally(() => camera.stop());
  // A device that ends before it connects fails the wait with its lines instead of hanging it.
  const connectedOrExit = Promise.race([
    up,
    exit.then((code) => {
      throw new Error(`the device exited ${code} before connecting: ${JSON.stringify(records.filter((r) => r.type !== 'status'))}`);
    }),
  ]);
  connectedOrExit.catch(() => undefined);
  return { records, exit, stop: () => stopApp?.(), connected: connectedOrExit };
}

test.before(async () => {
  // setup: the local cloud with its broker; one camera provisioned by `fieldcam provision`
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, mqttPort: 0, routes: [...mediaRoutes] });
  const provisioned = await cli(cloud, tmp.dir, ['provision', '--thing', THING, '--out', join(tmp.dir, THING), '--endpoint-url', cloud.endpoint]);
  assert.is(provisioned.status, 0, provisioned.stderr);
  operator = await Operator.connect(cloud, THING);
});

test('the bundle device connects with its certificate; status, reload-credentials, set; the state file is where --state says; restart exits 12', async () => {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(tmp.dir, 'state'), { recursive: true });
  const device = boot('first');
  await device.connected;
  await operator.next('health', (v) => v.state === 'green' && v.reason === 'persisting', 'green once a fragment is PERSISTED', 0, 60_000);
  const status = await operator.command('s-1', 'status');
  assert.is(status.ok, true, JSON.stringify(status));
  assert.ok(Number((status.data as Record<string, unknown>).fragmentsPersisted) >= 1);
  const reload = await operator.command('rc-1', 'reload-credentials');
  assert.is(reload.ok, true, JSON.stringify(reload));
  const expiration = Date.parse(String((reload.data as Record<string, unknown>).expiration));
  assert.ok(expiration > Date.now() + 60_000, String((reload.data as Record<string, unknown>).expiration));
  assert.ok(device.records.filter((r) => r.event === 'credentials').length >= 2, 'a second fetch of IoT credentials');
  const set = await operator.command('set-1', 'set', { telemetryIntervalS: 5 });
  assert.is(set.ok, true, JSON.stringify(set));
  assert.ok(existsSync(STATE));
  const state = decodeControlState(new Uint8Array(readFileSync(STATE)));
  assert.equal(state.settings, { telemetryIntervalS: 5 });
  assert.equal(
    state.commands.map((c) => c.id),
    ['rc-1', 'set-1'],
  ); // `status` is not logged (docs/control-channel.md)
  const restart = await operator.command('rs-1', 'restart');
  assert.is(restart.ok, true);
  assert.is(await device.exit, DEVICE_EXIT.RESTART);
  const again = boot('second');
  await again.connected;
  const reported = await operator.next(
    'config/reported',
    (v) => (v.settings as Record<string, unknown>).telemetryIntervalS === 5,
    'the set survived the restart',
    operator.mark,
  );
  assert.is(reported.version, 0);
  again.stop();
  assert.is(await again.exit, DEVICE_EXIT.OK);
});

test.after(async () => {
  // stop everything
  await operator.close();
  await cloud.close();
  tmp.remove();
});

test.run();
