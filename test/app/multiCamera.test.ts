// Several cameras in one device (issue 18) on the Node board against the local KVS: three cameras — H.264 from a
// file read as fast as the pool allows (a camera that floods: its whole backlog at once), H.265 from a live pipe
// fed in real time, MJPEG from a live pipe that stalls for seconds — each with its own pool, session and stream
// `<device>-<camera>`, one device. Fair scheduling, judged in fragments rather than time: at every status line of
// the steady camera, at most one fragment is open and one awaits its PERSISTED (an ACK later than one fragment
// would show as a third), while the flooding camera holds dozens un-acknowledged. Everything fed is stored.
import { constants, createWriteStream, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { feedCamera, type CameraFeed } from '../../sim/board/feedCamera.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { FIXTURES, tempDir, tool } from '../e2e/tools.ts';
import { fifoCamera } from './controlKit.ts';
import { assert, suite } from '../harness/index.ts';

const test = suite('several cameras in one device on the Node board (local KVS): fair turns, every frame stored');
const tmp = tempDir('fieldcam-multicam-');
let cloud: RunningCloud;
type Rec = Record<string, unknown>;

test.before(async () => {
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
});
test.after(async () => {
  await cloud.close();
  tmp.remove();
});

/** A live camera pipe: a FIFO whose read end the device polls (non-blocking) and whose write end a feeder paces. */
function livePipe(name: string, video: string, bytesPerSecond: number): { fd: number; feed: CameraFeed } {
  const path = join(tmp.dir, `${name}.fifo`);
  const r = tool('mkfifo', [path]);
  assert.is(r.status, 0, r.stderr);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = createWriteStream('', { fd: openSync(path, 'w') });
  return { fd, feed: feedCamera(writer, { video, loop: false, bytesPerSecond }) };
}

test('H.264 flooding, H.265 steady, MJPEG stalling: the steady camera never waits more than a fragment for its ACK', async () => {
  // The flooding camera: the 100-frame sample ten times over (1000 frames, 100 fragments), a file read at once.
  const gop10 = readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'));
  const floodFile = join(tmp.dir, 'flood.h264');
  writeFileSync(floodFile, Buffer.concat(Array.from({ length: 10 }, () => gop10)));
  const floodFd = openSync(floodFile, 'r');
  const h265 = join(FIXTURES, 'h265-320x240-10fps-gop10.h265');
  const mjpeg = join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg');
  const steady = livePipe('steady', h265, readFileSync(h265).length / 10); // 100 frames in 10 s
  const stall = livePipe('stall', mjpeg, readFileSync(mjpeg).length / 3); // 30 frames in 3 s, with a 4 s stall
  setTimeout(() => stall.feed.pause(), 1000);
  setTimeout(() => stall.feed.resume(), 5000);

  const url = new URL(cloud.endpoint);
  const config = join(tmp.dir, 'device.json');
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: 'farm',
    region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: true,
    createRetentionHours: 24,
    statusIntervalMs: 100,
    cameras: [
      { name: 'flood', codec: 'h264', fd: floodFd, live: false },
      { name: 'steady', codec: 'h265', fd: steady.fd },
      { name: 'stall', codec: 'mjpeg', fd: stall.fd, fps: { num: 10, den: 1 } },
    ],
  });
  const records: Rec[] = [];
  const board = nodeBoard({ print: (l) => records.push(JSON.parse(l) as Rec), onStop: () => {} });
  const code = await runDevice(board, config);
  const notStatus = JSON.stringify(records.filter((r) => r.type !== 'status'));
  assert.is(code, DEVICE_EXIT.OK, notStatus);

  const boot = records[0]!;
  assert.is(boot.type, 'boot');
  assert.equal(
    (boot.cameras as Rec[]).map((c) => [c.camera, c.stream, c.codec]),
    [
      ['flood', 'farm-flood', 'h264'],
      ['steady', 'farm-steady', 'h265'],
      ['stall', 'farm-stall', 'mjpeg'],
    ],
  );
  assert.ok((boot.poolBytes as number) <= (boot.poolBudgetBytes as number), 'the pools fit the budget');

  const summary = (camera: string) => records.find((r) => r.type === 'summary' && r.camera === camera)!;
  for (const [camera, frames, fragments] of [
    ['flood', 1000, 100],
    ['steady', 100, 10],
    ['stall', 30, 3],
  ] as const) {
    const s = summary(camera);
    assert.equal(
      [s.stream, s.framesIn, s.fragmentsIn, s.fragmentsPersisted, s.framesDropped],
      [`farm-${camera}`, frames, fragments, fragments, 0],
      `${camera}: ${JSON.stringify(s)}`,
    );
    const stored = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(`farm-${camera}`)!).list();
    assert.is(new Set(stored.map((f) => f.producerTimestampMs)).size, fragments, camera);
  }

  // Fairness in fragments: the steady camera's backlog while the flooding one had dozens of fragments un-acknowledged.
  const status = (camera: string) => records.filter((r) => r.type === 'status' && r.camera === camera);
  const behind = (r: Rec) => (r.fragmentsIn as number) - (r.fragmentsPersisted as number);
  const steadyBehind = status('steady').map(behind);
  const floodBehind = status('flood').map(behind);
  assert.ok(steadyBehind.length >= 20, `${steadyBehind.length} status lines of the steady camera`);
  assert.ok(Math.max(...floodBehind) >= 20, `the flooding camera held a backlog: ${Math.max(...floodBehind)} fragments`);
  assert.ok(Math.max(...steadyBehind) <= 2, `steady camera fragments behind, per status line: ${steadyBehind.join(' ')}`);
  // The stalled camera stopped delivering (its count stood still for seconds) and the steady one went on.
  const stallFrames = status('stall').map((r) => r.framesIn as number);
  assert.ok(
    stallFrames.some((n, i) => i >= 20 && n === stallFrames[i - 20] && n < 30),
    'the MJPEG camera stalled for 2 s or more',
  );
});

test('a live camera whose capture ends stops the device: the other camera flushes, exit 0 for the service manager to restart both', async () => {
  const h264 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
  // Two cameras that would run forever (the file looped), read as cameras (capture clock, not recordings).
  const a = fifoCamera(join(tmp.dir, 'a.fifo'), h264, readFileSync(h264).length / 10);
  const b = fifoCamera(join(tmp.dir, 'b.fifo'), h264, readFileSync(h264).length / 10);
  let cut = false;
  const cutA = () => {
    if (!cut) a.stop();
    cut = true;
  };
  const url = new URL(cloud.endpoint);
  const config = join(tmp.dir, 'device-eof.json');
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: 'shed',
    region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: true,
    recorded: false,
    createRetentionHours: 24,
    statusIntervalMs: 100,
    cameras: [
      { name: 'a', fd: a.fd },
      { name: 'b', fd: b.fd },
    ],
  });
  const records: Rec[] = [];
  const board = nodeBoard({
    print: (l) => {
      const r = JSON.parse(l) as Rec;
      records.push(r);
      // Camera a's capture dies once both cameras have a fragment PERSISTED.
      const persisted = (c: string) => records.some((x) => x.type === 'status' && x.camera === c && (x.fragmentsPersisted as number) > 0);
      if (r.type === 'status' && !cut && persisted('a') && persisted('b')) cutA();
    },
    onStop: () => {},
  });
  try {
    const code = await runDevice(board, config);
    assert.is(code, DEVICE_EXIT.OK, JSON.stringify(records.filter((r) => r.type !== 'status')));
  } finally {
    cutA();
    b.stop();
  }
  for (const camera of ['a', 'b']) {
    const s = records.find((r) => r.type === 'summary' && r.camera === camera)!;
    assert.ok((s.fragmentsIn as number) >= 1 && s.fragmentsPersisted === s.fragmentsIn, `${camera}: ${JSON.stringify(s)}`);
  }
});

test.run();
