// The H.265 reader on ffmpeg/libx265 fixtures (test/fixtures/make-fixtures.sh). The oracle for access-unit
// boundaries is independent of the reader: x265 writes one AUD-less picture per access unit (one slice each), an IDR_N_LP
// then CRA pictures, each IRAP after its VPS/SPS/PPS/SEI, so the fixture's pictures are counted from its NAL headers.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { H265Reader } from '../../../../firmware/core/h265/H265Reader.ts';
import type { HevcParameters } from '../../../../firmware/core/h265/HevcParameterSets.ts';
import { parseHevcSps } from '../../../../firmware/core/h265/parseHevcSps.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, boardByteScan, fixture, scaled, suite } from '../../../harness/index.ts';

const test = suite('H265Reader');
const GOP10 = fixture('h265-320x240-10fps-gop10.h265');

interface Nal {
  at: number;
  type: number;
}

/** NAL units of an Annex-B buffer: header offset and type (oracle: a plain byte loop). */
function nals(data: Uint8Array): Nal[] {
  const out: Nal[] = [];
  for (let i = 0; i + 3 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) out.push({ at: i + 3, type: (data[i + 3]! >> 1) & 0x3f });
  }
  return out;
}

interface Read {
  frames: { key: boolean; size: number; nalTypes: number[] }[];
  params: HevcParameters[];
  reader: H265Reader;
  pool: FramePool;
}

function read(data: Uint8Array, chunk: (i: number) => number, strict = true, lastComplete = true, from = 0): Read {
  const pool = new FramePool({ slotCount: 4, slotBytes: 65536, maxFrames: 8 });
  const result: Read = { frames: [], params: [], reader: undefined as unknown as H265Reader, pool };
  const scan = boardByteScan();
  result.reader = new H265Reader({
    pool,
    strict,
    ...(scan ? { byteScan: scan } : {}),
    onFrame(frame: Frame) {
      result.frames.push({ key: frame.key, size: frame.size, nalTypes: Array.from(frame.nalType.subarray(0, frame.nalCount)) });
      pool.freeFrame(frame);
    },
    onParameterSets: (ps) => result.params.push(ps),
  });
  const r = result.reader;
  let offset = from;
  for (let i = 0; offset < data.length; i++) {
    assert.is(r.prepare(), PREPARE.OK);
    const n = Math.max(1, Math.min(chunk(i), r.cursor.targetSpace, data.length - offset));
    r.cursor.target.set(data.subarray(offset, offset + n), r.cursor.targetOffset);
    r.push(n);
    offset += n;
  }
  r.end(lastComplete);
  return result;
}

const all = nals(GOP10);
const pictures = all.filter((n) => n.type < 32).length;

test('the fixture reads as 100 pictures, an IRAP every 10th, whatever the read sizes', () => {
  assert.is(pictures, 100);
  const reference = read(GOP10, () => 4096);
  assert.is(reference.frames.length, 100);
  assert.equal(
    reference.frames.map((f, i) => (f.key ? i : -1)).filter((i) => i >= 0),
    [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
  );
  assert.equal(reference.frames[0]!.nalTypes.slice(0, 3), [32, 33, 34], 'the IRAP access unit carries VPS, SPS, PPS');
  assert.is(reference.params.length, 1, 'repeated identical parameter sets are one change');
  const total = reference.frames.reduce((s, f) => s + f.size, 0);
  assert.is(total, GOP10.length, 'every byte belongs to one frame');
  let seed = 7;
  for (const chunk of [() => 1, () => 3, () => 17, () => 65536, () => 1 + ((seed = (seed * 1103515245 + 12345) >>> 0) % 3000)]) {
    const again = read(GOP10, chunk);
    assert.equal(
      again.frames.map((f) => f.size),
      reference.frames.map((f) => f.size),
    );
  }
});

test('the SPS gives the display size, 10 fps from VUI timing, no reordering; hvcC holds VPS, SPS and PPS as in the stream', () => {
  const { params } = read(GOP10, () => 4096);
  const ps = params[0]!;
  assert.is(ps.sps.width, 320);
  assert.is(ps.sps.height, 240);
  assert.equal(ps.sps.fps, { num: 10, den: 1 });
  assert.is(ps.sps.maxNumReorderPics, 0);
  const c = ps.codecPrivate;
  assert.is(c[0], 1, 'configurationVersion');
  assert.is(c[21]! & 3, 3, 'lengthSizeMinusOne = 3');
  assert.is(c[22], 3, 'three arrays');
  let p = 23;
  const ends = (type: number) => {
    const n = all.findIndex((x) => x.type === type);
    return { at: all[n]!.at, end: all[n + 1]!.at - 3 - (GOP10[all[n + 1]!.at - 4] === 0 ? 1 : 0) };
  };
  for (const type of [32, 33, 34]) {
    assert.is(c[p]! & 0x3f, type);
    assert.is((c[p + 1]! << 8) | c[p + 2]!, 1);
    const len = (c[p + 3]! << 8) | c[p + 4]!;
    const { at, end } = ends(type);
    assert.equal(Array.from(c.subarray(p + 5, p + 5 + len)), Array.from(GOP10.subarray(at, end)), `NAL type ${type}`);
    p += 5 + len;
  }
  assert.is(p, c.length);
  assert.equal(Array.from(c.subarray(1, 13)), Array.from(ps.sps.generalProfile));
});

test('B-frames are refused from the SPS (sps_max_num_reorder_pics) with the encoder flag in the remedy', () => {
  const bframes = fixture('h265-bframes.h265');
  assert.throws(() => read(bframes, () => 4096), 'H265_B_FRAMES_UNSUPPORTED');
  assert.ok(/bframes=0/.test(new FieldcamError('H265_B_FRAMES_UNSUPPORTED', '').remedy));
  // A device (lenient) queues nothing and says why.
  const lenient = read(bframes, () => 4096, false);
  assert.is(lenient.frames.length, 0);
  assert.is(lenient.reader.lastError?.code, 'H265_B_FRAMES_UNSUPPORTED');
});

test('a device joining mid-stream starts at the next IRAP; a camera cut mid-picture drops it as truncated', () => {
  const fifth = all.filter((n) => n.type < 32)[5]!; // a trailing picture of the first GOP
  const r = read(GOP10, () => 1000, false, false, fifth.at - 3);
  assert.ok(r.frames[0]!.key, 'the first frame is an IRAP');
  assert.is(r.frames.length, 89, 'pictures 10..98 (the 99th is the unfinished tail)');
  assert.is(r.pool.drops.noParameterSets, 5, 'the pictures before the first VPS/SPS/PPS');
  assert.is(r.pool.drops.truncated, 1);
});

test('not Annex-B, a slice before its parameter sets, a cut SPS: named errors', () => {
  const cases: [Uint8Array, string][] = [
    [new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3]), 'H265_NOT_ANNEXB'],
    [GOP10.subarray(all.find((n) => n.type === 20)!.at - 3), 'H265_NO_PARAMETER_SETS'],
    [GOP10.subarray(0, all.find((n) => n.type === 33)!.at + 6), 'H265_SPS_INVALID'],
  ];
  for (const [bytes, code] of cases) assert.throws(() => read(bytes, () => 4096), code);
});

test('lenient (a device): corrupted streams never throw or hang; whatever comes out starts at an IRAP and every frame is accounted', () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (let round = 0; round < scaled(40); round++) {
    const data = GOP10.slice();
    for (let k = 0; k < 1 + (next() % 40); k++) data[next() % data.length] = next() & 0xff; // flip bytes anywhere
    const r = read(data, () => 1 + (next() % 5000), false);
    assert.ok(r.frames.length <= 110, `round ${round}: ${r.frames.length} frames`);
    if (r.frames.length > 0) assert.ok(r.frames[0]!.key, `round ${round}: the first frame out is an IRAP`);
    assert.ok(r.frames.length + r.pool.dropped > 0, `round ${round}: nothing accounted`);
  }
});

test('parseHevcSps is bounded: every cut of the SPS throws H265_SPS_INVALID, never anything else', () => {
  const sps = all.find((n) => n.type === 33)!;
  const end = all[all.indexOf(sps) + 1]!.at - 4;
  const bytes = GOP10.slice(sps.at, end);
  assert.is(parseHevcSps(bytes, 0, bytes.length).width, 320);
  for (let n = 0; n < bytes.length - 1; n++) {
    try {
      parseHevcSps(bytes, 0, n);
    } catch (err) {
      assert.ok(err instanceof FieldcamError && err.code === 'H265_SPS_INVALID', `cut at ${n}: ${String(err)}`);
    }
  }
});

test.run();
