import { pushAvccPayload } from '../../../../firmware/core/h264/pushAvccPayload.ts';
import { type Frame, MAX_NALS_PER_FRAME } from '../../../../firmware/core/media/Frame.ts';
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';
import { findNals, hex, readH264 } from './h264TestKit.ts';

const test = suite('h264/pushAvccPayload');

function flatten(views: ViewList): Uint8Array {
  const out = new Uint8Array(views.byteLength);
  let at = 0;
  for (let i = 0; i < views.count; i++) {
    out.set(views.sources[i]!.subarray(views.offsets[i]!, views.offsets[i]! + views.lengths[i]!), at);
    at += views.lengths[i]!;
  }
  return out;
}

/** Splits a length-prefixed (4-byte) buffer into its NAL units; throws when the lengths do not tile it. */
function parseAvcc(bytes: Uint8Array): Uint8Array[] {
  const nals: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new Error(`dangling ${bytes.length - at} bytes`);
    const length = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
    if (length === 0 || at + 4 + length > bytes.length) throw new Error(`bad NAL length ${length} at ${at}`);
    nals.push(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return nals;
}

interface Converted {
  samples: Uint8Array[];
  scratchViews: number;
  slotViews: number;
  repeatsIdentical: boolean;
}

/** Converts every frame of `name` as it arrives (slots are reused once frames are freed). */
function convert(name: string, slotBytes = 65536): Converted {
  const scratch = new Uint8Array(4 * MAX_NALS_PER_FRAME);
  const views = new ViewList(2 * MAX_NALS_PER_FRAME);
  const result: Converted = { samples: [], scratchViews: 0, slotViews: 0, repeatsIdentical: true };
  readH264(fixture(name), {
    slotBytes,
    slotCount: 3,
    reads: 1000,
    onFrame(frame: Frame, pool: FramePool) {
      views.clear();
      pushAvccPayload(frame, views, scratch);
      const first = flatten(views);
      for (let i = 0; i < views.count; i++) {
        if (views.sources[i] === scratch) result.scratchViews++;
        else result.slotViews++;
      }
      // A replay converts the same frame again: the output must not change.
      views.clear();
      pushAvccPayload(frame, views, scratch);
      const again = flatten(views);
      if (again.length !== first.length || again.some((b, i) => b !== first[i])) result.repeatsIdentical = false;
      result.samples.push(first);
      pool.freeFrame(frame);
    },
  });
  return result;
}

test('every fixture: the AVCC samples hold exactly the original NAL units, minus AUDs', () => {
  const names = ['h264-320x240-10fps-gop10.h264', 'h264-aud-sei-3byte.h264', 'h264-1080p-30fps.h264', 'h264-long-gop.h264'];
  for (const name of names) {
    for (const slotBytes of [65536, 6300]) {
      const data = fixture(name);
      const expected = findNals(data)
        .filter((n) => n.type !== 9)
        .map((n) => data.subarray(n.header, n.end));
      const converted = convert(name, slotBytes);
      const got = converted.samples.flatMap(parseAvcc);
      assert.is(got.length, expected.length, `${name} NAL count`);
      for (let i = 0; i < got.length; i++) assert.equal(got[i], expected[i], `${name} NAL ${i}`);
      assert.ok(converted.repeatsIdentical, `${name}: converting twice gives the same bytes`);
    }
  }
});

test('4-byte start codes are rewritten in place; 3-byte ones take their length from scratch', () => {
  const fourByte = convert('h264-1080p-30fps.h264');
  const nals = findNals(fixture('h264-1080p-30fps.h264'));
  const threeByteNals = nals.filter((n) => n.prefix === 3).length;
  assert.is(fourByte.scratchViews, threeByteNals, 'one scratch length per 3-byte start code');
  const threeByte = convert('h264-aud-sei-3byte.h264');
  const audless = findNals(fixture('h264-aud-sei-3byte.h264')).filter((n) => n.type !== 9).length;
  assert.is(threeByte.scratchViews, audless, 'every NAL of the 3-byte fixture gets its length from scratch');
});

test('in-place rewrite: the 4 start-code bytes become the big-endian length, in the slot itself', () => {
  const pool = new FramePool({ slotCount: 1, slotBytes: 64, maxFrames: 1 });
  const slot = pool.acquire()!;
  slot.bytes.set(hex('00 00 00 01 09 f0 00 00 00 01 65 88 84 00 00 01 0c ff 80 00 00 01 41 9a'), 0);
  const frame = pool.newFrame()!;
  frame.slotA = slot;
  frame.startA = 0;
  frame.endA = 24;
  const table: [number, number, number, number][] = [
    [4, 2, 4, 9],
    [10, 4, 4, 5],
    [17, 3, 3, 12],
    [22, 2, 3, 1],
  ];
  table.forEach(([offset, length, prefix, type], i) => {
    frame.nalOffset[i] = offset;
    frame.nalLength[i] = length;
    frame.nalPrefix[i] = prefix;
    frame.nalType[i] = type;
  });
  frame.nalCount = 4;
  const views = new ViewList(8);
  const scratch = new Uint8Array(16).fill(0xee);
  pushAvccPayload(frame, views, scratch);
  // AUD (9) and filler (12) are left out; the IDR slice keeps its place with 00 00 00 04 before it.
  assert.equal(flatten(views), hex('00 00 00 04 65 88 84 00 00 00 00 02 41 9a'));
  assert.equal(slot.bytes.subarray(6, 14), hex('00 00 00 04 65 88 84 00'));
  assert.is(views.sources[0], slot.bytes);
  assert.equal([views.offsets[0], views.lengths[0]], [6, 8]);
  assert.equal(scratch.subarray(12, 16), hex('00 00 00 02'), 'the length of NAL index 3 sits at scratch[12..16)');
  assert.throws(() => pushAvccPayload(frame, new ViewList(8), new Uint8Array(8)), /scratch must hold 4 bytes per NAL unit/);
});

test('a frame split across two slots converts the same as a contiguous one', () => {
  const pool = new FramePool({ slotCount: 2, slotBytes: 16, maxFrames: 1 });
  const a = pool.acquire()!;
  const b = pool.acquire()!;
  a.bytes.set(hex('00 00 00 01 65 11 22'), 9); // piece A: slot a [9, 16)
  b.bytes.set(hex('33 00 00 01 41 44'), 0); // piece B: slot b [0, 6)
  const frame = pool.newFrame()!;
  Object.assign(frame, { slotA: a, startA: 9, endA: 16, slotB: b, startB: 0, endB: 6, nalCount: 2 });
  frame.nalOffset.set([4, 11]); // 65 11 22 | 33 spans both slots
  frame.nalLength.set([4, 2]);
  frame.nalPrefix.set([4, 3]);
  frame.nalType.set([5, 1]);
  const views = new ViewList(8);
  pushAvccPayload(frame, views, new Uint8Array(8));
  assert.equal(flatten(views), hex('00 00 00 04 65 11 22 33 00 00 00 02 41 44'));
  assert.is(views.count, 4); // [length+65 11 22 in a] [33 in b] [scratch length] [41 44 in b]
});

test.run();
