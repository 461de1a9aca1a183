// Deterministic fuzzing: thousands of mutated and truncated copies of the fixtures. Every outcome must be
// frames or a FieldcamError (never another exception, never a hang), the same whatever the read sizes, and
// no slot or frame record may leak, in strict and lenient mode alike.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { H264Reader } from '../../../../firmware/core/h264/H264Reader.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, fixture, scaled, suite } from '../../../harness/index.ts';
import { concat, type FrameSummary, prng, summarize } from './h264TestKit.ts';

const test = suite('h264/H264Reader fuzz');

const ITERATIONS = 3000;
const SLOT_BYTES = 8192;

interface Outcome {
  frames: FrameSummary[];
  code: string | undefined;
  message: string | undefined;
}

function run(data: Uint8Array, strict: boolean, readSize: () => number): Outcome {
  const pool = new FramePool({ slotCount: 3, slotBytes: SLOT_BYTES, maxFrames: 4 });
  const outcome: Outcome = { frames: [], code: undefined, message: undefined };
  const reader = new H264Reader({
    pool,
    strict,
    onFrame(frame) {
      assert.ok(frame.nalCount > 0 && frame.size > 0 && frame.size <= SLOT_BYTES, 'a well-formed frame record');
      outcome.frames.push(summarize(frame));
      pool.freeFrame(frame);
    },
  });
  try {
    let offset = 0;
    let guard = 0;
    while (offset < data.length) {
      if (++guard > data.length + 10) throw new Error('no progress: the reader would hang');
      const state = reader.prepare();
      if (state !== PREPARE.OK) throw new Error(`prepare() returned ${state} with every frame freed`);
      const n = Math.max(1, Math.min(readSize(), reader.cursor.targetSpace, data.length - offset));
      reader.cursor.target.set(data.subarray(offset, offset + n), reader.cursor.targetOffset);
      reader.push(n);
      offset += n;
    }
    reader.end();
  } catch (err) {
    if (!(err instanceof FieldcamError)) throw err;
    outcome.code = err.code;
    outcome.message = err.message;
  }
  assert.is(pool.stats.slotsInUse, 0, 'slots released');
  assert.is(pool.stats.framesInUse, 0, 'frame records returned');
  return outcome;
}

function mutate(base: Uint8Array, random: () => number): Uint8Array {
  let data = base;
  const at = () => Math.floor(random() * (data.length + 1));
  const steps = 1 + Math.floor(random() * 3);
  for (let s = 0; s < steps; s++) {
    const kind = Math.floor(random() * 8);
    if (kind === 0) {
      data = data.slice();
      const n = 1 + Math.floor(random() * 8);
      for (let k = 0; k < n && data.length; k++) data[Math.floor(random() * data.length)] = Math.floor(random() * 256);
    } else if (kind === 1) {
      data = data.slice();
      if (data.length) data[Math.floor(random() * data.length)]! ^= 1 << Math.floor(random() * 8);
    } else if (kind === 2) {
      data = data.subarray(0, at());
    } else if (kind === 3) {
      const p = at();
      data = concat(data.subarray(0, p), random() < 0.5 ? new Uint8Array([0, 0, 1]) : new Uint8Array([0, 0, 0, 1]), data.subarray(p));
    } else if (kind === 4) {
      const p = at();
      data = concat(data.subarray(0, p), new Uint8Array(1 + Math.floor(random() * 8)), data.subarray(p));
    } else if (kind === 5) {
      const p = at();
      data = concat(data.subarray(0, p), data.subarray(Math.min(data.length, p + 1 + Math.floor(random() * 300))));
    } else if (kind === 6) {
      const p = at();
      const q = Math.min(data.length, p + Math.floor(random() * 2000));
      data = concat(data.subarray(0, q), data.subarray(p, q), data.subarray(q));
    } else {
      const junk = Uint8Array.from({ length: 1 + Math.floor(random() * 40) }, () => (random() < 0.4 ? 0 : Math.floor(random() * 256)));
      const p = at();
      data = concat(data.subarray(0, p), junk, data.subarray(p));
    }
  }
  return data;
}

test(`${ITERATIONS} mutated streams: frames or a FieldcamError, independent of read sizes, nothing leaked`, () => {
  const bases = [
    fixture('h264-320x240-10fps-gop10.h264').subarray(0, 12000),
    fixture('h264-aud-sei-3byte.h264').subarray(0, 9000),
    fixture('h264-1080p-30fps.h264').subarray(0, 9000),
    fixture('h264-long-gop.h264').subarray(0, 4000),
    fixture('h264-bframes.h264'),
  ];
  const random = prng(20240601);
  const codes: Record<string, number> = {};
  let withFrames = 0;
  const iterations = scaled(ITERATIONS); // the name keeps the full count: Node and native XS run it all
  for (let i = 0; i < iterations; i++) {
    const data = mutate(bases[i % bases.length]!, random);
    const small = 1 + Math.floor(random() * 64);
    const strictA = run(data, true, () => 1 + Math.floor(random() * 900));
    const strictB = run(data, true, () => small);
    if (JSON.stringify(strictA) !== JSON.stringify(strictB)) {
      const show = (o: Outcome) => JSON.stringify([o.frames.length, o.code, o.message]);
      throw new Error(`iteration ${i} (${data.length} bytes): ${show(strictA)} vs ${show(strictB)} in reads of ${small}`);
    }
    codes[strictA.code ?? 'none'] = (codes[strictA.code ?? 'none'] ?? 0) + 1;
    const lenient = run(data, false, () => 1 + Math.floor(random() * 900));
    if (data.length > 0) assert.is(lenient.code, undefined, `iteration ${i}: lenient mode threw ${lenient.code}: ${lenient.message}`);
    if (lenient.frames.length) withFrames++;
    // Whatever lenient mode lets through begins at a key frame.
    if (lenient.frames.length) assert.is(lenient.frames[0]!.key, true, `iteration ${i}`);
  }
  // The mutations must reach deep into the parser, not only its first checks.
  for (const code of ['none', 'H264_TRUNCATED_NAL', 'H264_FORBIDDEN_BIT', 'H264_NOT_ANNEXB', 'H264_B_FRAMES_UNSUPPORTED']) {
    assert.ok((codes[code] ?? 0) > 0, `no outcome ${code}: ${JSON.stringify(codes)}`);
  }
  assert.ok(withFrames > iterations / 2);
});

test('pure noise of every kind, in strict and lenient mode', () => {
  const random = prng(99);
  for (let i = 0, n = scaled(300); i < n; i++) {
    const zeros = random() * 0.6;
    const data = Uint8Array.from({ length: 1 + Math.floor(random() * 3000) }, () => {
      const r = random();
      return r < zeros ? 0 : r < zeros + 0.1 ? 1 : Math.floor(random() * 256);
    });
    run(data, true, () => 1 + Math.floor(random() * 500));
    const lenient = run(data, false, () => 1 + Math.floor(random() * 500));
    assert.is(lenient.code, undefined);
  }
});

test.run();
