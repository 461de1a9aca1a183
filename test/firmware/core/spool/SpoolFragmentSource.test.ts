// SpoolFragmentSource on hand-driven time (FakeTime) with the real PutMediaSession against the fake KVS of the
// session suite, on the board's real storage (node:fs under Node; the C host's natives inside XS and under
// qemu-arm). A live 10 fps camera (a real H.264 fixture through FrameInput) into a pool of ~3 s:
// - an outage longer than the pool, from boot: every fragment is stored exactly once, in timecode order, and the
//   spool is empty, its segment files gone;
// - fragments go to the spool from boot until the first PERSISTED even when the pool has room;
// - the drain is paced to the configured rate (fake time), live frames behind it;
// - past the size cap the oldest whole fragments are dropped and counted (`spoolFull`), never half a fragment;
// - a reboot (the source abandoned without a stop: a power cut) with a spool: the next boot sends what was left
//   first, then its own frames, each fragment once; a cut mid-drain costs no fragment;
// - a camera with audio (G.711 A-law packets in the same pool and queue): an outage spools and drains every video
//   frame and audio packet once, both tracks in every fragment, in timecode order per track; also when the
//   microphone lags the camera by 300 ms (a boot-phase fragment waits for its audio: no packet dropped noFragment);
// - event clip tags: a spooled fragment goes up with the tags the live path gave it, after a power cut too.
import { AudioInput } from '../../../../firmware/core/audio/AudioInput.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import type { FragmentQueue } from '../../../../firmware/core/pool/FragmentQueue.ts';
import { KvsControlClient } from '../../../../firmware/core/kvs/KvsControlClient.ts';
import { PutMediaSession } from '../../../../firmware/core/kvs/PutMediaSession.ts';
import { FrameInput } from '../../../../firmware/core/media/FrameInput.ts';
import { ServerClock } from '../../../../firmware/core/net/ServerClock.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { SpoolFragmentSource } from '../../../../firmware/core/spool/SpoolFragmentSource.ts';
import { SpoolLog } from '../../../../firmware/core/spool/SpoolLog.ts';
import { assert, boardByteScan, boardStorage, fixture, suite } from '../../../harness/index.ts';
import { FakeTime } from '../../../harness/support.ts';
import { softHash } from '../sigv4/softHash.ts';
import { FakeKvs } from '../kvs/sessionKit.ts';
import { accessUnitStarts, readLive, type Reads } from '../media/liveKit.ts';

const test = suite('SpoolFragmentSource on FakeTime: outage beyond the pool, boot spooling, drain rate, cap, reboot');

const GOP10 = fixture('h264-320x240-10fps-gop10.h264'); // 100 AUs, 10 fps, an IDR every 10: 10 fragments of 1 s
const STARTS = accessUnitStarts(GOP10);
const ALAW = fixture('alaw-8khz-mono-10s.alaw'); // 8 kHz mono: 160-byte packets of 20 ms
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

let dirs = 0;
function freshDir(): string {
  const { port, scratch } = boardStorage();
  const dir = `${scratch}/spool-source-${dirs++}`;
  port.makeDirectory(dir);
  return dir;
}

function segments(dir: string): string[] {
  return boardStorage()
    .port.list(dir)
    .filter((n) => n.endsWith('.seg'));
}

interface SpoolRigOptions {
  readonly dir: string;
  /** The board's wall clock at boot (a later boot starts later). */
  readonly wall?: number;
  readonly maxBytes?: number;
  readonly drainKbps?: number;
  readonly down?: boolean;
  /** Monotonic ms at boot (the fake service's clock is 2025-01-01 plus this). */
  readonly startMono?: number;
  /** A microphone: G.711 A-law, 8 kHz mono, in the same pool (fed 100 ms with each frame). */
  readonly audio?: boolean;
  /**
   * The microphone lags the camera: each 100 ms of audio comes 300 ms late, so a fragment's last audio arrives after
   * its successor's key frame was queued (the reader queues a frame once the next one starts: 100 ms after its read).
   */
  readonly audioLag?: boolean;
  /** Live fragments carry these tags (an event clip's, as EventGate.tagsFor gives them); absent: none. */
  readonly tags?: (start: Frame) => Uint8Array | undefined;
}

interface Rig {
  readonly time: FakeTime;
  readonly kvs: FakeKvs;
  readonly pool: FramePool;
  readonly input: FrameInput;
  readonly spool: SpoolFragmentSource;
  readonly session: PutMediaSession;
  readonly audio: AudioInput | undefined;
  readonly audioLag: boolean;
  /** Every frame and packet handed to the connection, in order (track, pts). */
  readonly sent: { track: number; pts: number; fragmentStart: boolean }[];
  /** The tags the session wrote before each fragment it started, by its timecode (the last time it was sent). */
  readonly tagsSent: Map<number, number[]>;
  fed: number;
}

function rig(o: SpoolRigOptions): Rig {
  const time = new FakeTime(o.wall);
  time.mono = o.startMono ?? 0;
  const kvs = new FakeKvs(time);
  kvs.down = o.down ?? false;
  const clock = new ServerClock(time);
  // ~3 s of this camera: an outage of more than that must spill to the spool.
  // With audio (8 KB/s more, 50 packets a second) the pool still holds ~3 s.
  const pool = o.audio ? new FramePool({ slotCount: 6, slotBytes: 8192, maxFrames: 256 }) : new FramePool({ slotCount: 3, slotBytes: 8192, maxFrames: 64 });
  let audio: AudioInput | undefined;
  const scan = boardByteScan();
  let session: PutMediaSession;
  let spool: SpoolFragmentSource;
  const input = new FrameInput({
    codec: 'h264',
    pool,
    fps: { num: 10, den: 1 },
    fragmentMs: 1000,
    maxFragmentMs: 10_000,
    startTimecode: time.now(),
    strict: false,
    capture: { monotonicAtStart: 0 },
    overflowBytes: 4096,
    ...(scan ? { byteScan: scan } : {}),
    onQueued: (frame) => {
      audio?.videoQueued();
      spool.frameQueued(frame);
      session.framesQueued();
    },
  });
  audio = o.audio
    ? new AudioInput({ codec: 'alaw', pool, queue: input.queue, sampleRate: 8000, channels: 1, startTimecode: time.now(), capture: { monotonicAtStart: 0 } })
    : undefined;
  const storage = boardStorage().port;
  const log = new SpoolLog({ storage, dir: o.dir, segmentBytes: 16 * 1024, maxRecords: 256, maxRecordBytes: 64 * 1024 });
  spool = new SpoolFragmentSource({
    input,
    pool,
    log,
    storage,
    dir: o.dir,
    clock,
    timers: time,
    maxBytes: o.maxBytes ?? 1 << 20,
    minFreeBytes: 0,
    drainBytesPerSecond: (o.drainKbps ?? 10_000) * 125,
    maxFramesPerFragment: o.audio ? 96 : 32,
    maxVideoFramesPerFragment: 32, // with audio, 64 more entries without NAL tables
    nalsPerFrame: 32,
    maxFrameBytes: 8192, // the pool's slot: a fragment is read back a window of frames at a time, never whole
    ...(audio ? { audio } : {}),
    ...(o.tags ? { fragmentTags: o.tags } : {}),
    onReady: () => session.framesQueued(),
  });
  const target = { host: 'kvs.test', port: 8080 };
  const credentials = () => CREDENTIALS;
  const control = new KvsControlClient({
    sockets: kvs.sockets,
    timers: time,
    hash: softHash,
    clock,
    region: 'us-east-1',
    target,
    credentials,
    userAgent: 'test',
  });
  const sent: Rig['sent'] = [];
  const markSent = spool.markSent.bind(spool);
  // What went to the connection, in order: the spool's one decoded frame record is reused, so its fields are copied.
  spool.markSent = (frame: Frame) => {
    sent.push({ track: frame.track, pts: frame.pts, fragmentStart: frame.fragmentStart });
    markSent(frame);
  };
  const tagsSent = new Map<number, number[]>();
  session = new PutMediaSession({
    // As CameraUploader wires it: a spooled fragment's tags from its record, a live one's from the gate.
    fragmentTags: (start) => {
      const tags = spool.fragmentTags(start);
      tagsSent.set(start.pts, tags ? Array.from(tags) : []);
      return tags;
    },
    source: spool,
    control,
    sockets: kvs.sockets,
    timers: time,
    hash: softHash,
    clock,
    region: 'us-east-1',
    streamName: 'cam',
    credentials,
    maxFragmentMs: 10_000,
    endOfFragment: true,
    backoff: { initialMs: 200, maxMs: 2000 },
    random: () => 0.5,
    userAgent: 'test',
    maxLatencyMs: 20_000,
  });
  spool.start();
  session.start();
  return { time, kvs, pool, input, spool, session, audio, audioLag: o.audioLag ?? false, sent, tagsSent, fed: 0 };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await null;
}

async function run(r: Rig, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    r.time.advance(step);
    await settle();
  }
}

/** Feeds access units [from, to) of the fixture (looped: `loop` adds 100 per pass), one every 100 ms. */
async function feed(r: Rig, count: number): Promise<void> {
  const reads: Reads = { reads: 0, reclaimed: 0, overflowed: 0 };
  for (let k = 0; k < count; k++) {
    const i = r.fed % STARTS.length;
    const end = i + 1 < STARTS.length ? STARTS[i + 1]! : GOP10.length;
    const at = r.time.monotonic();
    // 100 ms of audio: before its video, or (lagging) the 100 ms of three frames ago, after this frame.
    if (r.audio && !r.audioLag) feedAudio(r.audio, r.input.queue, (r.fed * 800) % (ALAW.length - 800), 800, at);
    readLive(r.input, GOP10, STARTS[i]!, end, at, 1 << 20, reads);
    if (r.audio && r.audioLag && r.fed >= 3) feedAudio(r.audio, r.input.queue, ((r.fed - 3) * 800) % (ALAW.length - 800), 800, at);
    r.fed++;
    await run(r, 100);
  }
}

/** `length` bytes of the A-law fixture from `from`, read as a live microphone would at `at`. */
function feedAudio(audio: AudioInput, queue: FragmentQueue, from: number, length: number, at: number): void {
  for (let done = 0; done < length; ) {
    let ready = audio.prepare();
    // A full pool gives up its oldest complete fragment (to the spool), as CameraUploader's audio read does.
    if (ready === PREPARE.POOL_EXHAUSTED && queue.reclaim()) ready = audio.prepare();
    if (ready !== PREPARE.OK) throw new Error(`the audio could not be read into the pool: ${ready}`);
    const n = Math.min(length - done, audio.targetSpace);
    audio.target.set(ALAW.subarray(from + done, from + done + n), audio.targetOffset);
    audio.push(n, at);
    done += n;
  }
}

async function stop(r: Rig): Promise<void> {
  r.input.end(false);
  r.audio?.end();
  r.spool.setPaced(false);
  r.session.framesQueued();
  let done = false;
  let failed: unknown;
  r.session.stop().then(
    () => (done = true),
    (err) => (failed = err),
  );
  for (let i = 0; i < 900 && !done && failed === undefined; i++) await run(r, 100);
  if (failed !== undefined) throw failed;
  assert.ok(done, 'stop() settled');
  r.spool.close();
}

/** Timecodes stored, in the order the service stored them first, and the copies of each. */
function storedInOrder(r: Rig): number[] {
  return [...r.kvs.stored.keys()];
}

function assertIncreasing(list: readonly number[], what: string): void {
  for (let i = 1; i < list.length; i++) assert.ok(list[i]! > list[i - 1]!, `${what}: ${list[i - 1]} then ${list[i]} (at ${i})`);
}

test('an outage from boot for 12 s with a 3 s pool: every fragment stored once, in order; the spool empties', async () => {
  const dir = freshDir();
  const r = rig({ dir, down: true });
  await feed(r, 120);
  assert.is(r.kvs.storedCount, 0, 'nothing reached the service during the outage');
  assert.ok(r.spool.stats.fragments >= 8, `the spool holds the outage: ${JSON.stringify(r.spool.stats)}`);
  assert.is(r.pool.drops.poolFull, 0, 'nothing dropped for a full pool');
  r.kvs.down = false;
  await feed(r, 80);
  await stop(r);
  const stored = storedInOrder(r);
  assert.is(stored.length, 20, `20 fragments stored: ${stored.join(',')}`);
  for (const [tc, copies] of r.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  assertIncreasing(stored, 'stored in timecode order');
  assert.is(
    r.session.stats.framesPersisted + r.pool.dropped,
    r.fed,
    `fed ${r.fed} = persisted ${r.session.stats.framesPersisted} + dropped ${JSON.stringify(r.pool.drops)}`,
  );
  assert.is(r.pool.dropped, r.pool.drops.truncated, `only the cut last frame is dropped: ${JSON.stringify(r.pool.drops)}`);
  assert.is(r.spool.stats.fragments, 0, 'the spool is empty');
  assert.is(r.spool.stats.bytes, 0);
  assert.equal(segments(dir), [], 'its segment files are gone');
  assert.is(r.time.timers, 0, 'no timer left armed');
});

test('from boot until the first PERSISTED every complete fragment goes to storage, even with room in the pool', async () => {
  const dir = freshDir();
  const r = rig({ dir, down: true });
  await feed(r, 25); // fragments 0 and 1 complete, 2 open: the pool (3 s) has room
  assert.is(r.pool.drops.poolFull, 0);
  assert.is(r.spool.stats.fragmentsSpooled, 2, `spooled before any acknowledgement: ${JSON.stringify(r.spool.stats)}`);
  assert.is(segments(dir).length > 0, true, 'on storage');
  r.kvs.down = false;
  await feed(r, 45);
  const spooledAfterConnect = r.spool.stats.fragmentsSpooled;
  await feed(r, 30);
  assert.is(r.spool.stats.fragmentsSpooled, spooledAfterConnect, 'after the first PERSISTED fragments stay in the pool');
  await stop(r);
  assert.is(r.kvs.stored.size, 10);
  assertIncreasing(storedInOrder(r), 'in order');
  for (const [tc, copies] of r.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
});

test('the drain is paced: a 10 s backlog at 4x the camera takes about 2.5 s more, live frames behind it', async () => {
  const dir = freshDir();
  // The fixture averages ~6.5 kbit/s a frame × 10 fps ≈ 65 kbit/s; 4x is 260 kbit/s.
  const r = rig({ dir, down: true, drainKbps: 260 });
  await feed(r, 100);
  const backlog = r.spool.stats.bytes;
  r.kvs.down = false;
  const startedAt = r.time.monotonic();
  let drainedAt = -1;
  for (let k = 0; k < 100 && drainedAt < 0; k++) {
    await feed(r, 1);
    if (r.spool.stats.fragments === 0) drainedAt = r.time.monotonic();
  }
  assert.ok(drainedAt > 0, 'the spool drained while the camera kept feeding');
  const ms = drainedAt - startedAt;
  const floor = (backlog * 8) / 260 - 1000; // the first second is a burst
  assert.ok(ms >= floor, `drained ${backlog} B in ${ms} ms of device time: not faster than the rate allows (${Math.round(floor)} ms)`);
  assert.ok(ms < 10_000, `faster than real time: ${ms} ms for a 10 s backlog`);
  await stop(r);
  assertIncreasing(storedInOrder(r), 'in order');
  for (const [tc, copies] of r.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  assert.is(r.session.stats.framesPersisted + r.pool.dropped, r.fed);
});

test('spool full: the oldest whole fragments are dropped and counted, the newest are stored whole', async () => {
  const dir = freshDir();
  const r = rig({ dir, down: true, maxBytes: 24 * 1024 }); // ~3 fragments of this camera
  await feed(r, 150);
  assert.ok(r.spool.stats.fragmentsDropped > 0, `dropped: ${JSON.stringify(r.spool.stats)}`);
  assert.ok(r.pool.drops.spoolFull > 0, 'counted by reason');
  assert.ok(r.spool.stats.bytes <= 24 * 1024, `under the cap: ${r.spool.stats.bytes}`);
  r.kvs.down = false;
  await feed(r, 20);
  await stop(r);
  const stored = storedInOrder(r);
  assertIncreasing(stored, 'in order');
  for (const [tc, copies] of r.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  // Whole fragments only: every frame is either persisted or counted dropped, and a dropped fragment's 10 frames go together.
  assert.is(r.session.stats.framesPersisted + r.pool.dropped, r.fed, `fed ${r.fed} = persisted + dropped ${JSON.stringify(r.pool.drops)}`);
  assert.is(r.pool.drops.spoolFull % 10, 0, `whole 10-frame fragments dropped: ${r.pool.drops.spoolFull}`);
  assert.equal(segments(dir), []);
});

test('a power cut with a spool, then a reboot: what was left goes first, then the new frames, each once', async () => {
  const dir = freshDir();
  const a = rig({ dir, down: true });
  await feed(a, 60);
  const left = a.spool.stats.fragments;
  assert.ok(left >= 3, `spooled: ${left}`);
  // Power cut: no stop, no close (the files stay as they are); the next boot's clock is 100 s later.
  const b = rig({ dir, wall: a.time.wall + 100_000 });
  assert.is(b.spool.stats.fragments, left, 'the next boot opens the spool with every complete fragment');
  await feed(b, 50);
  await stop(b);
  const stored = storedInOrder(b);
  assertIncreasing(stored, "the old boot's fragments first, in order");
  for (const [tc, copies] of b.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  assert.ok(stored.length >= left + 4, `${stored.length} fragments: ${left} from the spool and the new boot's`);
  assert.equal(segments(dir), []);
});

test('a power cut mid-drain: the next boot sends what was not PERSISTED; nothing is lost, at most one fragment twice', async () => {
  const dir = freshDir();
  const a = rig({ dir, down: true, drainKbps: 100 });
  await feed(a, 80);
  a.kvs.down = false;
  await feed(a, 15); // part of the backlog drains
  const persisted = a.kvs.stored.size;
  const spooled = a.spool.stats.fragments;
  assert.ok(persisted > 0 && spooled > 0, `mid-drain: ${persisted} stored, ${spooled} spooled`);
  const b = rig({ dir, wall: a.time.wall + 100_000 });
  assert.is(b.spool.stats.fragments, spooled, 'the next boot finds every fragment not yet PERSISTED');
  await feed(b, 30);
  await stop(b);
  const all = new Map<number, number>(a.kvs.stored);
  for (const [tc, n] of b.kvs.stored) all.set(tc, (all.get(tc) ?? 0) + n);
  let twice = 0;
  for (const n of all.values()) if (n > 1) twice++;
  assert.ok(twice <= 1, `at most one fragment stored twice: ${twice}`);
  // Nothing on storage was lost: what the first boot had persisted, what it had spooled, and the new boot's 3.
  assert.ok(all.size >= persisted + spooled + 3, `${all.size} fragments stored: ${persisted} before the cut + ${spooled} spooled + 3`);
  assertIncreasing(storedInOrder(b), 'the second boot in order');
  assert.equal(segments(dir), []);
});

test('a reboot whose clock is behind the spooled fragments: they go first on a connection of their own, each once', async () => {
  const dir = freshDir();
  const a = rig({ dir, startMono: 100_000 });
  await feed(a, 20);
  a.kvs.down = true;
  a.kvs.cut();
  await feed(a, 60); // the link is gone: the pool spills to the spool
  const left = a.spool.stats.fragments;
  assert.ok(left >= 3, `spooled: ${left}`);
  // Power cut. The next boot's true time (the fake service's clock restarts) is behind what was spooled.
  const b = rig({ dir });
  await feed(b, 30);
  await stop(b);
  for (const c of b.kvs.putMedia) assertIncreasing(c.fragments, 'fragment timecodes on one connection');
  for (const [tc, copies] of b.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  assert.ok(b.session.stats.connections >= 2, `a new connection after the earlier boot's fragments: ${b.session.stats.connections}`);
  assert.ok(b.kvs.stored.size >= left + 2, `${b.kvs.stored.size} stored: the ${left} spooled and the new boot's`);
  assert.equal(segments(dir), []);
});

test('a stop during an outage after the first PERSISTED: what the pool held goes to the spool, the next boot sends it', async () => {
  const dir = freshDir();
  const a = rig({ dir, startMono: 100_000 });
  await feed(a, 20);
  assert.ok(a.kvs.stored.size >= 1, 'the first PERSISTED ended the boot phase');
  a.kvs.down = true;
  a.kvs.cut();
  await feed(a, 25); // 2.5 s: the pool holds it, nothing spills
  const spooledBefore = a.spool.stats.fragmentsSpooled;
  a.input.end(false);
  a.session.framesQueued();
  let failed: unknown;
  a.session.stop().catch((err: unknown) => (failed = err));
  for (let i = 0; i < 400 && failed === undefined; i++) await run(a, 100);
  assert.ok(failed !== undefined, 'the stop gave up waiting for the last PERSISTED');
  const kept = a.spool.keepPool();
  assert.ok(kept >= 2, `the pool's fragments went to the spool: ${kept} (${spooledBefore} before)`);
  a.spool.close();
  const b = rig({ dir });
  await feed(b, 10);
  await stop(b);
  const persisted = a.session.stats.framesPersisted + b.session.stats.framesPersisted;
  const dropped = a.pool.dropped + b.pool.dropped;
  assert.is(
    persisted + dropped,
    a.fed + b.fed,
    `fed ${a.fed + b.fed} = persisted ${persisted} + dropped ${dropped} (${JSON.stringify(a.pool.drops)} ${JSON.stringify(b.pool.drops)})`,
  );
  assert.is(dropped, a.pool.drops.truncated + b.pool.drops.truncated, 'only the cut last frames');
  for (const [tc, copies] of b.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  assert.equal(segments(dir), []);
});

for (const audioLag of [false, true]) {
  const lags = audioLag ? ' whose microphone lags 300 ms' : '';
  test(`an audio camera${lags}: an outage spools and drains every frame and audio packet once, both tracks per fragment, in order`, async () => {
    await audioOutage(audioLag);
  });
}

async function audioOutage(audioLag: boolean): Promise<void> {
  const dir = freshDir();
  const r = rig({ dir, down: true, audio: true, audioLag });
  await feed(r, 120); // 12 s: four times the pool
  assert.is(r.kvs.storedCount, 0, 'nothing reached the service during the outage');
  assert.ok(r.spool.stats.fragments >= 8, `the spool holds the outage: ${JSON.stringify(r.spool.stats)}`);
  assert.is(r.spool.stats.fragmentsRefused, 0, 'the spool took every fragment, audio and all');
  assert.is(r.pool.drops.poolFull, 0, 'no video dropped for a full pool');
  r.kvs.down = false;
  await feed(r, 80);
  await stop(r);
  const audio = r.audio!;
  const stored = storedInOrder(r);
  assert.is(stored.length, 20, `20 fragments stored: ${stored.join(',')}`);
  for (const [tc, copies] of r.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  assertIncreasing(stored, 'stored in timecode order');
  assert.is(r.pool.audioDropped, 0, 'no audio packet dropped');
  assert.ok(audio.stats.packetsQueued >= 995, `packets queued: ${JSON.stringify(audio.stats)}`);
  assert.is(r.session.stats.audioPacketsSent, audio.stats.packetsQueued, 'every packet queued went to the service, once');
  assert.is(r.session.stats.framesPersisted + r.pool.dropped, r.fed, `fed ${r.fed} = persisted + dropped ${JSON.stringify(r.pool.drops)}`);
  // On the wire: both tracks in every fragment, each track's timecodes increasing, fragments in order.
  let fragment = -1;
  const tracks: Set<number>[] = [];
  const last = [-Infinity, -Infinity];
  for (const f of r.sent) {
    if (f.fragmentStart) tracks[++fragment] = new Set();
    tracks[fragment]!.add(f.track);
    assert.ok(f.pts > last[f.track]!, `track ${f.track}: ${f.pts} after ${last[f.track]}`);
    last[f.track] = f.pts;
  }
  assert.is(fragment + 1, 20);
  for (const [i, t] of tracks.entries()) assert.ok(t.has(0) && t.has(1), `fragment ${i} carries video and audio: ${[...t].join(',')}`);
  assert.is(r.sent.filter((f) => f.track === 1).length, audio.stats.packetsQueued, 'each packet sent once');
  assert.is(r.spool.stats.fragments, 0, 'the spool is empty');
  assert.equal(segments(dir), [], 'its segment files are gone');
  assert.is(audio.stats.drops.noFragment, 0, 'no packet came too late for its fragment');
}

test('event clip tags: a spooled fragment goes up with the tags the live path gave it, after a power cut too', async () => {
  const dir = freshDir();
  // Tags that name the fragment (a clip's Tags element stands for any bytes here: the spool keeps them opaque).
  const tagsOf = (pts: number): Uint8Array => Uint8Array.from(`clip-tags@${pts}`, (c) => c.charCodeAt(0));
  const given = new Map<number, number[]>();
  const a = rig({
    dir,
    down: true,
    tags: (start) => {
      const t = tagsOf(start.pts);
      given.set(start.pts, Array.from(t));
      return t;
    },
  });
  await feed(a, 60); // boot with no network: every complete fragment goes to the spool with its tags
  const spooled = a.spool.stats.fragmentsSpooled;
  assert.ok(spooled >= 5, `spooled: ${spooled}`);
  // Power cut; the next boot's gate knows nothing of those clips (no tags of its own).
  const b = rig({ dir });
  await feed(b, 20);
  await stop(b);
  for (const [tc, copies] of b.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  let checked = 0;
  for (const [pts, tags] of given) {
    if (!b.tagsSent.has(pts)) continue; // the open fragment at the cut was never complete
    assert.equal(b.tagsSent.get(pts), tags, `fragment ${pts}: the tags it was spooled with`);
    checked++;
  }
  assert.is(checked, spooled, 'every spooled fragment went up with its tags');
  const live = [...b.tagsSent.entries()].filter(([pts]) => !given.has(pts));
  assert.ok(live.length >= 1 && live.every(([, t]) => t.length === 0), "the new boot's own fragments carry no clip tags");
  assert.equal(segments(dir), []);
});

test('a reboot whose clock starts inside the last spooled frame: a new connection, not a refusal loop', async () => {
  const dir = freshDir();
  // The boards' clocks agree with the service's (2025-01-01), so no frame is moved to true time.
  const a = rig({ dir, down: true, wall: Date.UTC(2025, 0, 1) });
  const start = a.time.now();
  await feed(a, 30); // fragments [0, 10) and [10, 20) spooled; the last one ends at start + 2000 ms
  assert.is(a.spool.stats.fragments, 2, 'two fragments spooled');
  // Power cut. The next boot's first frame is after the last spooled frame's start (start + 1900 ms) but before its
  // end: the earlier fragments cannot be followed by it on one connection (MkvWriter: frames must not overlap).
  const b = rig({ dir, wall: start + 1950 });
  await feed(b, 20);
  await stop(b);
  for (const c of b.kvs.putMedia) assertIncreasing(c.fragments, 'fragment timecodes on one connection');
  for (const [tc, copies] of b.kvs.stored) assert.is(copies, 1, `fragment ${tc} stored once`);
  assert.is(b.kvs.stored.size, 4, "the two spooled fragments and the new boot's two");
  assert.equal(segments(dir), []);
});

test.run();
