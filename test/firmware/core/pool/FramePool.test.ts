import { MAX_NALS_PER_FRAME } from '../../../../firmware/core/media/Frame.ts';
import { FrameInput } from '../../../../firmware/core/media/FrameInput.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';

const test = suite('FramePool');

test('allocates every slot from one arena at construction', () => {
  const pool = new FramePool({ slotCount: 4, slotBytes: 1024, maxFrames: 8 });
  assert.is(pool.slots.length, 4);
  const buffer = pool.slots[0]!.bytes.buffer;
  for (const slot of pool.slots) {
    assert.is(slot.bytes.buffer, buffer);
    assert.is(slot.bytes.length, 1024);
  }
  assert.is(buffer.byteLength, 4096);
});

test('several pools in one arena (a device with several cameras): each in its own range, checked to fit', () => {
  const arena = new ArrayBuffer(4 * 1024 + 2 * 2048);
  const a = new FramePool({ slotCount: 4, slotBytes: 1024, maxFrames: 8 }, arena, 0);
  const b = new FramePool({ slotCount: 2, slotBytes: 2048, maxFrames: 8 }, arena, 4096);
  assert.equal(
    a.slots.map((s) => s.bytes.byteOffset),
    [0, 1024, 2048, 3072],
  );
  assert.equal(
    b.slots.map((s) => s.bytes.byteOffset),
    [4096, 6144],
  );
  assert.ok(a.slots.every((s) => s.bytes.buffer === arena) && b.slots.every((s) => s.bytes.buffer === arena));
  a.slots[3]!.bytes.fill(0xaa);
  assert.is(b.slots[0]!.bytes[0], 0, 'the ranges do not overlap');
  assert.throws(() => new FramePool({ slotCount: 2, slotBytes: 2048, maxFrames: 8 }, arena, 4097), 'POOL_CONFIG_INVALID');
  assert.throws(() => new FramePool({ slotCount: 1, slotBytes: 1024, maxFrames: 8 }, arena, -1), 'POOL_CONFIG_INVALID');
});

test('acquire returns undefined when full and counts the high-water mark', () => {
  const pool = new FramePool({ slotCount: 2, slotBytes: 16, maxFrames: 2 });
  const a = pool.acquire();
  const b = pool.acquire();
  assert.ok(a && b);
  assert.is(pool.acquire(), undefined);
  pool.release(a);
  assert.is(pool.stats.slotsInUse, 1);
  assert.is(pool.stats.slotHighWater, 2);
  assert.is(pool.acquire(), a);
});

test('a slot stays held while any frame references it', () => {
  const pool = new FramePool({ slotCount: 1, slotBytes: 16, maxFrames: 2 });
  const slot = pool.acquire()!;
  const f = pool.newFrame()!;
  f.slotA = slot;
  pool.retain(slot);
  pool.release(slot); // the reader lets go
  assert.is(pool.acquire(), undefined);
  pool.freeFrame(f);
  assert.is(pool.acquire(), slot);
});

test('rejects bad sizing with POOL_CONFIG_INVALID', () => {
  assert.throws(() => new FramePool({ slotCount: 0, slotBytes: 16, maxFrames: 1 }), 'POOL_CONFIG_INVALID');
  assert.throws(() => new FramePool({ slotCount: 1, slotBytes: 1.5, maxFrames: 1 }), 'POOL_CONFIG_INVALID');
});

test('over-release is a programmer error', () => {
  const pool = new FramePool({ slotCount: 1, slotBytes: 16, maxFrames: 1 });
  const slot = pool.acquire()!;
  pool.release(slot);
  assert.throws(() => pool.release(slot), /released more often/);
});

test('nalsPerFrame: MJPEG pools carry no NAL tables and still read every image; H.264 refuses such a pool', () => {
  const pool = new FramePool({ slotCount: 4, slotBytes: 64 * 1024, maxFrames: 8, nalsPerFrame: 0 });
  const record = pool.newFrame()!;
  assert.is(record.nalOffset.length, 0);
  pool.freeFrame(record);
  assert.is(new FramePool({ slotCount: 1, slotBytes: 1024, maxFrames: 1 }).newFrame()!.nalOffset.length, MAX_NALS_PER_FRAME);
  let frames = 0;
  const input = new FrameInput({
    codec: 'mjpeg',
    pool,
    fragmentMs: 1000,
    startTimecode: 0,
    onQueued: (frame) => {
      frames++;
      frame.sent = true; // written: the queue frees it
      input.queue.releaseSent();
    },
  });
  const data = fixture('mjpeg-320x240-10fps.mjpeg');
  for (let at = 0; at < data.length; ) {
    assert.is(input.prepare(), PREPARE.OK);
    const n = Math.min(4096, input.targetSpace, data.length - at);
    input.target.set(data.subarray(at, at + n), input.targetOffset);
    input.push(n);
    at += n;
  }
  input.end();
  assert.is(frames, 30);
  assert.throws(() => new FrameInput({ codec: 'h264', pool, fragmentMs: 1000, startTimecode: 0, onQueued: () => {} }), /NAL entries/);
  assert.throws(() => new FramePool({ slotCount: 1, slotBytes: 1024, maxFrames: 1, nalsPerFrame: 33 }), 'POOL_CONFIG_INVALID');
});

test.run();
