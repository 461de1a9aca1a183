// Event clips through the spool (issue 15): an event recorded during an outage from boot. The Node board against the
// local KVS, which is down when the device boots; the camera pipe is fed in two halves with an event on the local
// trigger FIFO in between, and the cloud comes up only after the event. The clip's fragments were complete before
// the first PERSISTED, so they went to the spool (docs/spool.md) and were drained from it. Judged from what was
// stored: the same clip as without an outage (test/app/eventClips.test.ts), every fragment with the event's tags in
// the local KVS's records and in the stored bytes (mkvinfo), original timestamps, and the spool empty.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { getMedia } from '../device/storedMedia.ts';
import { decodedFrameCount, decodeErrors, FIXTURES, framePts, tempDir, tool } from '../e2e/tools.ts';
import { accessUnitStarts } from '../firmware/core/media/liveKit.ts';
import { assert, suite } from '../harness/index.ts';

const test = suite('event clips through the spool on the Node board: an event during an outage from boot');
const tmp = tempDir('fieldcam-events-spool-');
const GOP10 = new Uint8Array(readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'))); // 100 AUs, 10 fps, IDR every 10
const STARTS = accessUnitStarts(GOP10);
const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;

function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`not within ${ms} ms: ${what}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

test.after(() => tmp.remove());

test('a clip recorded while the cloud is down is spooled and goes up with its tags and original timestamps', async () => {
  const name = 'events-spool';
  const stateDir = join(tmp.dir, 'cloud');
  let cloud: RunningCloud = await startCloud({ stateDir, port: 0, routes: [...mediaRoutes] });
  const url = new URL(cloud.endpoint);
  const port = Number(url.port);
  const caFile = cloud.caFile;
  await cloud.close(); // down when the device boots
  const camera = join(tmp.dir, 'camera.fifo');
  const trigger = join(tmp.dir, 'trigger.fifo');
  execFileSync('mkfifo', [camera]);
  const readFd = openSync(camera, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(camera, constants.O_WRONLY);
  const spoolDir = join(tmp.dir, 'spool');
  const config = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: name,
    region: 'us-east-1',
    endpoint: { host: url.hostname, port, caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: false,
    cameraFd: readFd,
    createRetentionHours: 24,
    statusIntervalMs: 100,
    pin: { startTimeMs: T0, segmentUid: '0123456789abcdef0123456789abcdef' },
    recording: { mode: 'event', preRollMs: 3000, postMs: 2000, trigger },
    spool: { dir: spoolDir },
  });
  const records: Record<string, unknown>[] = [];
  const board = nodeBoard({ print: (line) => records.push(JSON.parse(line) as Record<string, unknown>), onStop: () => {} });
  const running = runDevice(board, config);
  let fed = false;
  try {
    await until('the trigger FIFO is open', () => records.some((r) => r.event === 'trigger-open'));
    writeSync(writeFd, GOP10.subarray(0, STARTS[56]));
    await until('55 frames queued', () => records.some((r) => r.type === 'status' && (r.framesIn as number) >= 55));
    const t = openSync(trigger, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(t, 'pre=3s post=2s motion=front zone=3\n');
    closeSync(t);
    await until('the clip line', () => records.some((r) => r.event === 'clip'));
    // The post window's frames: as each fragment starts, the clip's complete ones go to storage (nothing was ever
    // acknowledged, docs/spool.md).
    writeSync(writeFd, GOP10.subarray(STARTS[56], STARTS[80]));
    await until('clip fragments spooled', () => records.some((r) => r.type === 'status' && Number(r.spoolFragments) >= 5));
    cloud = await startCloud({ stateDir, port, routes: [...mediaRoutes] });
    writeSync(writeFd, GOP10.subarray(STARTS[80]));
    closeSync(writeFd);
    fed = true;
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the device did not end: ${JSON.stringify(records.filter((r) => r.type !== 'status').slice(-8))}`)), 60_000);
    });
    const code = await Promise.race([running, hung]).finally(() => clearTimeout(timer));
    const summary = records.find((r) => r.type === 'summary')!;
    assert.is(code, DEVICE_EXIT.OK, JSON.stringify(records.filter((r) => r.type !== 'status')));
    const clip = records.find((r) => r.event === 'clip')!;
    const at = T0 + 5500; // the end of frame 54, the newest queued when the line came
    assert.is(clip.clip, at);
    assert.ok(Number(summary.spoolFragmentsSpooled) >= 3, `spooled ${String(summary.spoolFragmentsSpooled)}`);
    assert.is(summary.spoolFragments, 0, 'the spool is empty');
    assert.equal(
      readdirSync(spoolDir).filter((n) => n.endsWith('.seg')),
      [],
      'its files are gone',
    );
    assert.is(summary.framesIn, 100);
    assert.is((summary.drops as Record<string, number>).outsideEvent, 40);
    assert.is(summary.framesDropped, 40);
    assert.is(summary.fragmentsPersisted, 6);

    const store = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(name)!);
    const stored = store.list();
    assert.equal(
      stored.map((f) => f.producerTimestampMs).sort((a, b) => a - b),
      [2000, 3000, 4000, 5000, 6000, 7000].map((ms) => T0 + ms),
      'each clip fragment once',
    );
    for (const f of stored) {
      const tags = Object.fromEntries(f.tags);
      assert.equal(tags, { ...tags, FIELDCAM_CLIP: String(at), FIELDCAM_EVENTS: '1', motion: 'front', zone: '3' }, `fragment ${f.producerTimestampMs}`);
    }
    // mkvtoolnix reads the tags from the stored bytes of the first (spooled) fragment, not our parser.
    const first = [...stored].sort((a, b) => a.producerTimestampMs - b.producerTimestampMs)[0]!;
    const file = join(tmp.dir, 'first-fragment.mkv');
    writeFileSync(file, Buffer.concat([store.readHeader(first.header), store.readFragment(first)]));
    const info = tool('mkvinfo', ['-a', file]).stdout;
    for (const needle of ['Name: FIELDCAM_CLIP', `String: ${at}`, 'Name: motion', 'String: front', 'Name: zone'])
      assert.ok(info.includes(needle), `mkvinfo: ${needle}`);
    const media = await getMedia(cloud, name, tmp.dir);
    assert.is(decodeErrors(media), '');
    assert.is(decodedFrameCount(media), 60);
    const pts = framePts(media);
    for (let i = 0; i < 60; i++) assert.ok(Math.abs(pts[i]! * 1000 - (T0 + (20 + i) * 100)) < 0.5, `frame ${i}: ${pts[i]}`);
  } finally {
    if (!fed) closeSync(writeFd); // the camera's end: the device stops (what it holds stays in the spool folder)
    await cloud.close();
  }
});

test.run();
