// FrameInput.readFrom: prepare, read and push in one call (the device's camera loop and the benches' Muxer). The
// frames it makes are the ones prepare / read / push make, with and without read times; what it could not do
// comes back as a READ_FROM result with nothing read. Pure ECMAScript: runs under Node and inside XS.
import { FrameInput, READ_FROM, type FrameInputOptions } from '../../../../firmware/core/media/FrameInput.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { SOURCE_END, type FrameSource } from '../../../../firmware/io/FrameSource.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';

const test = suite('FrameInput.readFrom: one call per camera read, the same frames as prepare/read/push');

const GOP10 = fixture('h264-320x240-10fps-gop10.h264'); // 100 AUs, 10 fps, an IDR every 10
const T0 = 1_700_000_000_000;

/** A source over `data` in reads of varying size; `at(i)` is read i's time (NaN: a source without read times). */
function arraySource(data: Uint8Array, at: (i: number) => number, reads: number[] = []): FrameSource & { lastReadAt: number } {
  let pos = 0;
  const source = {
    lastReadAt: 0,
    recorded: false,
    read(into: Uint8Array, offset: number, length: number): number {
      if (pos >= data.length) return SOURCE_END;
      const n = Math.min(length, data.length - pos, 1 + ((reads.length * 977) % 3000));
      into.set(data.subarray(pos, pos + n), offset);
      source.lastReadAt = at(reads.length);
      reads.push(n);
      pos += n;
      return n;
    },
    close() {},
  };
  return source;
}

/** The frames' identities: offset, size, key, timestamps (in queue order: the consumer holds them all). */
function held(input: FrameInput): string[] {
  const out: string[] = [];
  for (let i = 0; i < input.queue.length; i++) {
    const f: Frame = input.queue.at(i);
    out.push(`${f.streamOffset}+${f.size} k${f.key ? 1 : 0} ${f.pts}/${f.dts}/${f.duration} ${f.fragmentStart ? 'F' : ''} @${f.capturedAt}`);
  }
  return out;
}

function make(extra: Partial<FrameInputOptions> = {}): FrameInput {
  return new FrameInput({
    codec: 'h264',
    pool: new FramePool({ slotCount: 8, slotBytes: 65536, maxFrames: 256 }),
    fps: { num: 10, den: 1 },
    fragmentMs: 1000,
    startTimecode: T0,
    onQueued: () => {},
    ...extra,
  });
}

/** The same reads through prepare / target / push(n, at), as the camera loop did before readFrom. */
function byPush(input: FrameInput, source: FrameSource, limit: number): void {
  for (;;) {
    assert.is(input.prepare(), PREPARE.OK);
    const n = source.read(input.target, input.targetOffset, Math.min(limit, input.targetSpace));
    if (n === SOURCE_END) return;
    input.push(n, source.lastReadAt);
  }
}

test('a file without read times: the same frames, the reads no larger than the limit or the space', () => {
  const reads: number[] = [];
  const a = make();
  const source = arraySource(GOP10, () => Number.NaN, reads);
  let total = 0;
  for (let n = a.readFrom(source, 2048); n !== READ_FROM.END; n = a.readFrom(source, 2048)) {
    assert.ok(n > 0 && n <= 2048, `read of ${n}`);
    total += n;
  }
  a.end(true);
  assert.is(total, GOP10.length);
  const b = make();
  byPush(
    b,
    arraySource(GOP10, () => Number.NaN),
    2048,
  );
  b.end(true);
  assert.is(a.stats.frames, 100);
  assert.equal(held(a), held(b));
});

test('a live camera: frames stamped from source.lastReadAt exactly as push(n, at) stamps them', () => {
  const at = (i: number) => 500 + i * 37;
  const live = { strict: false, capture: { monotonicAtStart: 0 }, overflowBytes: 4096, maxFragmentMs: 10_000 };
  const a = make(live);
  const source = arraySource(GOP10, at);
  while (a.readFrom(source, 4096) !== READ_FROM.END);
  a.end(false);
  const b = make(live);
  byPush(b, arraySource(GOP10, at), 4096);
  b.end(false);
  assert.ok(a.stats.frames >= 90);
  assert.equal(held(a), held(b));
});

test('capture timing and a source without read times: RangeError, as push(n) without `at`', () => {
  const input = make({ strict: false, capture: { monotonicAtStart: 0 } });
  assert.throws(
    () =>
      input.readFrom(
        arraySource(GOP10, () => Number.NaN),
        4096,
      ),
    /capture timing needs the read time/,
  );
});

test('nothing available (0) and a full pool: the result, nothing pushed; POOL_EXHAUSTED without a read', () => {
  const input = make({ pool: new FramePool({ slotCount: 2, slotBytes: 4096, maxFrames: 64 }), strict: false });
  const empty: FrameSource = { lastReadAt: 0, recorded: false, read: () => 0, close() {} };
  assert.is(input.readFrom(empty, 4096), READ_FROM.NOTHING);
  assert.is(input.bytesIn, 0);
  // The consumer holds every frame: two slots fill, then there is no room to read into.
  const reads: number[] = [];
  const source = arraySource(GOP10, () => Number.NaN, reads);
  let result = 0;
  for (let i = 0; i < 200 && (result = input.readFrom(source, 4096)) > 0; i++);
  assert.is(result, READ_FROM.POOL_EXHAUSTED);
  assert.is(READ_FROM.POOL_EXHAUSTED, -1 - PREPARE.POOL_EXHAUSTED);
  const count = reads.length;
  assert.is(input.readFrom(source, 4096), READ_FROM.POOL_EXHAUSTED);
  assert.is(reads.length, count, 'the source was not read');
});

test.run();
