// Issue 11 item 5 on the Node board: a live camera that sends random bytes or an MP4 file ends with
// DEVICE_EXIT.CAMERA (10) and H264_NOT_ANNEXB — the code `fieldcam stream` gives the same input — in the error
// line and on stderr with its remedy, instead of exit 0 with zero frames; and health turns red while the camera
// is failing (deriveHealth, which the control channel publishes).
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { deriveHealth } from '../../firmware/core/control/deriveHealth.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { FIXTURES, ROOT, tempDir, tool } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { mulberry32 } from '../harness/support.ts';

const test = suite('a live camera that is not sending H.264: H264_NOT_ANNEXB, exit 10, health red');
const tmp = tempDir('fieldcam-camera-problem-');
test.after(() => tmp.remove());

async function runWithCamera(file: string): Promise<{ code: number; records: Record<string, unknown>[]; stderr: string[] }> {
  const config = join(tmp.dir, 'device.json');
  // Never reached: the camera's end decides the run before anything is uploaded.
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: 'not-h264',
    region: 'us-east-1',
    endpoint: { host: '127.0.0.1', port: 9, caFile: join(ROOT, 'package.json') },
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    codec: 'h264',
    live: true,
    cameraFd: openSync(file, 'r'),
    statusIntervalMs: 0,
  });
  const records: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const board = nodeBoard({ print: (l) => records.push(JSON.parse(l) as Record<string, unknown>), printError: (l) => stderr.push(l), onStop: () => {} });
  const code = await runDevice(board, config);
  return { code, records, stderr };
}

test('random bytes on the camera: exit 10, error H264_NOT_ANNEXB, the code and remedy on stderr', async () => {
  const rnd = mulberry32(11);
  const bytes = new Uint8Array(256 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rnd() * 256);
  const file = join(tmp.dir, 'random.bin');
  writeFileSync(file, bytes);
  const { code, records, stderr } = await runWithCamera(file);
  assert.is(code, DEVICE_EXIT.CAMERA, JSON.stringify(records));
  const error = records.find((r) => r.type === 'error');
  assert.is(error?.code, 'H264_NOT_ANNEXB');
  assert.is(records.find((r) => r.type === 'summary')?.framesIn, 0);
  assert.is(stderr.length, 1);
  assert.ok(/^fieldcam: exit 10: H264_NOT_ANNEXB: .*\(remedy: .*h264_mp4toannexb/.test(stderr[0]!), stderr[0]);
});

test('an MP4 file on the camera: the same', async () => {
  const mp4 = join(tmp.dir, 'camera.mp4');
  const r = tool('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-framerate', '10', '-i', join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), '-c', 'copy', mp4]);
  assert.is(r.status, 0, r.stderr);
  const { code, records } = await runWithCamera(mp4);
  assert.is(code, DEVICE_EXIT.CAMERA, JSON.stringify(records));
  assert.is(records.find((r) => r.type === 'error')?.code, 'H264_NOT_ANNEXB');
});

test('health: red (reason camera) while the camera is failing, whatever the PERSISTED age', () => {
  const base = { streaming: true, lastPersistedAgeMs: 100, streamingForMs: 60_000, amberMs: 10_000, redMs: 30_000 };
  assert.is(deriveHealth(base).state, 'green');
  assert.equal({ ...deriveHealth({ ...base, cameraFailing: true }) }, { state: 'red', reason: 'camera' });
});

test.run();
