// The board's frame release (FrameReleasePort: firmware/runtime/release.c inside XS, natively and under qemu-arm)
// against FragmentQueue's and FramePool's TypeScript path: two identical pools and queues driven by the same random
// sequence (frames of one or two pieces, slots shared between frames and between a frame's two pieces, the reader's
// own references, frames sent, releaseHead, releaseSent, releaseOldestFragment) and the irregular cases (an empty
// queue, a reference count at 0, a record freed twice) leave the same state after every step — ring, head, length,
// unsentFrom, the free stack in order, the slots' references, slotsInUse, the stats — and throw the same errors.
// Under Node, where the board has no port, the contract's TypeScript reference stands in.
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { FragmentQueue } from '../../../../firmware/core/pool/FragmentQueue.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import type { FrameReleasePort } from '../../../../firmware/io/FrameRelease.ts';
import { assert, boardFrameRelease, scaled, suite } from '../../../harness/index.ts';
import { mulberry32 } from '../../../harness/support.ts';
import { referenceFrameRelease } from './referenceRelease.ts';

const test = suite('FragmentQueue release port');

const board = boardFrameRelease() ?? referenceFrameRelease;
/** The port with its answers counted: the steady state must be the port's, the rest the TypeScript path's. */
const counted = { taken: 0, left: 0 };
const port: FrameReleasePort = {
  releaseHead(queue, pool) {
    const done = board.releaseHead(queue, pool);
    if (done) counted.taken++;
    else counted.left++;
    return done;
  },
};

interface World {
  pool: FramePool;
  queue: FragmentQueue;
}

function world(maxFrames: number, withPort: boolean): World {
  const pool = new FramePool({ slotCount: 6, slotBytes: 64, maxFrames, nalsPerFrame: 0 });
  const queue = new FragmentQueue({ pool, minFragmentMs: 300, ...(withPort ? { releasePort: port } : {}) });
  return { pool, queue };
}

/** Everything the release touches, frames named by their index in the pool's records. */
function snapshot(w: World): string {
  const q = w.queue as unknown as { ring: (Frame | null)[]; head: number; unsentFrom: number; open: boolean };
  const p = w.pool as unknown as { frames: Frame[]; freeFrames: Frame[]; freeCount: number; freeLow: number; slotsInUse: number };
  const name = (f: Frame | null | undefined) => (f ? p.frames.indexOf(f) : -1);
  return JSON.stringify({
    length: w.queue.length,
    head: q.head,
    unsentFrom: q.unsentFrom,
    open: q.open,
    ring: q.ring.map(name),
    freeCount: p.freeCount,
    freeLow: p.freeLow,
    free: p.freeFrames.map(name),
    slotsInUse: p.slotsInUse,
    refs: w.pool.slots.map((s) => s.refs),
    stats: w.pool.stats,
    drops: w.pool.drops,
    pieces: p.frames.map((f) => `${f.slotA ? f.slotA.index : '-'}${f.slotB ? f.slotB.index : '-'}${f.sent ? 's' : ''}`),
  });
}

function outcome(fn: () => unknown): string {
  try {
    return `= ${JSON.stringify(fn())}`;
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

/** Runs `step` on both worlds: the same result or error, the same state after. */
function both(ts: World, viaPort: World, what: string, step: (w: World) => unknown): string {
  const a = outcome(() => step(ts));
  const b = outcome(() => step(viaPort));
  assert.is(b, a, `${what}: result`);
  assert.is(snapshot(viaPort), snapshot(ts), `${what}: state`);
  return a;
}

test('random sequences: the same state as the TypeScript path after every step, and the steady state taken by the port', () => {
  const rand = mulberry32(2026);
  counted.taken = counted.left = 0;
  let errors = 0;
  for (let run = 0; run < scaled(30); run++) {
    const maxFrames = 4 + Math.floor(rand() * 12);
    const ts = world(maxFrames, false);
    const viaPort = world(maxFrames, true);
    let pts = 0;
    for (let i = 0; i < 120; i++) {
      const what = `run ${run}, step ${i}`;
      const r = rand();
      if (r < 0.12) {
        // The reader takes a slot (one reference of its own).
        both(ts, viaPort, `${what} acquire`, (w) => w.pool.acquire()?.index ?? -1);
      } else if (r < 0.2) {
        // The reader lets go of a slot it holds (or, now and then, of one it does not: a count run down to 0).
        const s = Math.floor(rand() * 6);
        both(ts, viaPort, `${what} release slot ${s}`, (w) => (w.pool.slots[s]!.refs > 0 ? w.pool.release(w.pool.slots[s]!) : 0));
      } else if (r < 0.55) {
        // A frame of one or two pieces in held slots (shared with other frames; now and then both pieces in one slot).
        const pieces = rand() < 0.35 ? 2 : 1;
        const same = rand() < 0.25;
        const key = rand() < 0.3;
        const pick = [Math.floor(rand() * 6), Math.floor(rand() * 6)];
        const duration = 100;
        pts += duration;
        const framePts = pts;
        both(ts, viaPort, `${what} push`, (w) => {
          const held = w.pool.slots.filter((s) => s.refs > 0);
          if (held.length === 0) return 'no slot';
          const f = w.pool.newFrame();
          if (!f) return 'no record';
          const a = held[pick[0]! % held.length]!;
          w.pool.retain(a);
          f.slotA = a;
          if (pieces === 2) {
            const b = same ? a : held[pick[1]! % held.length]!;
            w.pool.retain(b);
            f.slotB = b;
          }
          f.key = key;
          f.pts = f.dts = framePts;
          f.duration = duration;
          return w.queue.push(f);
        });
      } else if (r < 0.65) {
        both(ts, viaPort, `${what} send`, (w) => {
          const f = w.queue.nextUnsent();
          if (f) f.sent = true;
          return f !== undefined;
        });
      } else if (r < 0.8) {
        if (both(ts, viaPort, `${what} releaseHead`, (w) => w.queue.releaseHead()).startsWith('RangeError')) errors++;
      } else if (r < 0.9) {
        if (both(ts, viaPort, `${what} releaseSent`, (w) => w.queue.releaseSent()).startsWith('RangeError')) errors++;
      } else if (both(ts, viaPort, `${what} releaseOldestFragment`, (w) => w.queue.releaseOldestFragment()).startsWith('RangeError')) {
        errors++;
      }
    }
  }
  assert.ok(counted.taken > scaled(30) * 20, `the port took the steady state (${counted.taken} releases)`);
  assert.ok(counted.left > 0 && errors > 0, `irregular cases left to the TypeScript path (${counted.left}, ${errors} errors)`);
});

test('an empty queue: the same RangeError, nothing changed', () => {
  const ts = world(4, false);
  const viaPort = world(4, true);
  assert.is(
    both(ts, viaPort, 'empty', (w) => w.queue.releaseHead()),
    'RangeError: releaseHead on an empty queue',
  );
  assert.is(
    both(ts, viaPort, 'empty, releaseSent', (w) => w.queue.releaseSent()),
    '= 0',
  );
  assert.is(
    both(ts, viaPort, 'empty, releaseOldestFragment', (w) => w.queue.releaseOldestFragment()),
    '= 0',
  );
});

/** One key frame queued in each world, its pieces in slots `a` and `b` (-1: none), with one reference each. */
function queued(a: number, b: number): [World, World] {
  const worlds: [World, World] = [world(4, false), world(4, true)];
  for (const w of worlds) {
    for (let i = 0; i < 3; i++) w.pool.acquire();
    const f = w.pool.newFrame()!;
    f.slotA = w.pool.slots[a]!;
    w.pool.retain(f.slotA);
    if (b >= 0) {
      f.slotB = w.pool.slots[b]!;
      w.pool.retain(f.slotB);
    }
    f.key = true;
    f.duration = 100;
    assert.ok(w.queue.push(f), 'queued');
  }
  return worlds;
}

test('a reference count at 0 (piece A, piece B, one slot in both pieces): the same RangeError and the same state after it', () => {
  counted.left = 0;
  // Piece A's slot already at 0: nothing released by freeFrame, the ring moved on (as the TypeScript path leaves it).
  let [ts, viaPort] = queued(0, 1);
  both(ts, viaPort, 'A run down', (w) => {
    w.pool.release(w.pool.slots[0]!);
    w.pool.release(w.pool.slots[0]!);
  });
  assert.is(
    both(ts, viaPort, 'A at 0', (w) => w.queue.releaseHead()),
    'RangeError: slot 0 released more often than retained',
  );
  // Piece B's: piece A was given back before the error.
  [ts, viaPort] = queued(0, 1);
  both(ts, viaPort, 'B run down', (w) => {
    w.pool.release(w.pool.slots[1]!);
    w.pool.release(w.pool.slots[1]!);
  });
  assert.is(
    both(ts, viaPort, 'B at 0', (w) => w.queue.releaseHead()),
    'RangeError: slot 1 released more often than retained',
  );
  // Both pieces in slot 2, which holds one reference only: the second piece finds it at 0.
  [ts, viaPort] = queued(2, 2);
  both(ts, viaPort, 'shared run down', (w) => {
    w.pool.release(w.pool.slots[2]!);
    w.pool.release(w.pool.slots[2]!);
  });
  assert.is(
    both(ts, viaPort, 'shared at 1', (w) => w.queue.releaseHead()),
    'RangeError: slot 2 released more often than retained',
  );
  assert.is(counted.left, 3, 'each left to the TypeScript path');
  // Both pieces in one slot with their two references: the steady state, the slot free after.
  [ts, viaPort] = queued(2, 2);
  counted.taken = 0;
  both(ts, viaPort, 'shared', (w) => w.queue.releaseHead());
  assert.is(counted.taken, 1, 'taken by the port');
  assert.is(viaPort.pool.slots[2]!.refs, 1, "the reader's reference left");
});

test('pieces not as the pool keeps them (a count that is not a number, a piece field deleted): left to the TypeScript path, the same result', () => {
  counted.left = 0;
  let [ts, viaPort] = queued(0, 1);
  both(ts, viaPort, 'odd piece', (w) => {
    const f = w.queue.at(0);
    (f as unknown as { slotB: object }).slotB = { index: 9, refs: '1' };
  });
  both(ts, viaPort, 'odd piece released', (w) => w.queue.releaseHead());
  [ts, viaPort] = queued(0, 1);
  both(ts, viaPort, 'piece deleted', (w) => delete (w.queue.at(0) as unknown as { slotB?: unknown }).slotB);
  assert.ok(both(ts, viaPort, 'piece deleted, released', (w) => w.queue.releaseHead()).startsWith('TypeError'), 'the TypeScript path throws');
  assert.is(counted.left, 2, 'both left to the TypeScript path');
});

test('a record freed twice (the free stack at its end): the TypeScript path grows it, the same state', () => {
  const [ts, viaPort] = queued(0, -1);
  counted.left = 0;
  both(ts, viaPort, 'freed while queued', (w) => {
    const f = w.queue.at(0);
    w.pool.freeFrame(f); // a caller's bug: the record goes back while the queue holds it
    f.slotA = w.pool.slots[0]!;
    w.pool.retain(f.slotA);
    return w.pool.freeFrameCount;
  });
  // Every record is on the free stack already (4 of 4), so the queued one goes on a fifth entry.
  both(ts, viaPort, 'released', (w) => w.queue.releaseHead());
  assert.is(counted.left, 1, 'left to the TypeScript path');
});

test.run();
