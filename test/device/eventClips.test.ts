// Event recording on the device as built (issue 15, event clips): the sim-x86 image (the firmware in XS, our C host)
// and the pi-zero-w image under `qemu-arm -cpu arm1176`, against the local KVS, its camera a real-time pipe, an event
// written mid-stream as a line to the local trigger FIFO
// the firmware created (firmware/runtime/input.c openFifo). Judged from what was stored, against the frames fed: one
// clip from the key frame at or before the pre-roll to the fragment open at the end of the post window, frames at
// their original timestamps (ffprobe on GetMedia), the event's tags on every clip fragment (the local KVS's records,
// mkvinfo on the stored bytes), and every frame outside the window counted as dropped `outsideEvent`.
import { constants, openSync, readFileSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT } from '../../firmware/app/runDevice.ts';
import { buildImage, imageDir, type ImageManifest } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { decodedFrameCount, decodeErrors, FIXTURES, framePts, ROOT, tempDir, tool, until } from '../e2e/tools.ts';
import { assert, suite } from '../harness/index.ts';
import { getMedia } from './storedMedia.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';

const test = suite('event clips on the sim-x86 (XS) and pi-zero-w (QEMU) images: trigger FIFO mid-stream, one clip with pre-roll and tags');
const BOARDS = ['sim-x86', 'pi-zero-w'] as const;
const tmp = tempDir('fieldcam-device-events-');
const GOP10 = join(FIXTURES, 'h264-320x240-10fps-gop10.h264'); // 100 AUs, 10 fps, an IDR every 10: fragments of 1 s
const BYTES = readFileSync(GOP10);
const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
const PRE_MS = 3000;
const POST_MS = 2000;
const images: Partial<Record<(typeof BOARDS)[number], ImageManifest>> = {};
let cloud: RunningCloud;

test.after(async () => {
  await cloud?.close();
  tmp.remove();
});

test.before(async () => {
  // build the images; start the local cloud
  for (const board of BOARDS) images[board] = await buildImage(loadBoardManifest(board), { typecheck: false });
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
});

for (const boardName of BOARDS)
  test(`${boardName}: an event line mid-stream: the stored clip is exactly the frames of its window, tagged, at their original times`, async () => {
    const image = images[boardName]!;
    const name = `events-${boardName}`;
    const trigger = join(tmp.dir, `${boardName}.fifo`);
    const config = join(tmp.dir, `${name}.json`);
    writeDeviceConfig(config, {
      board: loadBoardManifest(boardName),
      streamName: name,
      ...localCloudTarget(cloud),
      codec: 'h264',
      live: false,
      createRetentionHours: 24,
      statusIntervalMs: 100,
      pin: { startTimeMs: T0, segmentUid: 'fedcba9876543210fedcba9876543210' },
      recording: { mode: 'event', preRollMs: PRE_MS, postMs: POST_MS, trigger },
    });
    const records: Record<string, unknown>[] = [];
    const booted = bootBoard({
      image: { dir: imageDir(boardName), runtimeFlags: image.runtimeFlags, ...(image.qemuCpu ? { qemuCpu: image.qemuCpu } : {}) },
      config,
      video: GOP10,
      loop: false,
      bytesPerSecond: BYTES.length / 10,
      onRecord: (r) => records.push(r),
      cwd: ROOT,
    });
    const guard = setTimeout(() => booted.child.kill('SIGKILL'), 120_000);
    await until('the trigger FIFO is open', () => records.some((r) => r.event === 'trigger-open' || r.event === 'trigger-failed'));
    assert.ok(
      records.some((r) => r.event === 'trigger-open'),
      JSON.stringify(records.filter((r) => r.type !== 'status')),
    );
    await until('half the video queued', () => records.some((r) => r.type === 'status' && (r.framesIn as number) >= 45));
    const fd = openSync(trigger, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(fd, 'zone=gate pre=3s motion=front\n');
    closeSync(fd);
    await until('the clip line', () => records.some((r) => r.event === 'clip' || r.event === 'trigger-refused'));
    const { code, stderr } = await booted.exited;
    clearTimeout(guard);
    assert.is(code, DEVICE_EXIT.OK, `${stderr}\n${JSON.stringify(records.filter((r) => r.type !== 'status'))}`);
    const clip = records.find((r) => r.event === 'clip')!;
    assert.ok(clip, JSON.stringify(records.filter((r) => r.type === 'event')));
    const at = clip.at as number;
    assert.is(clip.clip, at);
    assert.is(clip.from, at - PRE_MS);
    assert.ok((at - T0) % 100 === 0 && at - T0 >= 4500 && at - T0 <= 9000, `the event at a frame boundary mid-stream: ${at - T0}`);

    // The window in frames (100 ms each, an IDR every 10): from the fragment holding at - pre to the one open at at + post.
    const first = Math.floor((at - PRE_MS - T0) / 1000) * 10;
    const lastStart = Math.ceil((at + POST_MS - T0) / 1000) * 10 - 10;
    const end = Math.min(lastStart + 10, 100);
    const frames = end - first;
    const summary = records.find((r) => r.type === 'summary')!;
    assert.is(summary.framesIn, 100);
    assert.is((summary.drops as Record<string, number>).outsideEvent, 100 - frames);
    assert.is(summary.framesDropped, 100 - frames);
    // The event fields of the status line, from the firmware in XS: one event, one clip, its fragments admitted, none open.
    assert.equal(
      [summary.events, summary.clips, summary.fragmentsAdmitted, summary.openClip, summary.postRemainingMs, summary.preRollMs],
      [1, 1, frames / 10, 0, 0, PRE_MS],
    );

    const store = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(name)!);
    const stored = store.list();
    const starts = [...new Set(stored.map((f) => f.producerTimestampMs))].sort((a, b) => a - b);
    assert.equal(
      starts,
      Array.from({ length: (end - first) / 10 }, (_, i) => T0 + (first + 10 * i) * 100),
    );
    for (const f of stored) {
      const tags = Object.fromEntries(f.tags);
      assert.equal(tags, { ...tags, FIELDCAM_CLIP: String(at), FIELDCAM_EVENTS: '1', zone: 'gate', motion: 'front' }, `fragment ${f.producerTimestampMs}`);
    }
    const one = join(tmp.dir, `${boardName}-fragment.mkv`);
    writeFileSync(one, Buffer.concat([store.readHeader(stored.at(-1)!.header), store.readFragment(stored.at(-1)!)]));
    const info = tool('mkvinfo', ['-a', one]).stdout;
    for (const needle of ['Name: FIELDCAM_CLIP', `String: ${at}`, 'Name: zone', 'String: gate', 'Name: motion'])
      assert.ok(info.includes(needle), `mkvinfo: ${needle}`);

    const media = await getMedia(cloud, name, tmp.dir);
    assert.is(decodeErrors(media), '');
    assert.is(decodedFrameCount(media), frames);
    const pts = framePts(media);
    assert.is(pts.length, frames);
    for (let i = 0; i < frames; i++) assert.ok(Math.abs(pts[i]! * 1000 - (T0 + (first + i) * 100)) < 0.5, `frame ${first + i}: ${pts[i]}`);
  });

test.run();
