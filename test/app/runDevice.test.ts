// The device app (firmware/app) on the Node board against the local KVS: configuration errors are named and
// exit with DEVICE_EXIT.CONFIG; a file camera is streamed whole, every fragment PERSISTED, and the stored media
// decodes to the input frame count. The same app runs on the XS board (test/device/*).
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { ensureCertificates } from '../../sim/cloud/tls/ensureCertificates.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { assert, suite } from '../harness/index.ts';
import { FIXTURES, tempDir } from '../e2e/tools.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';

const test = suite('device app on the Node board (local KVS)');
const tmp = tempDir('fieldcam-app-');
let cloud: RunningCloud;

function configFor(name: string, fd: number, extra: Partial<Parameters<typeof writeDeviceConfig>[1]> = {}): string {
  const path = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(path, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: name,
    ...localCloudTarget(cloud),
    codec: 'h264',
    live: false,
    cameraFd: fd,
    createRetentionHours: 24,
    statusIntervalMs: 200,
    ...extra,
  });
  return path;
}

async function run(config: string): Promise<{ code: number; records: Record<string, unknown>[] }> {
  const records: Record<string, unknown>[] = [];
  const board = nodeBoard({ print: (line) => records.push(JSON.parse(line) as Record<string, unknown>), onStop: () => {} });
  const code = await runDevice(board, config);
  return { code, records };
}

test.before(async () => {
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
});

test('a file camera is streamed whole: boot, status and summary lines; every fragment PERSISTED and stored', async () => {
  const fd = openSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), 'r');
  const { code, records } = await run(configFor('app-node', fd));
  const summary = records.find((r) => r.type === 'summary');
  assert.is(code, DEVICE_EXIT.OK, JSON.stringify(records.filter((r) => r.type !== 'status')));
  assert.is(records[0]!.type, 'boot');
  assert.ok(summary, 'a summary line');
  assert.is(summary!.framesIn, 100);
  assert.is(summary!.fragmentsIn, 10);
  assert.is(summary!.fragmentsPersisted, 10);
  assert.is(summary!.framesDropped, 0);
  const stored = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get('app-node')!).list();
  assert.is(new Set(stored.map((f) => f.producerTimestampMs)).size, 10);
});

test('configuration problems: named error line and exit code CONFIG, nothing streamed', async () => {
  const bad = join(tmp.dir, 'bad.json');
  const cases: [string, RegExp][] = [
    ['{"version": 2}', /version must be 1/],
    ['not json', /not valid JSON/],
  ];
  for (const [content, message] of cases) {
    (await import('node:fs')).writeFileSync(bad, content);
    const { code, records } = await run(bad);
    assert.is(code, DEVICE_EXIT.CONFIG);
    assert.is(records.length, 1);
    assert.is(records[0]!.code, 'CONFIG_INVALID');
    assert.ok(message.test(String(records[0]!.message)), String(records[0]!.message));
  }
  const missing = await run(join(tmp.dir, 'missing.json'));
  assert.is(missing.code, DEVICE_EXIT.CONFIG);
  assert.ok(/missing\.json/.test(String(missing.records[0]!.message)), String(missing.records[0]!.message));
  const noStream = await run(configFor('bad name!', 0));
  assert.is(noStream.code, DEVICE_EXIT.CONFIG);
  assert.ok(/stream\.name/.test(String(noStream.records[0]!.message)), String(noStream.records[0]!.message));
});

test('an unreadable camera fd → INPUT_READ_FAILED, exit code CAMERA', async () => {
  const { code, records } = await run(configFor('app-badfd', 987));
  assert.is(code, DEVICE_EXIT.CAMERA, JSON.stringify(records));
  assert.ok(records.some((r) => r.type === 'error' && r.code === 'INPUT_READ_FAILED'));
});

test('a CA that did not sign the server certificate → UPLOAD_TLS_VERIFY at once, exit UPLOAD, nothing uploaded', async () => {
  mkdirSync(join(tmp.dir, 'other-ca'), { recursive: true });
  const other = await ensureCertificates(join(tmp.dir, 'other-ca'));
  const fd = openSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), 'r');
  const { code, records } = await run(
    configFor('app-wrong-ca', fd, { endpoint: { host: '127.0.0.1', port: Number(new URL(cloud.endpoint).port), caFile: other.caFile } }),
  );
  assert.is(code, DEVICE_EXIT.UPLOAD, JSON.stringify(records));
  const error = records.find((r) => r.type === 'error');
  assert.is(error?.code, 'UPLOAD_TLS_VERIFY');
  assert.ok(!records.some((r) => r.type === 'event' && r.event === 'retry'), 'not retried');
  assert.is(cloud.ctx.streams.get('app-wrong-ca'), undefined, 'the stream was never created');
});

test.after(async () => {
  await cloud.close();
  tmp.remove();
});

test.run();
