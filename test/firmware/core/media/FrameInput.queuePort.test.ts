// The board's stamping and queueing (FrameQueuePort: firmware/runtime/frames.c inside XS, natively and under
// qemu-arm) against FrameInput's and FragmentQueue's TypeScript path: random frame sequences (key and non-key frames,
// gaps in seq, minFragmentMs changes, a gate set and unset, pause and resume, rebase, fragmentTooLong, releases that
// wrap the ring, cadences whose timecodes round at .5) leave every field of every held frame, the queue, the stats,
// the drops and the pool identical after each step; a full ring throws the same error; every fixture through the
// whole Muxer gives the same bytes with and without the port, and with read times or a capture clock the port takes
// nothing. Under Node, where the board has no port, a plain TypeScript port by the contract stands in, so the port
// branch of FrameInput.onFrame runs on both runtimes.
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { MAX_NALS_PER_FRAME, Frame as FrameRecord } from '../../../../firmware/core/media/Frame.ts';
import type { FrameGate } from '../../../../firmware/core/media/FrameGate.ts';
import { FrameInput, type FrameInputOptions, type FrameRate } from '../../../../firmware/core/media/FrameInput.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { FRAME_QUEUE, type FrameQueuePort } from '../../../../firmware/io/FrameQueue.ts';
import { Muxer, type Codec } from '../../../../host/lib/Muxer.ts';
import { assert, boardByteScan, boardFrameQueue, boardMkvBlock, fixture, scaled, suite } from '../../../harness/index.ts';
import { mulberry32 } from '../../../harness/support.ts';
import { flatten, UID } from '../mkv/support.ts';

const test = suite('FrameInput queue port');

/** FrameInput's and FragmentQueue's fields the port reads and writes (private in TypeScript). */
interface InputFields {
  queue: QueueFields;
  stats: FrameInput['stats'];
  readCount: number;
  capture: unknown;
  origin: number;
  tickScale: number;
  tickNum: number;
  formatFixed: boolean;
  readEnd: Float64Array;
  readAt: Float64Array;
  readFirst: number;
}
interface QueueFields {
  ring: (Frame | null)[];
  head: number;
  length: number;
  paused: boolean;
  awaitingKey: boolean;
  open: boolean;
  openStartPts: number;
  maxFragmentMs: number;
  minFragmentMs: number;
  gate: FrameGate | undefined;
  lastEnd: number;
  unsentFrom: number;
  droppedFragments: number;
  droppedHeldFragments: number;
}

/** The port's contract in plain TypeScript, for runtimes whose board has none (Node). */
const referencePort: FrameQueuePort = {
  queueFrame(frameObject, inputObject) {
    const frame = frameObject as Frame;
    const input = inputObject as InputFields;
    if (input.capture !== undefined) return FRAME_QUEUE.NOT_MINE;
    const q = input.queue;
    if (q.paused) return FRAME_QUEUE.NOT_MINE;
    for (const [name, v] of [
      ['key', frame.key],
      ['fragmentStart', frame.fragmentStart],
      ['sent', frame.sent],
    ] as const) {
      if (typeof v !== 'boolean') throw new TypeError(`frame.${name} must be a boolean`);
    }
    for (const [name, v] of [
      ['seq', frame.seq],
      ['pts', frame.pts],
      ['dts', frame.dts],
      ['duration', frame.duration],
    ] as const) {
      if (typeof v !== 'number') throw new TypeError(`frame.${name} must be a number`);
    }
    if (q.length >= q.ring.length) return FRAME_QUEUE.NOT_MINE;
    let first = input.readFirst;
    let count = input.readCount;
    if (count > 0) {
      while (count > 1 && input.readEnd[first]! <= frame.streamOffset) {
        first = (first + 1) % input.readEnd.length;
        count--;
      }
    }
    const seq = frame.seq;
    const pts = input.origin + Math.round((seq * input.tickScale) / input.tickNum);
    const duration = input.origin + Math.round(((seq + 1) * input.tickScale) / input.tickNum) - pts;
    let start = false;
    if (!frame.key) {
      if (q.awaitingKey || !q.open || pts + duration - q.openStartPts > q.maxFragmentMs) return FRAME_QUEUE.NOT_MINE;
    } else {
      start = !q.open || q.awaitingKey || pts - q.openStartPts >= q.minFragmentMs;
      if (start && q.gate !== undefined) return FRAME_QUEUE.NOT_MINE;
    }
    if (count > 0) {
      input.readFirst = first;
      input.readCount = count;
      frame.capturedAt = input.readAt[first]!;
    }
    frame.pts = frame.dts = pts;
    frame.duration = duration;
    frame.fragmentStart = start;
    if (start) {
      q.open = true;
      q.awaitingKey = false;
      q.openStartPts = pts;
    }
    frame.sent = false;
    q.ring[(q.head + q.length) % q.ring.length] = frame;
    q.length++;
    q.lastEnd = pts + duration;
    input.stats.accessUnits++;
    input.formatFixed = true;
    input.stats.frames++;
    if (frame.key) input.stats.keyFrames++;
    return FRAME_QUEUE.QUEUED;
  },
};

/** The board's port (or the reference), counting its answers. */
function countingPort(): FrameQueuePort & { queued: number; notMine: number } {
  const queueFrame = (boardFrameQueue() ?? referencePort).queueFrame;
  const port = {
    queued: 0,
    notMine: 0,
    // Called as FrameInput calls it: a plain function.
    queueFrame(frame: object, input: object): number {
      const r = queueFrame(frame, input);
      if (r === FRAME_QUEUE.QUEUED) port.queued++;
      else port.notMine++;
      return r;
    },
  };
  return port;
}

const fieldsOf = (input: FrameInput) => input as unknown as InputFields;
const onFrame = (input: FrameInput, frame: Frame) => (input as unknown as { onFrame(f: Frame): void }).onFrame(frame);

function frameState(f: Frame): string {
  return [f.seq, f.pts, f.dts, f.duration, f.key, f.fragmentStart, f.sent, f.held, f.clip, f.capturedAt, f.track].join(' ');
}

/** Everything the port may touch, and what the TypeScript path around it changes, as one comparable line. */
function state(input: FrameInput, pool: FramePool, queued: number): string {
  const i = fieldsOf(input);
  const q = i.queue;
  const frames: string[] = [];
  for (let k = 0; k < q.length; k++) frames.push(frameState(input.queue.at(k)));
  const ringShape = q.ring.map((f) => (f === null ? '-' : 'f')).join('');
  return JSON.stringify({
    queue: [q.head, q.length, q.paused, q.awaitingKey, q.open, q.openStartPts, q.lastEnd, q.unsentFrom, q.droppedFragments, q.droppedHeldFragments],
    ringShape,
    frames,
    stats: input.stats,
    ready: input.ready,
    origin: i.origin,
    reads: [i.readFirst, i.readCount],
    drops: pool.drops,
    free: pool.freeFrameCount,
    queued,
  });
}

/** FrameInput.noteRead with the read's end given (the synthetic frames come from no reader): the ring of recent reads. */
function noteRead(input: FrameInput, end: number, at: number): void {
  const i = fieldsOf(input);
  const k = (i.readFirst + i.readCount) % i.readEnd.length;
  i.readEnd[k] = end;
  i.readAt[k] = at;
  if (i.readCount < i.readEnd.length) i.readCount++;
  else i.readFirst = (i.readFirst + 1) % i.readEnd.length;
}

/** A gate that admits by seq: the same answer for the same frame on both sides. */
function seqGate(): FrameGate {
  return { holdMs: 700, admit: (f) => f.seq % 3 !== 1 };
}

interface Side {
  readonly input: FrameInput;
  readonly pool: FramePool;
  queued: number;
}

function side(fps: FrameRate, maxFragmentMs: number | undefined, startTimecode: number, port: FrameQueuePort | undefined): Side {
  const pool = new FramePool({ slotCount: 2, slotBytes: 4096, maxFrames: 12 });
  const s: Side = {
    pool,
    queued: 0,
    input: undefined as unknown as FrameInput,
  };
  const options: FrameInputOptions = {
    codec: 'h264',
    pool,
    fps,
    fragmentMs: 1000,
    startTimecode,
    ...(maxFragmentMs !== undefined ? { maxFragmentMs } : {}),
    ...(port ? { queuePort: port } : {}),
    onQueued: () => {
      s.queued++;
    },
  };
  (s as { input: FrameInput }).input = new FrameInput(options);
  return s;
}

// 16 fps: 62.5 ms a frame, so half the timecodes round at .5; 30000/1001: fractions that never repeat.
const RATES: FrameRate[] = [
  { num: 15, den: 1 },
  { num: 16, den: 1 },
  { num: 30000, den: 1001 },
  { num: 7, den: 3 },
  { num: 1000, den: 1 },
];

test('random frame sequences: every frame, the queue, the stats and the drops identical after each step, with and without the port', () => {
  const port = countingPort();
  const ops = { frame: 0, gate: 0, pause: 0, resume: 0, rebase: 0, release: 0, min: 0, read: 0 };
  for (let run = 0; run < scaled(60); run++) {
    const rand = mulberry32(0x9e3779b1 ^ run);
    const fps = RATES[run % RATES.length]!;
    const maxFragmentMs = run % 3 === 0 ? undefined : 1500 + Math.floor(rand() * 3000);
    const start = run % 4 === 0 ? -5000.25 : 1_700_000_000_000 + Math.floor(rand() * 1000);
    const a = side(fps, maxFragmentMs, start, port);
    const b = side(fps, maxFragmentMs, start, undefined);
    let seq = 0;
    // Every other run has read times: reads end at `end` (a frame's first byte is at seq × 100), at `t` ms.
    const reads = run % 2 === 1;
    let end = 0;
    let t = 0;
    const sentBefore = port.queued;
    for (let step = 0; step < 200; step++) {
      const r = rand();
      let what: string;
      if (reads && rand() < 0.4) {
        // One read, or a burst of them (the ring of 64 wraps and forgets the oldest).
        const burst = rand() < 0.05 ? 70 : 1;
        for (let k = 0; k < burst; k++) {
          end += 20 + Math.floor(rand() * 250);
          t += rand() * 80;
          for (const s of [a, b]) noteRead(s.input, end, t);
        }
        what = `read to ${end}`;
        ops.read++;
      } else if (r < 0.72) {
        // A frame: mostly consecutive, sometimes after a gap (frames the reader dropped); key about one in six.
        if (a.pool.freeFrameCount === 0) {
          for (const s of [a, b]) s.input.queue.releaseOldestFragment();
        }
        seq += rand() < 0.08 ? 2 + Math.floor(rand() * 40) : 1;
        const key = rand() < 0.17;
        for (const s of [a, b]) {
          const f = s.pool.newFrame()!;
          f.seq = seq;
          f.key = key;
          f.streamOffset = seq * 100;
          onFrame(s.input, f);
        }
        what = `frame ${seq}${key ? ' key' : ''}`;
        ops.frame++;
      } else if (r < 0.78) {
        const ms = [0, 100, 500, 1000, 2500][Math.floor(rand() * 5)]!;
        for (const s of [a, b]) s.input.queue.setMinFragmentMs(ms);
        what = `minFragmentMs ${ms}`;
        ops.min++;
      } else if (r < 0.83) {
        const on = rand() < 0.5;
        for (const s of [a, b]) s.input.queue.setGate(on ? seqGate() : undefined);
        what = `gate ${on}`;
        ops.gate++;
      } else if (r < 0.86) {
        for (const s of [a, b]) s.input.queue.pause();
        what = 'pause';
        ops.pause++;
      } else if (r < 0.91) {
        for (const s of [a, b]) s.input.queue.resume();
        what = 'resume';
        ops.resume++;
      } else if (r < 0.93) {
        const delta = rand() < 0.5 ? Math.floor(rand() * 2000) - 1000 : rand() * 100 - 50;
        for (const s of [a, b]) s.input.rebase(delta);
        what = `rebase ${delta}`;
        ops.rebase++;
      } else {
        const one = rand() < 0.5 && a.input.queue.length > 0;
        for (const s of [a, b]) {
          if (one) s.input.queue.releaseHead();
          else s.input.queue.releaseOldestFragment();
        }
        what = 'release';
        ops.release++;
      }
      assert.is(state(a.input, a.pool, a.queued), state(b.input, b.pool, b.queued), `run ${run}, step ${step} (${what})`);
    }
    assert.ok(port.queued > sentBefore, `run ${run}: the port queued frames`);
  }
  assert.ok(port.notMine > scaled(60) * 10, `the TypeScript path took the irregular frames (${port.notMine})`);
  for (const [op, n] of Object.entries(ops)) assert.ok(n > 0, `${op} exercised`);
  const a = fieldsOf(side(RATES[0]!, undefined, 0, undefined).input);
  assert.is(typeof a.tickScale, 'number', 'the fields the port reads exist');
});

test('fragmentTooLong after a gap, awaitKeyFrame, stopped: dropped and counted by the TypeScript path, the same as without the port', () => {
  const port = countingPort();
  const a = side({ num: 10, den: 1 }, 2000, 0, port);
  const b = side({ num: 10, den: 1 }, 2000, 0, undefined);
  const feed = (seq: number, key: boolean) => {
    for (const s of [a, b]) {
      const f = s.pool.newFrame()!;
      f.seq = seq;
      f.key = key;
      onFrame(s.input, f);
    }
    assert.is(state(a.input, a.pool, a.queued), state(b.input, b.pool, b.queued), `frame ${seq}`);
  };
  feed(0, false); // awaitKeyFrame: no fragment open
  feed(1, true);
  feed(2, false);
  feed(40, false); // 3.9 s after the fragment's start: fragmentTooLong, then awaitKeyFrame until a key frame
  feed(41, false);
  feed(42, true);
  for (const s of [a, b]) s.input.queue.pause();
  feed(43, false);
  feed(44, true);
  for (const s of [a, b]) s.input.queue.resume();
  feed(45, false);
  feed(46, true);
  feed(47, false);
  assert.is(a.pool.drops.fragmentTooLong, 1, 'fragmentTooLong counted');
  assert.is(a.pool.drops.awaitKeyFrame, 3, 'awaitKeyFrame counted');
  assert.is(a.pool.drops.stopped, 2, 'stopped counted');
  assert.is(port.queued, 5, 'the plain frames were the port’s');
});

test('a full ring: the same RangeError from FragmentQueue.push, nothing changed by the port', () => {
  const port = countingPort();
  const a = side({ num: 10, den: 1 }, undefined, 0, port);
  const b = side({ num: 10, den: 1 }, undefined, 0, undefined);
  for (let seq = 0; seq < 12; seq++) {
    for (const s of [a, b]) {
      const f = s.pool.newFrame()!;
      f.seq = seq;
      f.key = seq === 0;
      onFrame(s.input, f);
    }
  }
  assert.is(a.input.queue.length, 12, 'the ring is full');
  const messages: string[] = [];
  for (const s of [a, b]) {
    // A record from outside the pool: the ring is as long as the pool holds records, so only such a frame finds it full.
    const f = new FrameRecord(MAX_NALS_PER_FRAME);
    f.seq = 12;
    try {
      onFrame(s.input, f);
      messages.push('no error');
    } catch (err) {
      messages.push((err as Error).message);
    }
  }
  assert.ok(/queue full/.test(messages[0]!), `FragmentQueue.push's error (${messages[0]})`);
  assert.is(messages[0], messages[1], 'the same error');
  // The TypeScript path stamps and counts before push throws, as it always did: both sides alike.
  assert.is(state(a.input, a.pool, a.queued), state(b.input, b.pool, b.queued), 'the same state after the error');
  assert.is(port.queued, 12, 'the port queued until the ring was full');
});

test('a frame field of the wrong kind: TypeError before anything is written', () => {
  const queueFrame = (boardFrameQueue() ?? referencePort).queueFrame;
  const a = side({ num: 10, den: 1 }, undefined, 0, undefined);
  const f = a.pool.newFrame()!;
  (f as unknown as { key: unknown }).key = 1;
  const before = state(a.input, a.pool, a.queued) + frameState(f);
  assert.throws(() => queueFrame(f, a.input), /key/);
  assert.is(state(a.input, a.pool, a.queued) + frameState(f), before, 'nothing written');
});

const FIXTURES: [string, Codec][] = [
  ['h264-320x240-10fps-gop10.h264', 'h264'],
  ['h264-long-gop.h264', 'h264'],
  ['h264-aud-sei-3byte.h264', 'h264'],
  ['h264-1080p-30fps.h264', 'h264'],
  ['h265-320x240-10fps-gop10.h265', 'h265'],
  ['mjpeg-320x240-10fps.mjpeg', 'mjpeg'],
];

function mux(codec: Codec, input: Uint8Array, read: number, port: FrameQueuePort | undefined): { bytes: Uint8Array; stats: string } {
  const parts: Uint8Array[] = [];
  const scan = boardByteScan();
  const block = boardMkvBlock();
  const muxer = new Muxer({
    codec,
    pool: new FramePool({ slotCount: 6, slotBytes: 256 * 1024, maxFrames: 32, ...(codec === 'mjpeg' ? { nalsPerFrame: 0 } : {}) }),
    fps: { num: 16, den: 1 },
    fragmentMs: 1000,
    maxFragmentMs: 20_000,
    startTimecode: 1_700_000_000_000,
    endOfFragment: true,
    segmentUid: UID,
    ...(scan ? { byteScan: scan } : {}),
    ...(block ? { blockPort: block } : {}),
    ...(port ? { queuePort: port } : {}),
    sink: (views) => {
      parts.push(flatten(views));
    },
  });
  for (let at = 0; at < input.length; ) {
    assert.is(muxer.prepare(), PREPARE.OK, 'pool has room');
    const n = Math.min(read, muxer.targetSpace, input.length - at);
    muxer.target.set(input.subarray(at, at + n), muxer.targetOffset);
    muxer.push(n);
    at += n;
  }
  muxer.end();
  let size = 0;
  for (const p of parts) size += p.length;
  const bytes = new Uint8Array(size);
  size = 0;
  for (const p of parts) {
    bytes.set(p, size);
    size += p.length;
  }
  return { bytes, stats: JSON.stringify(muxer.stats) };
}

test('every fixture through the Muxer: the same Matroska bytes and stats with the port as without', () => {
  const reads = scaled(3) >= 3 ? [1000, 4096, 65536] : [4096];
  for (const [name, codec] of FIXTURES) {
    const data = fixture(name);
    for (const read of reads) {
      const what = `${name}, reads of ${read}`;
      const port = countingPort();
      const ts = mux(codec, data, read, undefined);
      const viaPort = mux(codec, data, read, port);
      assert.ok(ts.bytes.length > data.length / 2, `${what}: output written`);
      assert.is(viaPort.bytes.length, ts.bytes.length, `${what}: length`);
      let diff = -1;
      for (let i = 0; i < ts.bytes.length && diff < 0; i++) if (viaPort.bytes[i] !== ts.bytes[i]) diff = i;
      assert.is(diff, -1, `${what}: first differing byte`);
      assert.is(viaPort.stats, ts.stats, `${what}: stats`);
      // Every frame but none is plain in a file: the port takes them all.
      assert.is(port.notMine, 0, `${what}: frames left to the TypeScript path`);
      assert.ok(port.queued > 0, `${what}: frames queued by the port`);
    }
  }
});

test('read times: the port stamps and queues with capturedAt; a capture clock: the port takes no frame; the same frames either way', () => {
  const data = fixture('h264-320x240-10fps-gop10.h264');
  for (const capture of [false, true]) {
    const port = countingPort();
    const runs = [port, undefined].map((p) => {
      const pool = new FramePool({ slotCount: 6, slotBytes: 64 * 1024, maxFrames: 32 });
      const scan = boardByteScan();
      const frames: string[] = [];
      const input = new FrameInput({
        codec: 'h264',
        pool,
        fragmentMs: 1000,
        startTimecode: 1_700_000_000_000,
        ...(capture ? { capture: { monotonicAtStart: 0 } } : {}),
        ...(scan ? { byteScan: scan } : {}),
        ...(p ? { queuePort: p } : {}),
        onQueued: (f) => {
          frames.push(frameState(f));
          input.queue.releaseHead();
        },
      });
      let t = 0;
      for (let at = 0; at < data.length; ) {
        assert.is(input.prepare(), PREPARE.OK, 'pool has room');
        const n = Math.min(1500, input.targetSpace, data.length - at);
        input.target.set(data.subarray(at, at + n), input.targetOffset);
        t += n % 7 === 0 ? 400 : 33;
        input.push(n, t);
        at += n;
      }
      input.end();
      return frames.join('\n') + JSON.stringify(input.stats) + JSON.stringify(pool.drops);
    });
    assert.is(runs[0], runs[1], `capture ${capture}: the same frames`);
    if (capture) assert.is(port.queued, 0, 'capture clock: nothing queued by the port');
    else assert.ok(port.queued > 50 && port.notMine === 0, `read times: every frame queued by the port (${port.queued}, ${port.notMine})`);
  }
});

test.run();
