// Issue 11, items 3-6, on the device as it is deployed: the pi-zero-w image under `qemu-arm -cpu arm1176`, its
// camera a pipe the test pauses, floods and cuts (sim/board/feedCamera.ts), the local KVS holding its ACKs back
// so the small pool fills with frames already on the wire. Judged from what the cloud stored (GetMedia through
// the CLI, decoded by ffprobe/ffmpeg):
// - every frame fed is stored or counted as dropped by reason (fed = stored + dropped);
// - the cut last access unit is not stored (ffmpeg decodes the stream without an error);
// - fragments after the pause start at their true time (the pause is in the producer timestamps);
// - a camera that sends an MP4 file instead of H.264 is reported (status cameraError H264_NOT_ANNEXB) and the
//   device exits 10 after the bound, naming the code and its remedy on stderr.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAMERA_NO_FRAME_MS } from '../../firmware/app/CameraUploader.ts';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest, type BoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { decodedFrameCount, FIXTURES, ROOT, tempDir, tool } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { distinctTimestamps, getMedia } from './storedMedia.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';
import { loopedClip } from './loopedClip.ts';

const test = suite('pi-zero-w under QEMU: a camera pipe paused, flooded and cut; a camera that is not H.264');
const tmp = tempDir('fieldcam-camera-faults-');
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
const BYTES = readFileSync(GOP10);
const { framesFed, midFrameAfter } = loopedClip(BYTES);

let image: ImageManifest;
let cloud: RunningCloud;

test.after(async () => {
  await cloud?.close();
  tmp.remove();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function config(name: string, board: BoardManifest): string {
  const path = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(path, {
    board,
    streamName: name,
    ...localCloudTarget(cloud),
    codec: 'h264',
    live: true,
    recorded: false,
    createRetentionHours: 24,
    statusIntervalMs: 500,
  });
  return path;
}

test.before(async () => {
  // build the pi-zero-w image; start the local cloud
  image = await buildImage(loadBoardManifest('pi-zero-w'), { typecheck: false });
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
});

test('paused 4 s, flooded with 3 s of video while ACKs are held back, cut mid-frame: fed = stored + dropped by reason', async () => {
  const manifest = loadBoardManifest('pi-zero-w');
  // A small pool (about 5 slots of 8 KiB, 26 frame records): held-back ACKs fill it with frames on the wire.
  const board = { ...manifest, pool: { bitrateKbps: 64, bufferSeconds: 2, fps: 10, maxFrameBytes: 8192 } };
  const name = 'camera-faults';
  const records: Record<string, unknown>[] = [];
  const booted = bootBoard({
    image: { dir: imageDir('pi-zero-w'), runtimeFlags: image.runtimeFlags, qemuCpu: image.qemuCpu! },
    config: config(name, board),
    video: GOP10,
    loop: true,
    bytesPerSecond: BYTES.length / 10,
    onRecord: (r) => records.push(r),
    cwd: ROOT,
  });
  const guard = setTimeout(() => booted.child.kill('SIGKILL'), 120_000);
  const PAUSE_MS = 4000;
  await sleep(3000);
  booted.camera.pause();
  await sleep(PAUSE_MS);
  booted.camera.resume();
  await sleep(2000);
  cloud.ctx.faults.ackDelayMs = 5000;
  booted.camera.flood(Math.round(BYTES.length * 0.3));
  await sleep(4000);
  cloud.ctx.faults.ackDelayMs = 0;
  await sleep(2000);
  booted.camera.cutAt(midFrameAfter(booted.camera.written));
  await booted.camera.ended;
  const written = booted.camera.written;
  const { code, stderr } = await booted.exited;
  clearTimeout(guard);
  assert.is(code, DEVICE_EXIT.OK, `${stderr}\n${JSON.stringify(records.filter((r) => r.type !== 'status'))}`);
  const summary = records.find((r) => r.type === 'summary')!;
  assert.ok(summary, 'a summary line');
  const drops = (summary.drops ?? {}) as Record<string, number>;
  const dropped = Number(summary.framesDropped);
  const out = await getMedia(cloud, name, tmp.dir);
  const stored = decodedFrameCount(out);
  const fed = framesFed(written);
  process.stdout.write(
    `\n# fed ${fed} stored ${stored} dropped ${dropped} ${JSON.stringify(drops)}\n# ${JSON.stringify(summary)}\n# ${JSON.stringify(records.filter((r) => r.type === 'event'))}\n`,
  );
  assert.is(fed, stored + dropped, `fed ${fed} = stored ${stored} + dropped ${dropped} ${JSON.stringify(drops)}`);
  assert.is(
    Object.values(drops).reduce((x, y) => x + y, 0),
    dropped,
    'framesDropped is the sum of the reasons',
  );
  assert.is(drops.truncated, 1, 'the cut frame is counted, not stored');
  assert.ok(drops.poolFull! > 0, `the pool overflowed: ${JSON.stringify(drops)}`);
  // Every frame decodes cleanly. (Capture-clock timestamps are not on the fixed 10 fps grid ffmpeg's null muxer
  // rounds to, so ffprobe, which decodes every frame and only reports decoding problems, is the judge here.)
  const probe = tool('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', out]);
  assert.is(probe.stderr.trim(), '', 'no truncated frame was stored');
  assert.is(probe.status, 0);
  // The pause is in the producer timestamps: one fragment spans it (the camera stopped mid-GOP).
  const ts = distinctTimestamps(cloud, name);
  let widest = 0;
  for (let i = 1; i < ts.length; i++) widest = Math.max(widest, ts[i]! - ts[i - 1]!);
  assert.ok(widest >= PAUSE_MS - 1000, `a ${PAUSE_MS} ms pause shows between fragment timestamps (widest gap ${widest} ms): ${JSON.stringify(ts)}`);
});

test('an MP4 file on the camera pipe: status names H264_NOT_ANNEXB, then exit 10 with the code and remedy on stderr', async () => {
  const mp4 = join(tmp.dir, 'camera.mp4');
  const r = tool('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-framerate', '10', '-i', GOP10, '-c', 'copy', mp4]);
  assert.is(r.status, 0, r.stderr);
  // Device time runs 20× faster, so the bound (CAMERA_NO_FRAME_MS) passes in about a second.
  const scale = 20;
  const records: Record<string, unknown>[] = [];
  const booted = bootBoard({
    image: { dir: imageDir('pi-zero-w'), runtimeFlags: [...image.runtimeFlags, '--time-scale', String(scale)], qemuCpu: image.qemuCpu! },
    config: config('not-h264', loadBoardManifest('pi-zero-w')),
    video: mp4,
    loop: true,
    bytesPerSecond: readFileSync(mp4).length / 10,
    rate: scale,
    onRecord: (rec) => records.push(rec),
    cwd: ROOT,
  });
  const guard = setTimeout(() => booted.child.kill('SIGKILL'), 60_000);
  const { code, stderr } = await booted.exited;
  clearTimeout(guard);
  assert.is(code, DEVICE_EXIT.CAMERA, stderr);
  assert.ok(
    records.some((rec) => rec.type === 'status' && rec.cameraError === 'H264_NOT_ANNEXB'),
    'a status line names the problem',
  );
  const error = records.find((rec) => rec.type === 'error');
  assert.is(error?.code, 'H264_NOT_ANNEXB');
  assert.ok(/exit 10: H264_NOT_ANNEXB: .*remedy: .*h264_mp4toannexb/.test(stderr), stderr);
  assert.ok(CAMERA_NO_FRAME_MS > 0);
  writeFileSync(join(tmp.dir, 'records.json'), JSON.stringify(records));
});

test.run();
