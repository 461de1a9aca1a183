// Access-unit counts, sizes and key frames are FFmpeg's: `ffprobe -show_entries packet=size,flags -of csv=p=0 <fixture>`
// lists one packet per access unit (its h264 parser splits the raw stream), K marking IDRs. The hash folds the
// packet sizes in order: h = (h * 31 + size) >>> 0.
import { H264Reader } from '../../../../firmware/core/h264/H264Reader.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';
import { concat, type FrameSummary, findNals, prng, readH264, summarize } from './h264TestKit.ts';

const test = suite('h264/H264Reader');

interface Expected {
  readonly name: string;
  readonly frames: number;
  readonly sizeHash: number;
  readonly keys: readonly number[];
  readonly firstSizes: readonly number[];
  /** Slots just larger than the largest access unit, so frames straddle two slots. */
  readonly tinySlot: number;
}

const FIXTURES: readonly Expected[] = [
  {
    name: 'h264-320x240-10fps-gop10.h264',
    frames: 100,
    sizeHash: 2806740124,
    keys: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
    firstSizes: [4840, 512, 366, 368, 416, 429, 381, 423, 374, 375, 4435, 536],
    tinySlot: 4900,
  },
  {
    name: 'h264-aud-sei-3byte.h264',
    frames: 30,
    sizeHash: 2372671040,
    keys: [0, 10, 20],
    firstSizes: [4843, 516, 370, 372, 420, 433, 385, 427, 378, 379, 4438, 540],
    tinySlot: 4900,
  },
  {
    name: 'h264-1080p-30fps.h264',
    frames: 30,
    sizeHash: 769265468,
    keys: [0],
    firstSizes: [6274, 689, 601, 639, 585, 582, 627, 644, 616, 543, 722, 690],
    tinySlot: 6300,
  },
  {
    name: 'h264-long-gop.h264',
    frames: 260,
    sizeHash: 2035353571,
    keys: [0, 250],
    firstSizes: [1876, 78, 94, 95, 109, 114, 102, 97, 111, 119, 165, 121],
    tinySlot: 1900,
  },
];

function sizeHash(frames: FrameSummary[]): number {
  let h = 0;
  for (const f of frames) h = (Math.imul(h, 31) + f.size) >>> 0;
  return h;
}

test('every fixture splits into the access units FFmpeg finds, with IDRs exactly as key frames', () => {
  for (const fx of FIXTURES) {
    const { frames, pool } = readH264(fixture(fx.name));
    assert.is(frames.length, fx.frames, `${fx.name} frame count`);
    assert.equal(
      frames.slice(0, 12).map((f) => f.size),
      fx.firstSizes,
      `${fx.name} sizes`,
    );
    assert.is(sizeHash(frames), fx.sizeHash, `${fx.name} size hash`);
    assert.equal(
      frames.flatMap((f, i) => (f.key ? [i] : [])),
      fx.keys,
      `${fx.name} key frames`,
    );
    assert.equal(
      frames.map((f) => f.seq),
      frames.map((_, i) => i),
      `${fx.name} seq`,
    );
    // key is true iff the access unit carries an IDR slice (type 5).
    for (const f of frames)
      assert.is(
        f.key,
        f.nals.some((n) => n[3] === 5),
      );
    assert.equal(pool.stats.slotsInUse, 0, 'the reader released its slots');
    assert.equal(pool.stats.framesInUse, 0);
  }
});

test('NAL tables match an independent byte-by-byte splitter, NAL for NAL', () => {
  for (const fx of FIXTURES) {
    const data = fixture(fx.name);
    const reference = findNals(data);
    const { frames } = readH264(data);
    let start = 0; // the fixtures have no trailing zeros, so frames tile the file
    let k = 0;
    for (const f of frames) {
      for (const [offset, length, prefix, type] of f.nals) {
        const ref = reference[k++]!;
        const expected = [ref.header, ref.end - ref.header, ref.prefix, ref.type];
        assert.equal([start + offset!, length, prefix, type], expected, `${fx.name} NAL ${k - 1}`);
      }
      start += f.size;
    }
    assert.is(k, reference.length);
    assert.is(start, data.length);
  }
  // An access unit of the AUD fixture: AUD, SPS, PPS, SEI, IDR slice, all after 3-byte start codes.
  const first = readH264(fixture('h264-aud-sei-3byte.h264')).frames[0]!;
  assert.equal(
    first.nals.map((n) => n[3]),
    [9, 7, 8, 6, 5],
  );
  assert.equal(
    first.nals.map((n) => n[2]),
    [3, 3, 3, 3, 3],
  );
  assert.is(first.nals[0]![0], 3);
});

test('frames and NAL tables are identical for reads of 1, 2, 3, 7, 4096 bytes, irregular reads, and tiny slots', () => {
  const random = prng(11);
  for (const fx of FIXTURES) {
    const data = fixture(fx.name);
    const reference = readH264(data).frames;
    const irregular = Array.from({ length: 64 }, () => 1 + Math.floor(random() * 600));
    for (const reads of [1, 2, 3, 7, 4096, (i: number) => irregular[i % 64]!]) {
      for (const slotBytes of [65536, fx.tinySlot]) {
        let straddling = 0;
        const frames: FrameSummary[] = [];
        readH264(data, {
          reads,
          slotBytes,
          slotCount: 3,
          onFrame(frame, pool) {
            if (frame.slotB) straddling++;
            frames.push(summarize(frame));
            pool.freeFrame(frame);
          },
        });
        const label = `${fx.name} reads ${typeof reads === 'number' ? reads : 'irregular'} slot ${slotBytes}`;
        assert.equal(frames, reference, label);
        if (slotBytes === fx.tinySlot) assert.ok(straddling > 0, `${label}: some frames straddle two slots`);
      }
    }
  }
});

test('parameter sets are reported once, before the first frame, and repeated SPS/PPS allocate nothing new', () => {
  const result = readH264(fixture('h264-320x240-10fps-gop10.h264')); // SPS/PPS before each of its 10 IDRs
  assert.is(result.parameterSets.length, 1);
  assert.is(result.framesBeforeParameterSets, 0);
  const ps = result.parameterSets[0]!;
  assert.is(result.reader.parameterSets, ps);
  assert.equal([ps.sps.width, ps.sps.height, ps.sps.fps], [320, 240, { num: 10, den: 1 }]);
  assert.equal(ps.spsBytes.subarray(0, 4), new Uint8Array([0x67, 0x42, 0xc0, 0x0b]));
  assert.is(ps.ppsBytes[0]! & 0x1f, 8);
  assert.equal(ps.codecPrivate.subarray(0, 6), new Uint8Array([1, 0x42, 0xc0, 0x0b, 0xff, 0xe1]));
  const hd = readH264(fixture('h264-1080p-30fps.h264')).parameterSets;
  assert.equal([hd.length, hd[0]!.sps.width, hd[0]!.sps.height], [1, 1920, 1080]);
});

test('a change of SPS is reported again before the first frame that uses it', () => {
  const a = fixture('h264-320x240-10fps-gop10.h264');
  const b = fixture('h264-long-gop.h264');
  const result = readH264(concat(a, b));
  assert.is(result.frames.length, 360);
  assert.equal(
    result.parameterSets.map((p) => `${p.sps.width}x${p.sps.height}`),
    ['320x240', '160x120'],
  );
});

test('frames arrive as soon as the next access unit starts, not at the end of the stream', () => {
  const data = fixture('h264-320x240-10fps-gop10.h264');
  const pool = new FramePool({ slotCount: 3, slotBytes: 65536, maxFrames: 4 });
  let emitted = 0;
  const reader = new H264Reader({
    pool,
    onFrame(f) {
      emitted++;
      pool.freeFrame(f);
    },
  });
  const second = findNals(data).filter((n) => n.type === 1)[0]!; // first slice of frame 1
  assert.is(reader.prepare(), PREPARE.OK);
  // Feed through the header byte and the first slice-data byte of frame 1: frame 0 must be out.
  const upTo = second.header + 2;
  reader.cursor.target.set(data.subarray(0, upTo), reader.cursor.targetOffset);
  reader.push(upTo);
  assert.is(emitted, 1);
  reader.end();
  assert.is(emitted, 2);
});

test('B-frames: strict throws H264_B_FRAMES_UNSUPPORTED naming the frame; lenient drops from there', () => {
  // ffprobe (decode order): I P P P B …; the B picture is access unit #4 at byte 3563.
  const data = fixture('h264-bframes.h264');
  assert.throws(() => readH264(data), 'H264_B_FRAMES_UNSUPPORTED');
  assert.throws(() => readH264(data), /B slice \(slice_type 6\) at byte 3567, frame #4/);
  const lenient = readH264(data, { strict: false });
  assert.is(lenient.frames.length, 4);
  assert.is(lenient.reader.lastError?.code, 'H264_B_FRAMES_UNSUPPORTED');
  assert.is(lenient.reader.corruptDrops, 1);
  assert.is(lenient.pool.drops.awaitKeyFrame, 5);
});

test('lenient mode reads clean fixtures exactly like strict mode', () => {
  for (const fx of FIXTURES) {
    const data = fixture(fx.name);
    const lenient = readH264(data, { strict: false, reads: 333 });
    assert.equal(lenient.frames, readH264(data).frames, fx.name);
    assert.is(lenient.reader.lastError, undefined);
  }
});

test.run();
