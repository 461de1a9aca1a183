import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { FragmentQueue } from '../../../../firmware/core/pool/FragmentQueue.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('FragmentQueue');

function setup(maxFrames = 64, minFragmentMs = 0) {
  const pool = new FramePool({ slotCount: 4, slotBytes: 64, maxFrames });
  const queue = new FragmentQueue({ pool, minFragmentMs });
  let seq = 0;
  const push = (key: boolean): Frame | undefined => {
    const f = pool.newFrame();
    if (!f) return undefined;
    f.key = key;
    f.seq = seq;
    f.pts = f.dts = seq * 100;
    f.duration = 100;
    seq++;
    return queue.push(f) ? f : undefined;
  };
  return { pool, queue, push };
}

/** A GOP pattern: K = key frame, p = predicted. */
function feed(push: (key: boolean) => unknown, pattern: string): void {
  for (const c of pattern) push(c === 'K');
}

function fragments(queue: FragmentQueue): string {
  let s = '';
  for (let i = 0; i < queue.length; i++) {
    const f = queue.at(i);
    s += (f.fragmentStart ? '|' : '') + (f.key ? 'K' : 'p');
  }
  return s;
}

test('every key frame opens a fragment when minFragmentMs is 0', () => {
  const { queue, push } = setup();
  feed(push, 'KppKppKp');
  assert.is(fragments(queue), '|Kpp|Kpp|Kp');
});

test('a key frame opens a fragment only after minFragmentMs', () => {
  const { queue, push } = setup(64, 500);
  feed(push, 'KpKpKpKpKp'); // key every 200 ms
  assert.is(fragments(queue), '|KpKpKp|KpKp');
});

test('frames before the first key frame are dropped and counted', () => {
  const { pool, queue, push } = setup();
  feed(push, 'ppKp');
  assert.is(fragments(queue), '|Kp');
  assert.is(pool.drops.awaitKeyFrame, 2);
  assert.is(pool.stats.framesInUse, 2);
});

test('reclaim drops the oldest complete un-sent fragment, whole', () => {
  const { pool, queue, push } = setup();
  feed(push, 'KppKppKpp');
  queue.nextUnsent()!.sent = true; // first fragment partly in flight
  assert.ok(queue.reclaim());
  assert.is(fragments(queue), '|Kpp|Kpp');
  assert.is(queue.at(3).seq, 6, 'the middle fragment went, the in-flight one stayed');
  assert.is(pool.drops.poolFull, 3);
  assert.is(queue.droppedFragments, 1);
});

test('dropOldestUnsent (latency): whole complete un-sent fragments older than the bound, never partly sent nor open', () => {
  const { pool, queue, push } = setup();
  feed(push, 'KppKppKppKp'); // fragments at 0, 300, 600 (complete) and 900 (open)
  queue.nextUnsent()!.sent = true; // the first is on the wire
  assert.is(queue.dropOldestUnsent('latency', 600), 3, 'the fragment at 300 ms');
  assert.is(fragments(queue), '|Kpp|Kpp|Kp');
  assert.is(queue.dropOldestUnsent('latency', 600), 0, 'the next starts at 600: not older than the bound');
  assert.is(queue.dropOldestUnsent('latency', 10_000), 3, 'the fragment at 600 ms');
  assert.is(queue.dropOldestUnsent('latency', 10_000), 0, 'the open fragment stays');
  assert.is(fragments(queue), '|Kpp|Kp');
  assert.is(pool.drops.latency, 6);
  assert.is(pool.drops.poolFull, 0, 'counted under its own reason');
  assert.is(queue.nextUnsent()!.seq, 1, 'the sent cursor is intact');
});

test('reclaim drops an un-sent open fragment and waits for the next key frame', () => {
  const { pool, queue, push } = setup();
  feed(push, 'Kpp');
  for (let i = 0; i < 3; i++) queue.at(i).sent = true;
  feed(push, 'Kp');
  assert.ok(queue.reclaim()); // only the open, un-sent fragment is droppable
  assert.is(fragments(queue), '|Kpp');
  feed(push, 'ppKp');
  assert.is(fragments(queue), '|Kpp|Kp');
  assert.is(pool.drops.awaitKeyFrame, 2);
});

test('reclaim refuses when everything held is in flight', () => {
  const { queue, push } = setup();
  feed(push, 'KppKp');
  for (let i = 0; i < queue.length; i++) queue.at(i).sent = true;
  assert.is(queue.reclaim(), false);
  assert.is(queue.length, 5);
});

test('releaseOldestFragment frees exactly one fragment; rewind marks all for replay', () => {
  const { pool, queue, push } = setup();
  feed(push, 'KppKp');
  for (let i = 0; i < queue.length; i++) queue.at(i).sent = true;
  assert.is(queue.releaseOldestFragment(), 3);
  assert.is(pool.stats.framesInUse, 2);
  queue.rewind();
  assert.is(queue.nextUnsent()!.seq, 3);
});

// Property (user-needs row 9): whatever the drop pattern, what remains is whole fragments that start on a
// key frame, in order, and every frame record is accounted for.
test('property: random sends, drops and acks never leave a fragment starting on a non-key frame', () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let round = 0; round < 200; round++) {
    const { pool, queue, push } = setup(48, rand() < 0.5 ? 0 : 300);
    let lastSeq = -1;
    for (let step = 0; step < 400; step++) {
      const r = rand();
      if (r < 0.55) {
        if (pool.stats.framesInUse === 48 && !queue.reclaim()) queue.releaseOldestFragment();
        push(rand() < 0.15);
      } else if (r < 0.75) {
        const f = queue.nextUnsent();
        if (f) f.sent = true;
      } else if (r < 0.85) {
        queue.reclaim();
      } else if (r < 0.92) {
        if (queue.length && queue.at(0).sent) queue.releaseOldestFragment();
      } else if (r < 0.95) {
        queue.rewind();
      }
      if (queue.length) assert.ok(queue.at(0).fragmentStart, 'queue starts on a fragment');
      let sentSeen = true;
      for (let i = 0; i < queue.length; i++) {
        const f = queue.at(i);
        if (f.fragmentStart) assert.ok(f.key, 'fragment starts on a key frame');
        assert.ok(!(f.sent && !sentSeen), 'sent frames precede unsent ones');
        sentSeen = f.sent;
        if (i > 0) assert.ok(f.seq > queue.at(i - 1).seq, 'decode order kept');
      }
      assert.is(pool.stats.framesInUse, queue.length, 'every record is held by the queue or free');
      if (queue.length) lastSeq = Math.max(lastSeq, queue.at(queue.length - 1).seq);
    }
  }
});

test.run();
