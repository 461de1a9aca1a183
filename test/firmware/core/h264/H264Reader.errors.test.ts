// Damaged and hostile inputs. Each case is built from the 320x240 fixture (100 frames, IDR every 10; see
// H264Reader.test.ts for where its numbers come from) by cutting, inserting or flipping bytes at known NAL units.
import { H264Reader } from '../../../../firmware/core/h264/H264Reader.ts';
import { MAX_NALS_PER_FRAME } from '../../../../firmware/core/media/Frame.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';
import { BitWriter, concat, findNals, hex, prng, readH264 } from './h264TestKit.ts';

const test = suite('h264/H264Reader errors');

const GOP10 = 'h264-320x240-10fps-gop10.h264';

/** The fixture with its NAL units and the byte offset where each access unit starts (frames tile the file). */
function source(): { data: Uint8Array; nals: ReturnType<typeof findNals>; frameStart: number[] } {
  const data = fixture(GOP10);
  const frameStart: number[] = [];
  let at = 0;
  for (const f of readH264(data).frames) {
    frameStart.push(at);
    at += f.size;
  }
  frameStart.push(at);
  return { data, nals: findNals(data), frameStart };
}

/** `data` with `insert` placed at `at`, replacing `remove` bytes. */
function splice(data: Uint8Array, at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concat(data.subarray(0, at), insert, data.subarray(at + remove));
}

function lenient(data: Uint8Array, slotBytes?: number) {
  const r = readH264(data, { strict: false, slotBytes });
  return { frames: r.frames.length, drops: { ...r.pool.drops }, corrupt: r.reader.corruptDrops, code: r.reader.lastError?.code, r };
}

test('empty input: INPUT_EMPTY in both modes; a reader that ended refuses more calls', () => {
  for (const strict of [true, false]) {
    const pool = new FramePool({ slotCount: 2, slotBytes: 1024, maxFrames: 2 });
    const reader = new H264Reader({ pool, strict, onFrame: () => {} });
    assert.throws(() => reader.end(), 'INPUT_EMPTY');
    assert.throws(() => reader.prepare(), 'H264_CALL_ORDER');
    assert.is(pool.stats.slotsInUse, 0);
  }
  assert.throws(() => new H264Reader({ pool: new FramePool({ slotCount: 1, slotBytes: 16, maxFrames: 1 }) } as never), /onFrame/);
});

test('garbage is H264_NOT_ANNEXB in strict mode and yields nothing in lenient mode', () => {
  const random = prng(3);
  const noise = Uint8Array.from({ length: 5000 }, () => 2 + Math.floor(random() * 254));
  const cases: [string, Uint8Array, RegExp][] = [
    ['random', noise, /found 0x[0-9a-f]{2} at byte 0/],
    ['all 0xFF', new Uint8Array(3000).fill(0xff), /found 0xff at byte 0/],
    ['all zeros', new Uint8Array(3000), /more than 32 zero bytes/],
    ['MP4', hex('00 00 00 20 66 74 79 70 69 73 6f 6d'), /found 0x20 at byte 3/],
    ['MPEG-TS', hex('47 40 00 10 00 00 b0 0d'), /MPEG-TS/],
    ['zeros then no start code', hex('00 00 00 00'), /no Annex-B start code \(00 00 01\) in 4 bytes/],
  ];
  for (const [label, bytes, message] of cases) {
    assert.throws(() => readH264(bytes), 'H264_NOT_ANNEXB', label);
    assert.throws(() => readH264(bytes, { reads: 1 }), message, label);
    assert.is(lenient(bytes).frames, 0, label);
  }
});

test('a few leading zero bytes are fine; garbage before the first start code is skipped only in lenient mode', () => {
  const { data } = source();
  assert.is(readH264(concat(new Uint8Array(7), data)).frames.length, 100);
  assert.is(readH264(concat(new Uint8Array(7), data), { reads: 1 }).frames.length, 100);
  const dirty = concat(hex('12 34 56'), data);
  assert.throws(() => readH264(dirty), 'H264_NOT_ANNEXB');
  assert.is(lenient(dirty).frames, 100);
});

test('a truncated SPS: strict H264_TRUNCATED_NAL; lenient drops the first GOP and resumes at the next IDR', () => {
  const { data, nals } = source();
  const sps = nals[0]!;
  assert.is(sps.type, 7);
  const cut = splice(data, sps.header + 6, sps.end - sps.header - 6);
  assert.throws(() => readH264(cut), 'H264_TRUNCATED_NAL');
  assert.throws(() => readH264(cut), /SPS: ends after 48 bits/);
  const r = lenient(cut);
  assert.equal([r.frames, r.corrupt, r.drops.noParameterSets, r.code], [90, 1, 9, 'H264_NO_PARAMETER_SETS']);
});

test('a broken PPS: H264_TRUNCATED_NAL when cut, H264_PPS_INVALID for impossible ids', () => {
  const { data, nals } = source();
  const pps = nals[1]!;
  assert.is(pps.type, 8);
  const cut = splice(data, pps.header, pps.end - pps.header, hex('68'));
  assert.throws(() => readH264(cut), 'H264_TRUNCATED_NAL');
  assert.throws(() => readH264(cut), /PPS: ends after 8 bits/);
  const bigId = splice(data, pps.header, pps.end - pps.header, new BitWriter().u(8, 0x68).ue(300).ue(0).u(1, 0).nal());
  assert.throws(() => readH264(bigId), 'H264_PPS_INVALID');
  assert.throws(() => readH264(bigId), /pic_parameter_set_id 300/);
  assert.is(lenient(bigId).frames, 90);
});

test('slices before any SPS/PPS: strict H264_NO_PARAMETER_SETS; lenient counts noParameterSets until the next IDR', () => {
  const { data, nals } = source();
  const pps = nals[1]!;
  assert.is(pps.type, 8);
  const headless = data.subarray(pps.end); // starts at the SEI before the first IDR slice
  assert.throws(() => readH264(headless), 'H264_NO_PARAMETER_SETS');
  assert.throws(() => readH264(headless), /arrived before an SPS and a PPS/);
  const r = lenient(headless);
  assert.equal([r.frames, r.drops.noParameterSets, r.drops.awaitKeyFrame], [90, 10, 0]);
});

test('slice headers cut short, empty NAL units and a lone slice header byte are H264_TRUNCATED_NAL', () => {
  const { data, frameStart } = source();
  // A slice of frame 99 whose header stops after first_mb_in_slice (41 = P slice, 40 = '010…' = 1).
  const tail = concat(data, hex('00 00 01 41 40'));
  assert.throws(() => readH264(tail), 'H264_TRUNCATED_NAL');
  assert.equal([lenient(tail).frames, lenient(tail).corrupt], [99, 1]);
  // A slice NAL that is only its header byte, in the middle of the stream.
  const lone = splice(data, frameStart[5]!, 0, hex('00 00 00 01 41'));
  assert.throws(() => readH264(lone), /only its 1-byte header/);
  // A start code directly followed by another.
  const empty = splice(data, frameStart[5]!, 0, hex('00 00 01'));
  assert.throws(() => readH264(empty), /empty NAL unit/);
  const r = lenient(empty);
  assert.equal([r.frames, r.code], [95, 'H264_TRUNCATED_NAL']);
});

test('forbidden_zero_bit: strict H264_FORBIDDEN_BIT with the byte offset; lenient drops that frame and the rest of its GOP', () => {
  const { data, frameStart } = source();
  const at = frameStart[35]! + 4; // header byte of frame 35's only slice
  assert.is(data[at]! & 0x1f, 1);
  const bad = data.slice();
  bad[at]! |= 0x80;
  assert.throws(() => readH264(bad), 'H264_FORBIDDEN_BIT');
  assert.throws(() => readH264(bad), new RegExp(`NAL unit at byte ${at} \\(header 0xc1, frame #35\\)`));
  const r = lenient(bad);
  assert.equal([r.frames, r.corrupt, r.drops.awaitKeyFrame], [95, 1, 4]);
});

test('more NAL units than a frame record holds: H264_TOO_MANY_NALS', () => {
  const { data, frameStart } = source();
  const filler = hex('00 00 01 0c ff ff 80'); // filler_data NAL units never start an access unit
  const fillers = concat(...Array.from({ length: MAX_NALS_PER_FRAME }, () => filler));
  const bad = splice(data, frameStart[1]!, 0, fillers);
  assert.throws(() => readH264(bad), 'H264_TOO_MANY_NALS');
  assert.throws(() => readH264(bad), /access unit #0 at byte 0 has more than 32 NAL units/);
  assert.equal([lenient(bad).frames, lenient(bad).corrupt], [90, 1]);
  // Exactly as many as fit is fine: 4 NAL units of frame 0 + 28 fillers.
  const fits = splice(data, frameStart[1]!, 0, concat(...Array.from({ length: MAX_NALS_PER_FRAME - 4 }, () => filler)));
  assert.is(readH264(fits).frames.length, 100);
});

test('an access unit larger than a slot: strict POOL_FRAME_TOO_LARGE with sizes; lenient drops it and resyncs at the next IDR', () => {
  const { data, frameStart } = source();
  const big = concat(hex('00 00 01 0c'), new Uint8Array(9000).fill(0xff), hex('80'));
  for (const [frame, emitted, waited] of [
    [30, 90, 9],
    [35, 95, 4],
  ] as const) {
    const bad = splice(data, frameStart[frame + 1]!, 0, big);
    for (const reads of [1000, 4096, 7]) {
      assert.throws(() => readH264(bad, { slotBytes: 8192, reads }), 'POOL_FRAME_TOO_LARGE');
      assert.throws(() => readH264(bad, { slotBytes: 8192, reads }), /8192-byte slot/);
      const r = readH264(bad, { strict: false, slotBytes: 8192, reads });
      const counts = [r.frames.length, r.pool.drops.frameTooLarge, r.pool.drops.awaitKeyFrame];
      assert.equal(counts, [emitted, 1, waited], `frame ${frame} reads ${reads}`);
      assert.is(r.frames[frame]!.key, true, 'the first frame after the drop is a key frame');
      assert.is(r.pool.stats.slotsInUse, 0);
    }
  }
  // Frames far larger than a slot are refused by the cursor while they are read (no third slot).
  const huge = splice(data, frameStart[31]!, 0, concat(hex('00 00 01 0c'), new Uint8Array(30000).fill(0xff), hex('80')));
  assert.throws(() => readH264(huge, { slotBytes: 8192 }), /is already \d+ bytes, more than fits in a 8192-byte slot/);
  assert.is(readH264(huge, { strict: false, slotBytes: 8192 }).frames.length, 90);
});

test('impossible slice headers are H264_SLICE_INVALID; a foreign PPS id is H264_NO_PARAMETER_SETS', () => {
  const { data, frameStart } = source();
  const slice = (firstMb: number, sliceType: number, ppsId: number, header = 0x41) =>
    concat(hex('00 00 01'), new BitWriter().u(8, header).ue(firstMb).ue(sliceType).ue(ppsId).u(8, 0xaa).nal());
  // Inserted after frame 4's slice: a slice with first_mb_in_slice != 0 joins frame 4, so lenient mode drops
  // frames 4..9 (95 - 1 = 94 left); an AUD opens a picture of its own, so only 5..9 go (95 left).
  const cases: [Uint8Array, string, RegExp, number][] = [
    [slice(5000, 0, 0), 'H264_SLICE_INVALID', /first_mb_in_slice 5000 at byte 6505, frame #4 is beyond the 300 macroblocks/, 94],
    [slice(7, 10, 0), 'H264_SLICE_INVALID', /slice_type 10/, 94],
    [concat(hex('00 00 01 09 f0'), slice(10, 5, 0)), 'H264_SLICE_INVALID', /frame #5 starts at macroblock 10: its first slice is missing/, 95],
    [slice(7, 5, 3), 'H264_NO_PARAMETER_SETS', /refers to PPS 3/, 94],
    [slice(7, 7, 0, 0x65), 'H264_SLICE_INVALID', /mixes IDR and non-IDR slices/, 94],
    [slice(0, 5, 0, 0x65), 'H264_SLICE_INVALID', /IDR slice .* has slice_type 5/, 95],
    [concat(hex('00 00 01 22'), new Uint8Array(8).fill(0x55)), 'H264_SPS_UNSUPPORTED', /data-partitioned/, 94],
  ];
  for (const [insert, code, message, left] of cases) {
    const bad = splice(data, frameStart[5]!, 0, insert);
    assert.throws(() => readH264(bad), code);
    assert.throws(() => readH264(bad), message);
    assert.is(lenient(bad).frames, left, String(message));
  }
  // An extra IDR picture (first_mb_in_slice 0, slice_type 7 = I) is a valid access unit of its own.
  assert.is(readH264(splice(data, frameStart[5]!, 0, slice(0, 7, 0, 0x65))).frames.length, 101);
});

test('the end of the stream: zero padding is trailing_zero_8bits; a cut picture is H264_TRUNCATED_NAL in strict mode', () => {
  const { data, nals } = source();
  // B.1.2: zero bytes after the last NAL unit are padding, not part of it.
  const padded = concat(data, new Uint8Array(3));
  const r = readH264(padded);
  assert.is(r.frames.length, 100);
  assert.is(r.frames[99]!.size, readH264(data).frames[99]!.size, 'the padding is not in the last frame');
  // A slice cut right after its NAL header: without first_mb_in_slice it cannot be placed in a picture, so
  // strict mode refuses it and lenient mode drops the access unit it would have joined.
  const cutSlice = concat(data, hex('00 00 01 41 00'));
  assert.throws(() => readH264(cutSlice), 'H264_TRUNCATED_NAL');
  assert.equal([lenient(cutSlice).frames, lenient(cutSlice).corrupt], [99, 1]);
  const headersOnly = concat(data, data.subarray(0, nals[2]!.header - 4)); // SPS + PPS of frame 0 again
  assert.throws(() => readH264(headersOnly), /ends with 2 NAL unit\(s\) .* but no slice/);
  assert.is(lenient(headersOnly).frames, 100);
  assert.throws(() => readH264(concat(data, hex('00 00 01'))), /empty NAL unit/);
});

test('a frame record shortage: strict POOL_EXHAUSTED; lenient counts poolFull and waits for an IDR', () => {
  const { data } = source();
  const held: unknown[] = [];
  const keep = (frame: unknown) => held.push(frame); // never freed
  assert.throws(() => readH264(data, { slotBytes: 1 << 17, slotCount: 2, maxFrames: 2, onFrame: keep }), 'POOL_EXHAUSTED');
  const r = readH264(data, { strict: false, slotBytes: 1 << 17, slotCount: 2, maxFrames: 2, onFrame: keep });
  // Frames 0 and 1 take both records; every later IDR finds none (10 x poolFull) and P frames wait (88).
  assert.equal([r.pool.drops.poolFull, r.pool.drops.awaitKeyFrame], [10, 88]);
});

test('abandonFrame after POOL_EXHAUSTED: the partial frame is dropped and frames resume at an IDR', () => {
  const { data } = source();
  const pool = new FramePool({ slotCount: 3, slotBytes: 6000, maxFrames: 100 });
  const held: Parameters<typeof pool.freeFrame>[0][] = [];
  const emitted: { seq: number; key: boolean }[] = [];
  const reader = new H264Reader({
    pool,
    strict: false,
    onFrame(f) {
      emitted.push({ seq: f.seq, key: f.key });
      held.push(f);
    },
  });
  let offset = 0;
  const abandoned: number[] = [];
  while (offset < data.length) {
    const state = reader.prepare();
    if (state === PREPARE.POOL_EXHAUSTED) {
      // The uploader cannot free anything yet: drop the frame in progress and lose the input meanwhile.
      reader.abandonFrame();
      abandoned.push(emitted.length);
      for (const f of held.splice(0)) pool.freeFrame(f);
      offset += 1500;
      continue;
    }
    const n = Math.min(reader.cursor.targetSpace, 512, data.length - offset);
    reader.cursor.target.set(data.subarray(offset, offset + n), reader.cursor.targetOffset);
    reader.push(n);
    offset += n;
  }
  reader.end();
  for (const f of held.splice(0)) pool.freeFrame(f);
  assert.ok(abandoned.length > 0, 'the pool ran out');
  assert.is(pool.drops.poolFull, abandoned.length);
  for (const at of abandoned) if (at < emitted.length) assert.is(emitted[at]!.key, true, 'the first frame after a gap is an IDR');
  assert.ok(emitted.length < 100 && emitted.length > 50);
  assert.equal(pool.stats.slotsInUse, 0);
});

test('push validates its argument', () => {
  const pool = new FramePool({ slotCount: 2, slotBytes: 64, maxFrames: 2 });
  const reader = new H264Reader({ pool, onFrame: (f) => pool.freeFrame(f) });
  reader.prepare();
  assert.throws(() => reader.push(65), /prepared space is 64 bytes/);
  assert.throws(() => reader.push(-1), /push\(n\): n is -1/);
  assert.throws(() => reader.push(1.5), /push\(n\)/);
});

test.run();
