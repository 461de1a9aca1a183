// The incremental-parser contract (docs/architecture.md, "Incremental parsers") for every in-place reader of the
// codec table: H264Reader, H265Reader (one AnnexBReader state machine) and MjpegReader, each on its real fixture.
// Throw and latch: after end() or an error every call throws <CODEC>_CALL_ORDER and the slots are released; a
// callback calling back in gets <CODEC>_CALL_ORDER and the reader goes on consistently; a bad count is a RangeError.
import { type ErrorCode, FieldcamError } from '../../../../firmware/core/errors.ts';
import { CODEC_IDS, CODECS, type CodecId } from '../../../../firmware/core/media/codecs.ts';
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import type { FrameReader } from '../../../../firmware/core/media/FrameReader.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, boardByteScan, fixture, suite } from '../../../harness/index.ts';

const test = suite('media/FrameReader contract');

const FIXTURES: Readonly<Record<CodecId, string>> = Object.freeze({
  h264: 'h264-320x240-10fps-gop10.h264',
  h265: 'h265-320x240-10fps-gop10.h265',
  mjpeg: 'mjpeg-320x240-10fps.mjpeg',
});
const CALL_ORDER: Readonly<Record<CodecId, ErrorCode>> = Object.freeze({
  h264: 'H264_CALL_ORDER',
  h265: 'H265_CALL_ORDER',
  mjpeg: 'MJPEG_CALL_ORDER',
});

interface Harness {
  reader: FrameReader;
  pool: FramePool;
  frames: number;
}

function open(id: CodecId, onFrame?: (h: Harness, frame: Frame) => void, strict = true): Harness {
  const pool = new FramePool({ slotCount: 4, slotBytes: 65536, maxFrames: 8, nalsPerFrame: CODECS[id].nalTables ? undefined : 0 });
  const h = { pool, frames: 0 } as Harness;
  const scan = boardByteScan();
  h.reader = CODECS[id].createReader({
    pool,
    strict,
    ...(scan ? { byteScan: scan } : {}),
    onFrame(frame) {
      h.frames++;
      pool.freeFrame(frame);
      onFrame?.(h, frame);
    },
    onParameterSets: () => {},
    onFormat: () => {},
  });
  return h;
}

/** Pushes `data` in reads of `chunk` bytes. */
function feed(h: Harness, data: Uint8Array, chunk = 4096): void {
  for (let offset = 0; offset < data.length; ) {
    assert.is(h.reader.prepare(), PREPARE.OK);
    const n = Math.min(chunk, h.reader.cursor.targetSpace, data.length - offset);
    h.reader.cursor.target.set(data.subarray(offset, offset + n), h.reader.cursor.targetOffset);
    h.reader.push(n);
    offset += n;
  }
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof FieldcamError ? err.code : `${(err as Error).name}: ${(err as Error).message}`;
  }
  return 'no error';
}

/** Every method of the reader, called once. */
function everyCall(reader: FrameReader): Record<string, () => unknown> {
  return {
    prepare: () => reader.prepare(),
    push: () => reader.push(1),
    end: () => reader.end(true),
    overflow: () => reader.overflow(),
    abandonFrame: () => reader.abandonFrame(),
  };
}

for (const id of CODEC_IDS) {
  const data = fixture(FIXTURES[id]);
  const callOrder = CALL_ORDER[id];

  test(`${id}: after end() every call is ${callOrder} and no slot is held`, () => {
    const h = open(id);
    feed(h, data);
    h.reader.end(true);
    assert.ok(h.frames > 0);
    for (const [name, call] of Object.entries(everyCall(h.reader))) assert.is(codeOf(call), callOrder, name);
    assert.is(h.pool.stats.slotsInUse, 0);
  });

  test(`${id}: after a strict error every call is ${callOrder}; a bad count is a RangeError that ends nothing`, () => {
    const h = open(id);
    assert.is(h.reader.prepare(), PREPARE.OK);
    assert.ok(/^RangeError/.test(codeOf(() => h.reader.push(h.reader.cursor.targetSpace + 1))));
    assert.ok(/^RangeError/.test(codeOf(() => h.reader.push(-1))));
    // 200 bytes of 0x55: neither a start code nor an SOI. Strict readers refuse it at push or at end.
    h.reader.cursor.target.fill(0x55, h.reader.cursor.targetOffset, h.reader.cursor.targetOffset + 200);
    const first = codeOf(() => {
      h.reader.push(200);
      h.reader.end(true);
    });
    assert.is(first, CODECS[id].notThisCodec);
    for (const [name, call] of Object.entries(everyCall(h.reader))) assert.is(codeOf(call), callOrder, name);
    assert.is(h.pool.stats.slotsInUse, 0);
  });

  test(`${id}: a callback calling back in gets ${callOrder}; the reader goes on and yields every frame`, () => {
    const whole = open(id);
    feed(whole, data);
    whole.reader.end(true);
    const seen: string[] = [];
    const h = open(id, (self) => {
      for (const [name, call] of Object.entries(everyCall(self.reader))) seen.push(`${name} ${codeOf(call)}`);
    });
    feed(h, data, 1000);
    h.reader.end(true);
    assert.is(h.frames, whole.frames);
    assert.is(seen.length, 5 * whole.frames);
    assert.equal(
      [...new Set(seen)].sort(),
      Object.keys(everyCall(h.reader))
        .map((name) => `${name} ${callOrder}`)
        .sort(),
    );
  });

  test(`${id}: a throwing onFrame ends that push with its error; later calls are ${callOrder}`, () => {
    const h = open(id, () => {
      throw new FieldcamError('CONFIG_INVALID', 'the callee stops');
    });
    assert.is(
      codeOf(() => {
        feed(h, data);
        h.reader.end(true);
      }),
      'CONFIG_INVALID',
    );
    assert.is(h.frames, 1);
    for (const [name, call] of Object.entries(everyCall(h.reader))) assert.is(codeOf(call), callOrder, name);
  });
}

test.run();
