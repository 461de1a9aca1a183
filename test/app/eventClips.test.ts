// Event recording end to end on the Node board against the local KVS (issue 15, event clips): a camera pipe fed in
// two halves, an event written as a line to the device's local trigger FIFO in between. Judged from what was stored:
// one clip from the key frame before the pre-roll to the fragment open at the end of the post window, with the frames'
// original timestamps (ffprobe on GetMedia), the event's tags on every clip fragment (the local KVS's records and
// mkvinfo on the stored bytes), nothing else uploaded, and every other frame counted as dropped `outsideEvent`.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_EXIT, runDevice } from '../../firmware/app/runDevice.ts';
import { nodeBoard } from '../../firmware/boards/node/nodeBoard.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { accessUnitStarts } from '../firmware/core/media/liveKit.ts';
import { decodedFrameCount, decodeErrors, FIXTURES, framePts, ROOT, tempDir, tool, until } from '../e2e/tools.ts';
import { getMedia } from '../device/storedMedia.ts';
import { assert, suite } from '../harness/index.ts';
import { localCloudTarget } from '../../sim/cloud/localCloudTarget.ts';

const test = suite('event clips on the Node board (local KVS, local trigger FIFO)');
const tmp = tempDir('fieldcam-events-');
const GOP10 = new Uint8Array(readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'))); // 100 AUs, 10 fps, IDR every 10
const STARTS = accessUnitStarts(GOP10);
const T0 = Math.floor(Date.now() / 1000) * 1000 - 600_000;
let cloud: RunningCloud;

test.before(async () => {
  // start the local cloud
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
});

interface EventDevice {
  /** The device's output lines, parsed. */
  readonly records: Record<string, unknown>[];
  /** Its exit code, once the camera pipe ends. */
  readonly running: Promise<number>;
  /** The camera pipe's writing end (this test is the camera). */
  readonly writeFd: number;
  readonly trigger: string;
}

/**
 * A device in event mode on pi-zero-w's board, its camera a FIFO this test writes, pinned to T0; resolves once its
 * trigger FIFO is open. `nonBlocking`: the camera writes may return EAGAIN (feeds larger than the pipe yield to the device).
 */
async function startEventDevice(
  name: string,
  o: { preRollMs: number; postMs: number; statusIntervalMs: number; segmentUid: string; nonBlocking?: boolean },
): Promise<EventDevice> {
  const camera = join(tmp.dir, `${name}-camera.fifo`);
  const trigger = join(tmp.dir, `${name}-trigger.fifo`);
  execFileSync('mkfifo', [camera]);
  const readFd = openSync(camera, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(camera, constants.O_WRONLY | (o.nonBlocking ? constants.O_NONBLOCK : 0));
  const config = join(tmp.dir, `${name}.json`);
  writeDeviceConfig(config, {
    board: loadBoardManifest('pi-zero-w'),
    streamName: name,
    ...localCloudTarget(cloud),
    codec: 'h264',
    live: false,
    cameraFd: readFd,
    createRetentionHours: 24,
    statusIntervalMs: o.statusIntervalMs,
    pin: { startTimeMs: T0, segmentUid: o.segmentUid },
    recording: { mode: 'event', preRollMs: o.preRollMs, postMs: o.postMs, trigger },
  });
  const records: Record<string, unknown>[] = [];
  const board = nodeBoard({ print: (line) => records.push(JSON.parse(line) as Record<string, unknown>), onStop: () => {} });
  const running = runDevice(board, config);
  await until('the trigger FIFO is open', () => records.some((r) => r.event === 'trigger-open'));
  return { records, running, writeFd, trigger };
}

/** Writes `text` to the trigger FIFO as a motion sensor's script would: open, write, close. */
function pullTrigger(trigger: string, text: string): void {
  const t = openSync(trigger, constants.O_WRONLY | constants.O_NONBLOCK);
  writeSync(t, text);
  closeSync(t);
}

test('an event mid-stream from the trigger FIFO: one clip with pre-roll, original timestamps and tags; the rest counted', async () => {
  const name = 'events-node';
  const { records, running, writeFd, trigger } = await startEventDevice(name, {
    preRollMs: 3000,
    postMs: 2000,
    statusIntervalMs: 100,
    segmentUid: '0123456789abcdef0123456789abcdef',
  });
  assert.is(records[0]!.recording, 'event');
  writeSync(writeFd, GOP10.subarray(0, STARTS[56]));
  await until('55 frames queued', () => records.some((r) => r.type === 'status' && (r.framesIn as number) >= 55));
  // A bad line first: refused by name, nothing happens.
  pullTrigger(trigger, 'motion\npre=3s post=2s motion=front zone=3\n');
  await until('the clip line', () => records.some((r) => r.event === 'clip'));
  writeSync(writeFd, GOP10.subarray(STARTS[56]));
  closeSync(writeFd);
  const code = await running;

  const summary = records.find((r) => r.type === 'summary')!;
  assert.is(code, DEVICE_EXIT.OK, JSON.stringify(records.filter((r) => r.type !== 'status')));
  assert.equal(
    records.filter((r) => r.event === 'trigger-refused').map((r) => r.code),
    ['EVENT_LINE_INVALID'],
  );
  const clip = records.find((r) => r.event === 'clip')!;
  const at = T0 + 5500; // the end of frame 54, the newest queued when the line came
  assert.is(clip.at, at);
  assert.is(clip.from, at - 3000);
  assert.is(clip.clip, at);
  // Fed = stored + dropped: frames 20..79 stored (fragments 2.0 s … 7.0 s), 40 counted outsideEvent.
  assert.is(summary.framesIn, 100);
  assert.is(summary.framesDropped, 40);
  assert.is((summary.drops as Record<string, number>).outsideEvent, 40);
  assert.is(summary.fragmentsPersisted, 6);

  const stored = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(name)!).list();
  assert.equal(
    [...new Set(stored.map((f) => f.producerTimestampMs))].sort((a, b) => a - b),
    [2000, 3000, 4000, 5000, 6000, 7000].map((ms) => T0 + ms),
  );
  for (const f of stored) {
    const tags = Object.fromEntries(f.tags);
    assert.equal(tags, { ...tags, FIELDCAM_CLIP: String(at), FIELDCAM_EVENTS: '1', motion: 'front', zone: '3' }, `fragment ${f.producerTimestampMs}`);
  }
  // mkvtoolnix reads the tags from the stored bytes (header + fragment), not our parser.
  const store = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(name)!);
  const first = join(tmp.dir, 'first-fragment.mkv');
  writeFileSync(first, Buffer.concat([store.readHeader(stored[0]!.header), store.readFragment(stored[0]!)]));
  const info = tool('mkvinfo', ['-a', first]).stdout;
  for (const needle of ['Name: FIELDCAM_CLIP', `String: ${at}`, 'Name: motion', 'String: front', 'Name: zone'])
    assert.ok(info.includes(needle), `mkvinfo: ${needle}`);

  // GetMedia decodes to exactly the clip's 60 frames, at their original times: frame i at T0 + 100 i ms.
  const media = await getMedia(cloud, name, tmp.dir);
  assert.is(decodeErrors(media), '');
  assert.is(decodedFrameCount(media), 60);
  const pts = framePts(media);
  assert.is(pts.length, 60);
  for (let i = 0; i < 60; i++) assert.ok(Math.abs(pts[i]! * 1000 - (T0 + (20 + i) * 100)) < 0.5, `frame ${i}: ${pts[i]}`);
});

/** The CLI against the in-process cloud (asynchronously: this process serves it). */
function cli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), ...args, '--endpoint-url', cloud.endpoint, '--region', 'us-east-1'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: tmp.dir,
        AWS_CA_BUNDLE: cloud.caFile,
        AWS_ACCESS_KEY_ID: EXAMPLE_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: EXAMPLE_SECRET_ACCESS_KEY,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('overlapping events merge into one clip, a later one makes another; fieldcam clips lists both from fragment metadata', async () => {
  const name = 'events-merge';
  const { records, running, writeFd, trigger } = await startEventDevice(name, {
    preRollMs: 2000,
    postMs: 1000,
    statusIntervalMs: 50,
    segmentUid: '0123456789abcdef0123456789abcdee',
  });
  const clipsSeen = () => records.filter((r) => r.event === 'clip').length;
  const eventAt = async (frames: number, line: string) => {
    await until(`${frames - 1} frames queued`, () => records.some((r) => r.type === 'status' && (r.framesIn as number) >= frames - 1));
    const before = clipsSeen();
    pullTrigger(trigger, `${line}\n`);
    await until('the clip line', () => clipsSeen() > before);
  };
  writeSync(writeFd, GOP10.subarray(0, STARTS[31]));
  await eventAt(31, 'door=open'); // at 3.0 s: window 1.0 s → 4.0 s
  writeSync(writeFd, GOP10.subarray(STARTS[31], STARTS[46]));
  await eventAt(46, 'person=yes'); // at 4.5 s: its pre-roll (2.5 s) reaches into the open window: merged, now → 5.5 s
  writeSync(writeFd, GOP10.subarray(STARTS[46], STARTS[86]));
  await eventAt(86, 'pre=1s post=500ms car=red'); // at 8.5 s: 7.5 s → 9.0 s, a clip of its own
  writeSync(writeFd, GOP10.subarray(STARTS[86]));
  closeSync(writeFd);
  assert.is(await running, DEVICE_EXIT.OK);
  const clips = records.filter((r) => r.event === 'clip');
  assert.equal(
    clips.map((c) => c.merged),
    [false, true, false],
  );
  const summary = records.find((r) => r.type === 'summary')!;
  assert.is((summary.drops as Record<string, number>).outsideEvent, 30);
  assert.is(summary.framesDropped, 30);

  const listed = await cli(['clips', '--stream', name, '--json']);
  assert.is(listed.code, 0, listed.stderr);
  const got = JSON.parse(listed.stdout) as Record<string, unknown>[];
  assert.equal(
    got.map((c) => ({ id: c.id, startMs: c.startMs, endMs: c.endMs, fragments: c.fragments, events: c.events, tags: c.tags })),
    [
      { id: String(T0 + 3000), startMs: T0 + 1000, endMs: T0 + 6000, fragments: 5, events: 2, tags: { door: 'open', person: 'yes' } },
      { id: String(T0 + 8500), startMs: T0 + 7000, endMs: T0 + 9000, fragments: 2, events: 1, tags: { car: 'red' } },
    ],
  );
  const table = await cli(['clips', '--stream', name]);
  assert.is(table.code, 0, table.stderr);
  assert.ok(
    table.stdout.includes('door=open person=yes') && table.stdout.includes('car=red') && /2 clip\(s\) in 7 fragment\(s\)/.test(table.stdout),
    table.stdout,
  );
  const help = await cli(['clips', '--help']);
  assert.ok(help.code === 0 && help.stdout.includes('usage: fieldcam clips --stream'), help.stdout + help.stderr);
});

test('issue 15 at scale: 10 s pre-roll, 20 s post → one 30 s clip; an overlapping event merges; the gaps are not uploaded', async () => {
  // 100 s of video (the fixture 10 times: 1000 frames, fragments of 1 s), fed in pieces with trigger lines in between.
  const LOOPS = 10;
  const video = new Uint8Array(GOP10.length * LOOPS);
  for (let i = 0; i < LOOPS; i++) video.set(GOP10, i * GOP10.length);
  const starts: number[] = [];
  for (let i = 0; i < LOOPS; i++) for (const s0 of STARTS) starts.push(i * GOP10.length + s0);
  const name = 'events-scale';
  // Non-blocking: the device reads in this process, so a write larger than the pipe must yield to it.
  const { records, running, writeFd, trigger } = await startEventDevice(name, {
    preRollMs: 10_000,
    postMs: 20_000,
    statusIntervalMs: 50,
    segmentUid: '0123456789abcdef0123456789abcded',
    nonBlocking: true,
  });
  let fed = 0;
  const feedTo = async (frames: number) => {
    let at = starts[fed]!;
    const end = frames >= starts.length ? video.length : starts[frames]!;
    while (at < end) {
      try {
        at += writeSync(writeFd, video, at, end - at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        await new Promise((resume) => setTimeout(resume, 2));
      }
    }
    fed = frames;
  };
  const eventAfter = async (frames: number, line: string) => {
    await feedTo(frames + 1); // frames 0..frames-1 queued once the next one starts
    await until(`${frames} frames queued`, () => records.some((r) => r.type === 'status' && (r.framesIn as number) >= frames));
    const before = records.filter((r) => r.event === 'clip').length;
    pullTrigger(trigger, `${line}\n`);
    await until('the clip line', () => records.filter((r) => r.event === 'clip').length > before);
  };
  await eventAfter(200, 'motion=front'); // at 20 s: 10 s → 40 s
  await eventAfter(350, 'person=yes'); // at 35 s: its pre-roll (25 s) is inside the window: merged, → 55 s
  await eventAfter(700, 'motion=back'); // at 70 s: 60 s → 90 s, a clip of its own (its pre-roll starts after 55 s)
  await feedTo(starts.length);
  closeSync(writeFd);
  assert.is(await running, DEVICE_EXIT.OK);
  const clips = records.filter((r) => r.event === 'clip');
  assert.equal(
    clips.map((c) => [c.at, c.merged, c.from, c.to]),
    [
      [T0 + 20_000, false, T0 + 10_000, T0 + 40_000],
      [T0 + 35_000, true, T0 + 10_000, T0 + 55_000],
      [T0 + 70_000, false, T0 + 60_000, T0 + 90_000],
    ],
  );
  const summary = records.find((r) => r.type === 'summary')!;
  // Status lines: before the first event the pool held the 10 s pre-roll and no clip was open; while the merged clip's
  // window was open they named it and the post time left; at the end, three events, two clips, 75 fragments admitted.
  const status = records.filter((r) => r.type === 'status');
  assert.ok(
    status.some((r) => r.events === 0 && r.preRollMs === 10_000 && (r.preRollFillMs as number) >= 9000 && r.openClip === 0),
    'pre-roll held before the first event',
  );
  assert.ok(
    status.some((r) => r.openClip === clips[0]!.clip && (r.postRemainingMs as number) > 0 && (r.postRemainingMs as number) <= 20_000),
    'the open clip and its post time left',
  );
  assert.equal([summary.events, summary.clips, summary.fragmentsAdmitted, summary.openClip, summary.postRemainingMs], [3, 2, 75, 0, 0]);
  // Stored: frames 100..549 (the merged clip, 45 s) and 600..899 (30 s); dropped as outsideEvent: 0..99, 550..599, 900..999.
  assert.is(summary.framesIn, 1000);
  assert.is((summary.drops as Record<string, number>).outsideEvent, 250);
  assert.is(summary.framesDropped, 250);
  const stored = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(name)!).list();
  const fragmentStarts = [...new Set(stored.map((f) => f.producerTimestampMs - T0))].sort((a, b) => a - b);
  assert.equal(fragmentStarts, [...Array.from({ length: 45 }, (_, i) => 10_000 + 1000 * i), ...Array.from({ length: 30 }, (_, i) => 60_000 + 1000 * i)]);
  // The lone event's clip: exactly 30 fragments, 60 s → 90 s, each tagged with its clip and the event's tag.
  const lone = stored.filter((f) => f.producerTimestampMs >= T0 + 60_000);
  assert.is(new Set(lone.map((f) => f.producerTimestampMs)).size, 30);
  for (const f of lone) {
    const tags = Object.fromEntries(f.tags);
    assert.equal([tags.FIELDCAM_CLIP, tags.FIELDCAM_EVENTS, tags.motion], [String(clips[2]!.clip), '1', 'back'], `fragment at ${f.producerTimestampMs - T0}`);
  }
  const media = await getMedia(cloud, name, tmp.dir);
  assert.is(decodeErrors(media), '');
  assert.is(decodedFrameCount(media), 750);
  // Original timestamps: frame i was fed at T0 + 100 i, and that is where GetMedia puts it.
  const pts = framePts(media).map((p) => Math.round(p * 1000) - T0);
  assert.equal(pts, [...Array.from({ length: 450 }, (_, i) => 10_000 + 100 * i), ...Array.from({ length: 300 }, (_, i) => 60_000 + 100 * i)]);
  const listed = await cli(['clips', '--stream', name, '--json']);
  assert.is(listed.code, 0, listed.stderr);
  assert.equal(
    (JSON.parse(listed.stdout) as Record<string, unknown>[]).map((c) => [Number(c.startMs) - T0, Number(c.endMs) - T0, c.fragments, c.events, c.tags]),
    [
      [10_000, 55_000, 45, 2, { motion: 'front', person: 'yes' }],
      [60_000, 90_000, 30, 1, { motion: 'back' }],
    ],
  );
});

test.after(async () => {
  // stop the cloud
  await cloud.close();
  tmp.remove();
});

test.run();
