// The pipeline side of `stop`/`start`/`set fragmentMs` in the frame queue: frames pushed while paused are
// freed and counted as `stopped`; after resume the next key frame opens a fragment; the fragment duration
// changes from the next fragment.
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { FragmentQueue } from '../../../../firmware/core/pool/FragmentQueue.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('control: frame queue stop/start and fragment duration');

function rig(minFragmentMs: number) {
  const pool = new FramePool({ slotCount: 2, slotBytes: 1024, maxFrames: 64, nalsPerFrame: 0 });
  const queue = new FragmentQueue({ pool, minFragmentMs });
  let pts = 0;
  /** Pushes one frame 100 ms after the previous; `key` every GOP. Returns whether it was kept and opened a fragment. */
  const push = (key: boolean) => {
    const f = pool.newFrame()!;
    f.key = key;
    f.pts = f.dts = pts;
    f.duration = 100;
    pts += 100;
    const kept = queue.push(f);
    return kept ? (f.fragmentStart ? 'start' : 'kept') : 'dropped';
  };
  return { pool, queue, push };
}

test('paused: every frame is dropped as stopped; resumed: the next key frame opens a fragment', () => {
  const r = rig(1000);
  assert.equal([r.push(true), r.push(false), r.push(false)], ['start', 'kept', 'kept']);
  r.queue.pause();
  assert.ok(r.queue.isPaused);
  assert.equal([r.push(false), r.push(true), r.push(false)], ['dropped', 'dropped', 'dropped']);
  assert.is(r.pool.drops.stopped, 3);
  assert.is(r.pool.stats.framesInUse, 3, 'dropped frames went back to the pool');
  r.queue.resume();
  assert.equal([r.push(false), r.push(true), r.push(false)], ['dropped', 'start', 'kept']);
  assert.is(r.pool.drops.awaitKeyFrame, 1);
  assert.is(r.pool.drops.stopped, 3);
});

test('setMinFragmentMs: applies from the next fragment boundary', () => {
  const r = rig(1000);
  const gop = () => [r.push(true), r.push(false), r.push(false), r.push(false), r.push(false)][0];
  assert.equal([gop(), gop(), gop()], ['start', 'kept', 'start'], '1 s fragments from 500 ms GOPs');
  r.queue.setMinFragmentMs(2000);
  assert.equal([gop(), gop(), gop(), gop(), gop()], ['kept', 'kept', 'kept', 'start', 'kept'], 'the open fragment (from 1000 ms) now closes at 3000 ms');
  assert.throws(() => r.queue.setMinFragmentMs(-1), /minFragmentMs/);
});

test.run();
