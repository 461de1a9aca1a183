// A live camera through FrameInput (issue 11, items 3, 4 and 6), with hand-made read times (time is an argument):
// - timestamps come from the capture clock: read jitter is smoothed to the cadence, a pause moves later frames to
//   their true time (and frames that would stretch a fragment past its maximum are dropped, counted), a backlog
//   burst is laid out and catches up with the arrival times;
// - the last access unit of a live camera is incomplete at end of input and is dropped as `truncated`; a file's is
//   complete;
// - every frame fed is stored or dropped by reason, also when the pool is full of frames on the wire (the camera is
//   read on into the overflow scratch) and when frame records run out (whole oldest fragments are dropped).
import { FrameInput, type FrameInputOptions } from '../../../../firmware/core/media/FrameInput.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { FramePool, type PoolSizing } from '../../../../firmware/core/pool/FramePool.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { assert, boardByteScan, fixture, scaled, suite } from '../../../harness/index.ts';
import { referenceScanPort } from '../h264/h264TestKit.ts';
import { concatBytes, mulberry32 } from '../../../harness/support.ts';
import { accessUnitStarts, framesFed, prefixAt, readLive, type Reads } from './liveKit.ts';

const test = suite('FrameInput, live camera: capture-clock timestamps, cut tail, fed = stored + dropped');

const T0 = 1_700_000_000_000;
const GOP10 = fixture('h264-320x240-10fps-gop10.h264'); // 100 AUs, 10 fps, an IDR every 10
const ONE = accessUnitStarts(GOP10);
const TWICE = concatBytes([GOP10, GOP10]);
const TWICE_STARTS = accessUnitStarts(TWICE);

function live(pool: FramePool, extra: Partial<FrameInputOptions> = {}, onQueued: (f: Frame) => void = () => {}): FrameInput {
  return new FrameInput({
    codec: 'h264',
    pool,
    fps: { num: 10, den: 1 },
    fragmentMs: 1000,
    maxFragmentMs: 10_000,
    startTimecode: T0,
    strict: false,
    capture: { monotonicAtStart: 0 },
    overflowBytes: 4096,
    onQueued,
    ...extra,
  });
}

function roomy(): FramePool {
  return new FramePool({ slotCount: 8, slotBytes: 65536, maxFrames: 256 });
}

/** Each access unit i in one read of its own at `arrival(i)`; the tail up to `cut` bytes (default all). */
function feedPerFrame(input: FrameInput, data: Uint8Array, starts: readonly number[], arrival: (i: number) => number, cut = data.length): Reads {
  const stats: Reads = { reads: 0, reclaimed: 0, overflowed: 0 };
  for (let i = 0; i < starts.length && starts[i]! < cut; i++) {
    const end = Math.min(i + 1 < starts.length ? starts[i + 1]! : data.length, cut);
    readLive(input, data, starts[i]!, end, arrival(i), 1 << 20, stats);
  }
  return stats;
}

/** Frames in queue order (the consumer here holds everything). */
function held(input: FrameInput): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < input.queue.length; i++) out.push(input.queue.at(i));
  return out;
}

const jitter = (i: number) => (i === 0 ? 0 : ((i * 37) % 61) - 30); // deterministic, within ±30 ms of a 100 ms cadence

test('read jitter within a frame interval is smoothed: every frame on the cadence from the first', () => {
  const pool = roomy();
  const input = live(pool);
  feedPerFrame(input, GOP10, ONE, (i) => 5_000 + i * 100 + jitter(i));
  input.end(true);
  const frames = held(input);
  assert.is(frames.length, 100);
  frames.forEach((f, i) => void assert.is(f.pts, T0 + 5_000 + i * 100, `frame ${i}`));
  assert.is(input.stats.reanchors, 0);
});

test('a 12 s camera pause: later frames carry their true time; frames that would stretch the open fragment past 10 s are dropped, counted', () => {
  const pool = roomy();
  const input = live(pool);
  const PAUSE = 12_000;
  const arrival = (i: number) => i * 100 + jitter(i) + (i >= 36 ? PAUSE : 0);
  feedPerFrame(input, GOP10, ONE, arrival);
  input.end(true);
  const frames = held(input);
  // 36 before the pause, frames 36-39 (the rest of that GOP) dropped, 60 from the next IDR on: the first as too
  // long for its fragment, the others as waiting for the key frame that opens the next one.
  assert.is(frames.length, 96);
  assert.is(pool.drops.fragmentTooLong, 1);
  assert.is(pool.drops.awaitKeyFrame, 3);
  for (let i = 0; i < 36; i++) assert.is(frames[i]!.pts, T0 + i * 100, `frame ${i}`);
  // The cadence re-anchored at frame 36's arrival; frame 40 (an IDR) opens a fragment at its true time.
  const anchor = T0 + arrival(36);
  for (let k = 36; k < 96; k++) assert.is(frames[k]!.pts, anchor + (k + 4 - 36) * 100, `frame ${k + 4}`);
  assert.ok(frames[36]!.key && frames[36]!.fragmentStart, 'the first frame after the pause opens a fragment');
  assert.ok(frames[36]!.pts - frames[35]!.pts > PAUSE, 'the gap is in the timestamps');
  assert.ok(input.stats.reanchors >= 1);
  assert.is(frames.length + pool.dropped, 100, 'fed = stored + dropped');
});

test('a backlog burst (30 frames in one read after a stall): DTS rule kept, and the stamps meet the arrival times again', () => {
  const pool = roomy();
  const input = live(pool);
  const arrival = (i: number) => (i >= 30 && i < 60 ? 5_900 : i * 100);
  feedPerFrame(input, TWICE, TWICE_STARTS, arrival);
  input.end(true);
  const frames = held(input);
  assert.is(frames.length, 200);
  for (let i = 1; i < frames.length; i++) {
    assert.ok(frames[i]!.dts >= frames[i - 1]!.dts + frames[i - 1]!.duration, `DTS rule at frame ${i}`);
  }
  for (let i = 120; i < 200; i++) assert.ok(Math.abs(frames[i]!.pts - (T0 + arrival(i))) <= 100, `frame ${i} within a frame interval of its arrival`);
});

test('rebase moves capture stamps too (the wall clock learnt from the server)', () => {
  const pool = roomy();
  const input = live(pool);
  feedPerFrame(input, GOP10, ONE, (i) => i * 100, ONE[20]);
  input.rebase(60_000);
  const before = held(input).map((f) => f.pts);
  assert.is(before[0], T0 + 60_000);
  assert.is(before[before.length - 1], T0 + 60_000 + (before.length - 1) * 100);
});

test('live camera cut mid-frame: the cut access unit is dropped as truncated, never queued; fed = stored + dropped', () => {
  const prefixes = prefixAt(GOP10, ONE);
  const cut = ONE[57]! + Math.floor((ONE[58]! - ONE[57]!) / 2);
  const pool = roomy();
  const input = live(pool);
  feedPerFrame(input, GOP10, ONE, (i) => i * 100, cut);
  input.end(false);
  const frames = held(input);
  assert.is(frames.length, 57);
  assert.is(frames[56]!.seq, 56);
  assert.is(pool.drops.truncated, 1);
  assert.is(framesFed(ONE, prefixes, cut), frames.length + pool.dropped);
});

test("end of input: a live camera cannot know its last frame complete (dropped, truncated); a file's last frame is whole", () => {
  for (const [lastComplete, queued, truncated] of [
    [false, 99, 1],
    [true, 100, 0],
  ] as const) {
    const pool = roomy();
    const input = live(pool);
    feedPerFrame(input, GOP10, ONE, (i) => i * 100);
    input.end(lastComplete);
    assert.is(held(input).length, queued);
    assert.is(pool.drops.truncated, truncated);
  }
});

/**
 * An uploader over the queue: every frame is put on the wire as it is queued (so nothing un-sent is left to drop);
 * `ack()` persists complete sent fragments. Returns the persisted frame count.
 */
function wire(input: () => FrameInput) {
  const state = { persisted: 0 };
  return {
    state,
    onQueued: () => {
      const q = input().queue;
      for (let f = q.nextUnsent(); f; f = q.nextUnsent()) f.sent = true;
    },
    ack: () => {
      const q = input().queue;
      // Complete fragments only: a later fragment start must exist.
      for (;;) {
        let next = -1;
        for (let i = 1; i < q.length; i++)
          if (q.at(i).fragmentStart) {
            next = i;
            break;
          }
        if (next < 0 || !q.at(next - 1).sent) break;
        state.persisted += q.releaseOldestFragment();
      }
    },
  };
}

function countedRun(sizing: PoolSizing, stallFrom: number, stallTo: number) {
  const pool = new FramePool(sizing);
  let input!: FrameInput;
  const up = wire(() => input);
  input = live(pool, {}, up.onQueued);
  const stats: Reads = { reads: 0, reclaimed: 0, overflowed: 0 };
  // 1 KiB reads; acknowledgements flow except while the link is stalled (reads stallFrom..stallTo).
  readLive(input, TWICE, 0, TWICE.length, 0, 1024, stats, () => {
    if (stats.reads < stallFrom || stats.reads > stallTo) up.ack();
  });
  input.end(false);
  const stored = up.state.persisted + input.queue.length; // what is held is sent at the stop and persisted
  return { pool, input, stats, stored, fed: TWICE_STARTS.length };
}

test('pool full of frames on the wire: the camera is read on (overflow scratch) and every frame is stored or dropped by reason', () => {
  const { pool, input, stats, stored, fed } = countedRun({ slotCount: 3, slotBytes: 16_384, maxFrames: 64 }, 40, 300);
  assert.ok(stats.overflowed > 0, 'the overflow path ran');
  assert.ok(pool.drops.poolFull > 0, 'frames were dropped for a full pool');
  assert.is(fed, stored + pool.dropped, `fed ${fed} = stored ${stored} + dropped ${JSON.stringify(pool.drops)}`);
  while (input.queue.length > 0) input.queue.releaseOldestFragment();
  assert.is(pool.stats.slotsInUse, 0, 'every slot released');
});

test('frame records run out while the link is down: whole oldest fragments are dropped, never part of a GOP', () => {
  const pool = new FramePool({ slotCount: 16, slotBytes: 65536, maxFrames: 25 });
  const input = live(pool); // nothing is sent: the link is down
  feedPerFrame(input, GOP10, ONE, (i) => i * 100);
  const frames = held(input);
  // Fragments held: each starts on a key frame and is a whole GOP (10 frames), except the open last one.
  const sizes: number[] = [];
  for (const f of frames)
    if (f.fragmentStart) sizes.push(1);
    else sizes[sizes.length - 1]!++;
  for (let i = 0; i < sizes.length - 1; i++) assert.is(sizes[i], 10, `fragment ${i} is a whole GOP: ${JSON.stringify(sizes)}`);
  assert.is(pool.drops.poolFull % 10, 0, `whole fragments dropped: ${JSON.stringify(pool.drops)}`);
  assert.is(pool.drops.awaitKeyFrame, 0);
  input.end(false);
  assert.is(100, input.queue.length + pool.dropped, 'fed = stored + dropped');
});

test('access units larger than a slot: each is counted once as frameTooLarge, the next one is not swallowed', () => {
  let largest = 0;
  for (let i = 0; i < ONE.length; i++) largest = Math.max(largest, (i + 1 < ONE.length ? ONE[i + 1]! : GOP10.length) - ONE[i]!);
  // Slots a little smaller than the largest frames (the IDRs): those frames cannot be held.
  const pool = new FramePool({ slotCount: 64, slotBytes: Math.floor(largest * 0.8), maxFrames: 256 });
  const input = live(pool);
  const stats: Reads = { reads: 0, reclaimed: 0, overflowed: 0 };
  readLive(input, GOP10, 0, GOP10.length, 0, 700, stats);
  input.end(true);
  assert.ok(pool.drops.frameTooLarge > 0, JSON.stringify(pool.drops));
  assert.is(100, input.queue.length + pool.dropped, `fed 100 = held ${input.queue.length} + dropped ${JSON.stringify(pool.drops)}`);
});

const FUZZ_DATA = concatBytes([GOP10, GOP10, GOP10]);

/**
 * One fuzz run: random reads, cut point, sends and acknowledgements on a 5-slot pool (overflow scratch, reclaims,
 * a truncated tail). Returns the counts and every frame stored, in order, as comparable data.
 */
function fuzzRun(seed: number, byteScan?: ByteScanPort) {
  const data = FUZZ_DATA;
  {
    const rnd = mulberry32(seed);
    const pool = new FramePool({ slotCount: 5, slotBytes: 8192, maxFrames: 26 });
    let persisted = 0;
    const stored: number[][] = [];
    const keep = (f: Frame) => {
      const nals: number[] = [];
      for (let k = 0; k < f.nalCount; k++) nals.push(f.nalOffset[k]!, f.nalLength[k]!, f.nalPrefix[k]!, f.nalType[k]!);
      stored.push([f.seq, f.streamOffset, f.size, f.key ? 1 : 0, f.pts, f.dts, ...nals]);
    };
    let input!: FrameInput;
    const sendRate = rnd();
    input = live(pool, byteScan ? { byteScan } : {}, () => {
      if (rnd() >= sendRate) return;
      const q = input.queue;
      for (let f = q.nextUnsent(); f; f = q.nextUnsent()) f.sent = true;
    });
    const cut = Math.floor(rnd() * data.length);
    let at = 0;
    for (let i = 0; i < cut; ) {
      const ready = input.prepare();
      if (ready === PREPARE.POOL_EXHAUSTED) {
        assert.ok(input.queue.reclaim() || input.overflow(), 'a live camera always goes on reading');
        continue;
      }
      const n = Math.min(1 + Math.floor(rnd() * 3000), cut - i, input.targetSpace);
      input.target.set(data.subarray(i, i + n), input.targetOffset);
      input.push(n, (at += 1 + Math.floor(rnd() * 60)));
      i += n;
      if (rnd() < 0.3) {
        const q = input.queue;
        while (q.length > 0 && q.at(0).sent && rnd() < 0.7) {
          let next = -1;
          for (let k = 1; k < q.length; k++)
            if (q.at(k).fragmentStart) {
              next = k;
              break;
            }
          if (next < 0 || !q.at(next - 1).sent) break;
          for (let k = 0; k < next; k++) keep(q.at(k));
          persisted += q.releaseOldestFragment();
        }
      }
    }
    input.end(false);
    for (let k = 0; k < input.queue.length; k++) keep(input.queue.at(k));
    return {
      cut,
      persisted,
      held: input.queue.length,
      drops: pool.drops,
      dropped: pool.dropped,
      problem: input.problem()?.message,
      stats: { ...input.stats },
      stored,
    };
  }
}

test(`fuzz, ${200} runs: random reads, cut points, sends and acknowledgements on a 5-slot pool: fed = stored + dropped, always`, () => {
  const starts = accessUnitStarts(FUZZ_DATA);
  const prefixes = prefixAt(FUZZ_DATA, starts);
  const runs = scaled(200);
  for (let seed = 1; seed <= runs; seed++) {
    const { cut, persisted, held, drops, dropped } = fuzzRun(seed);
    const fed = framesFed(starts, prefixes, cut);
    const stored = persisted + held;
    assert.is(fed, stored + dropped, `seed ${seed}, cut at ${cut}: fed ${fed} = stored ${stored} + dropped ${JSON.stringify(drops)}`);
  }
});

test(`the same ${200} runs with the board's access-unit walk and with its NAL walk alone (ByteScanPort.closeAccessUnit, classifyNals; a reference under Node): identical frames, stamps, drops`, () => {
  const port = boardByteScan() ?? referenceScanPort;
  const nalWalk = { indexOfByte: port.indexOfByte, findStartCodes: port.findStartCodes!, classifyNals: port.classifyNals! };
  const runs = scaled(200);
  for (let seed = 1; seed <= runs; seed++) {
    const want = fuzzRun(seed);
    assert.equal(fuzzRun(seed, port), want, `seed ${seed}`);
    assert.equal(fuzzRun(seed, nalWalk), want, `seed ${seed}, NAL walk`);
  }
});

test.run();
