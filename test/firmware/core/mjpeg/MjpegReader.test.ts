import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { MJPEG_LIMITS, MjpegReader } from '../../../../firmware/core/mjpeg/MjpegReader.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';
import { ascii, concat, FIXTURE, fixtureImages, insertAt, markerAt, run, sameBytes, segment } from './mjpegKit.ts';

const test = suite('MjpegReader');

const images = fixtureImages();
const stream = fixture(FIXTURE);
const largest = Math.max(...images.map((i) => i.length));
/** Slots just larger than the largest image, at an odd size so images start anywhere in a slot. */
const tight = { slotBytes: largest + 7, slotCount: 3 };

/** A tiny JPEG-looking blob with its own SOI, frame header, scan and EOI, as an EXIF thumbnail carries. */
const thumbnail = concat([
  [0xff, 0xd8],
  segment(0xc0, [8, 0, 16, 0, 16, 1, 1, 0x11, 0]),
  segment(0xda, [1, 1, 0, 0, 63, 0]),
  [0x12, 0xff, 0x00, 0x34, 0xff, 0xd9, 0xff, 0xd8, 0xff, 0xd9],
]);
/** APP1 "Exif\0\0" + a little-endian TIFF header + the thumbnail (layout of EXIF's IFD1 JPEG thumbnail). */
const exifApp1 = segment(0xe1, concat([ascii('Exif\0\0'), ascii('II*\0'), [8, 0, 0, 0, 0, 0], thumbnail]));

function withExif(image: Uint8Array): Uint8Array {
  return insertAt(image, 2, exifApp1);
}

function assertFrames(actual: Uint8Array[], expected: Uint8Array[], label: string): void {
  assert.is(actual.length, expected.length, `${label}: frame count`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(sameBytes(actual[i]!, expected[i]!), `${label}: frame ${i} differs from image ${i}`);
  }
}

test('the oracle split finds 30 images of 320x240 in the fixture', () => {
  assert.is(images.length, 30);
  for (const image of images) {
    const sof = markerAt(image, 0xc0);
    assert.is((image[sof + 5]! << 8) | image[sof + 6]!, 240);
    assert.is((image[sof + 7]! << 8) | image[sof + 8]!, 320);
  }
});

test('the fixture gives exactly 30 frames of 320x240, each one whole image from FFD8 to FFD9', () => {
  const r = run(stream);
  assert.is(r.error, undefined);
  assertFrames(r.frames, images, 'fixture');
  for (const f of r.frames) {
    assert.ok(f[0] === 0xff && f[1] === 0xd8, 'starts with SOI');
    assert.ok(f[f.length - 2] === 0xff && f[f.length - 1] === 0xd9, 'ends with EOI');
  }
  assert.equal(r.formats, ['320x240']);
  assert.is(r.size, '320x240');
  assert.is(r.counters.frames, 30);
  assert.is(r.counters.paddingBytes, 0);
  r.flags.forEach((f, i) => void assert.equal(f, { key: true, nalCount: 0, seq: i }));
  assert.is(r.slotsInUse, 0, 'end() releases the cursor');
  assert.is(r.framesInUse, 0);
});

test('identical frames for reads of 1, 2, 3, 5, 64 and 4096 bytes, in roomy and tight slots', () => {
  for (const slots of [{ slotBytes: 65536, slotCount: 4 }, tight, { slotBytes: largest, slotCount: 3 }]) {
    for (const readSize of [1, 2, 3, 5, 64, 4096]) {
      const r = run(stream, { ...slots, readSize });
      const label = `slot ${slots.slotBytes}, reads of ${readSize}`;
      assert.is(r.error, undefined, `${label}: ${String(r.error)}`);
      assertFrames(r.frames, images, label);
      assert.is(r.slotsInUse, 0, label);
      if (slots.slotBytes < 10000) assert.ok(r.straddled > 10, `${label}: images straddle slots (${r.straddled})`);
    }
  }
});

test('irregular reads give the same frames', () => {
  let seed = 7;
  const r = run(stream, { ...tight, readSize: () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 700) + 1 });
  assert.is(r.error, undefined);
  assertFrames(r.frames, images, 'irregular');
});

test('an EXIF APP1 holding a thumbnail with its own FFD8…FFD9 is part of one frame', () => {
  const exif = images.map(withExif);
  for (const readSize of [1, 3, 4096]) {
    const r = run(concat(exif), { readSize });
    assert.is(r.error, undefined);
    assertFrames(r.frames, exif, `exif, reads of ${readSize}`);
    assert.equal(r.formats, ['320x240'], 'the thumbnail size is not the image size');
  }
});

test('padding between images is skipped and counted; fill bytes before an SOI are padding too', () => {
  const pads = [
    new Uint8Array(100), // zeros to a DMA block
    new Uint8Array(ascii('\r\n--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 5789\r\n\r\n')),
    new Uint8Array([0xff, 0xff, 0xff]),
    new Uint8Array([0xff, 0x00, 0xff, 0xd9, 0xd8]),
  ];
  const parts: Uint8Array[] = [];
  let padding = 0;
  images.forEach((image, i) => {
    parts.push(image);
    const pad = pads[i % pads.length]!;
    parts.push(pad);
    padding += pad.length;
  });
  for (const readSize of [1, 2, 4096]) {
    const r = run(concat(parts), { ...tight, readSize });
    assert.is(r.error, undefined);
    assertFrames(r.frames, images, `padded, reads of ${readSize}`);
    assert.is(r.counters.paddingBytes, padding);
  }
});

test(`strict: up to ${MJPEG_LIMITS.maxLeadingBytes} bytes before the first SOI are padding; more is MJPEG_NOT_JPEG`, () => {
  const ok = run(concat([new Uint8Array(MJPEG_LIMITS.maxLeadingBytes), stream]), { readSize: 5 });
  assert.is(ok.error, undefined);
  assert.is(ok.frames.length, 30);
  assert.is(ok.counters.paddingBytes, MJPEG_LIMITS.maxLeadingBytes);
  for (const readSize of [1, 4096]) {
    const bad = run(concat([new Uint8Array(MJPEG_LIMITS.maxLeadingBytes + 1), stream]), { readSize });
    assert.is(bad.code, 'MJPEG_NOT_JPEG', `reads of ${readSize}`);
    assert.is(bad.frames.length, 0);
    assert.is(bad.slotsInUse, 0);
  }
});

test('lenient: a device joining a stream mid-image skips to the first SOI', () => {
  const tail = images[0]!.subarray(3000);
  for (const readSize of [1, 4096]) {
    const r = run(concat([tail, ...images.slice(1)]), { readSize, strict: false });
    assert.is(r.error, undefined);
    assertFrames(r.frames, images.slice(1), `mid-image start, reads of ${readSize}`);
    assert.is(r.counters.paddingBytes, tail.length);
  }
});

test('strict: a gap between images over the padding limit is MJPEG_NOT_JPEG; lenient skips it', () => {
  const input = concat([images[0]!, new Uint8Array(MJPEG_LIMITS.maxPaddingBytes + 1), images[1]!]);
  const strict = run(input);
  assert.is(strict.code, 'MJPEG_NOT_JPEG');
  assert.is(strict.frames.length, 1);
  const lenient = run(input, { strict: false });
  assert.is(lenient.error, undefined);
  assertFrames(lenient.frames, images.slice(0, 2), 'lenient gap');
  assert.is(lenient.counters.paddingBytes, MJPEG_LIMITS.maxPaddingBytes + 1);
});

test('restart markers, fill bytes and stuffed bytes in entropy-coded data do not end the image', () => {
  const image = images[0]!;
  const sos = markerAt(image, 0xda);
  const mid = sos + 14 + 200;
  const edited = concat([image.subarray(0, mid), [0xff, 0xd3, 0xff, 0x00, 0xff, 0xff, 0xd7], image.subarray(mid, image.length - 2), [0xff, 0xff, 0xff, 0xd9]]);
  const r = run(concat([edited, images[1]!]), { readSize: 1 });
  assert.is(r.error, undefined);
  assertFrames(r.frames, [edited, images[1]!], 'restart markers');
});

test('parameterless markers (TEM, RSTn) between marker segments are passed over (T.81 B.1.1.3)', () => {
  const edited = insertAt(images[0]!, 2, [0xff, 0x01, 0xff, 0xff, 0xd5]);
  const r = run(concat([edited, images[1]!]), { readSize: 1 });
  assert.is(r.error, undefined);
  assertFrames(r.frames, [edited, images[1]!], 'TEM/RST');
});

test('a second scan (progressive layout: DHT + SOS after entropy data) stays in the same image', () => {
  const image = images[0]!;
  const dht = markerAt(image, 0xc4);
  const sos = markerAt(image, 0xda);
  const tables = image.subarray(dht, markerAt(image, 0xc0));
  const scan = image.subarray(sos, image.length - 2);
  const twoScans = concat([image.subarray(0, image.length - 2), tables, scan, [0xff, 0xd9]]);
  const r = run(concat([twoScans, images[1]!]), { readSize: 3 });
  assert.is(r.error, undefined);
  assertFrames(r.frames, [twoScans, images[1]!], 'two scans');
});

test('a later image with a different size calls onFormat again', () => {
  const resized = images.map((image, i) => {
    if (i !== 10) return image;
    const copy = image.slice();
    const sof = markerAt(copy, 0xc0);
    copy[sof + 7] = 0x02; // 0x0240 = 576 samples per line
    return copy;
  });
  const r = run(concat(resized));
  assert.is(r.error, undefined);
  assert.equal(r.formats, ['320x240', '576x240', '320x240']);
  assert.is(r.frames.length, 30);
});

test('a frame header with 0 lines takes its height from DNL (T.81 B.2.5); without DNL it has no size', () => {
  const image = images[0]!.slice();
  const sof = markerAt(image, 0xc0);
  image[sof + 5] = image[sof + 6] = 0;
  const withDnl = concat([image.subarray(0, image.length - 2), segment(0xdc, [0x00, 0xf0]), [0xff, 0xd9]]);
  const r = run(withDnl, { readSize: 2 });
  assert.is(r.error, undefined);
  assert.equal(r.formats, ['320x240']);
  assert.is(run(image).code, 'MJPEG_NO_FRAME_SIZE');
});

test('the first frame header of an image gives its size: a hierarchical DHP (T.81 B.3.2) before the SOF', () => {
  const image = images[0]!;
  const dhp = segment(0xde, [8, 0x01, 0xe0, 0x02, 0x80, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  const r = run(insertAt(image, markerAt(image, 0xc0), dhp));
  assert.is(r.error, undefined);
  assert.equal(r.formats, ['640x480']);
});

// ── bad input ──

test('empty input is INPUT_EMPTY; strict: garbage and all-0xFF are MJPEG_NOT_JPEG, short or long', () => {
  const garbage = [
    new Uint8Array(ascii('hello, camera')),
    new Uint8Array(ascii('x'.repeat(5000))),
    new Uint8Array(10).fill(0xff),
    new Uint8Array(5000).fill(0xff),
  ];
  for (const strict of [true, false]) assert.is(run(new Uint8Array(0), { strict }).code, 'INPUT_EMPTY');
  for (const input of garbage) {
    const strict = run(input, { readSize: 7 });
    assert.is(strict.code, 'MJPEG_NOT_JPEG', `${input.length} bytes`);
    assert.is(strict.slotsInUse, 0);
    // A device keeps waiting for an SOI; what it skipped is counted.
    const lenient = run(input, { readSize: 7, strict: false });
    assert.is(lenient.error, undefined);
    assert.is(lenient.frames.length, 0);
    assert.is(lenient.counters.paddingBytes, input.length);
    assert.is(lenient.slotsInUse, 0);
  }
});

test('strict: a source that stops sending SOIs is refused while reading, before any end()', () => {
  for (const lead of [new Uint8Array(0), images[0]!]) {
    const pool = new FramePool({ slotCount: 3, slotBytes: 65536, maxFrames: 2 });
    const reader = new MjpegReader({ pool, onFrame: (f) => pool.freeFrame(f) });
    const noise = new Uint8Array(lead.length === 0 ? 4096 : MJPEG_LIMITS.maxPaddingBytes + 1).fill(0x10);
    assert.throws(
      () => {
        for (const chunk of [lead, noise.subarray(0, 30000), noise.subarray(30000)]) {
          if (chunk.length === 0) continue;
          for (let pos = 0; pos < chunk.length; ) {
            assert.is(reader.prepare(), PREPARE.OK);
            const n = Math.min(reader.cursor.targetSpace, chunk.length - pos);
            reader.cursor.target.set(chunk.subarray(pos, pos + n), reader.cursor.targetOffset);
            reader.push(n);
            pos += n;
          }
        }
      },
      'MJPEG_NOT_JPEG',
      `lead ${lead.length}`,
    );
    assert.is(pool.stats.slotsInUse, 0);
  }
});

test('truncated mid-entropy-data: strict MJPEG_TRUNCATED after the whole frames, lenient counts it', () => {
  const cut = stream.subarray(0, images.slice(0, 5).reduce((n, i) => n + i.length, 0) + 3000);
  const strict = run(cut, { readSize: 64 });
  assert.is(strict.code, 'MJPEG_TRUNCATED');
  assertFrames(strict.frames, images.slice(0, 5), 'strict truncated');
  assert.is(strict.slotsInUse, 0);
  const lenient = run(cut, { readSize: 64, strict: false });
  assert.is(lenient.error, undefined);
  assertFrames(lenient.frames, images.slice(0, 5), 'lenient truncated');
  assert.is(lenient.counters.truncated, 1);
});

test('an image cut short by the next SOI: strict MJPEG_TRUNCATED, lenient resyncs at that SOI', () => {
  const parts = images.slice(0, 6).map((image, i) => (i === 3 ? image.subarray(0, 2500) : image));
  const strict = run(concat(parts));
  assert.is(strict.code, 'MJPEG_TRUNCATED');
  assert.is(strict.frames.length, 3);
  for (const readSize of [1, 4096]) {
    const lenient = run(concat(parts), { strict: false, readSize });
    assert.is(lenient.error, undefined);
    assertFrames(
      lenient.frames,
      [0, 1, 2, 4, 5].map((i) => images[i]!),
      `lenient, reads of ${readSize}`,
    );
    assert.is(lenient.counters.truncated, 1);
  }
});

test('truncated mid-segment-header is MJPEG_TRUNCATED', () => {
  const image = images[0]!;
  const sof = markerAt(image, 0xc0);
  for (const cut of [1, 2, 3, 4, 5, sof + 1, sof + 3, sof + 6, markerAt(image, 0xda) + 5]) {
    assert.is(run(image.subarray(0, cut)).code, cut === 1 ? 'MJPEG_NOT_JPEG' : 'MJPEG_TRUNCATED', `cut at ${cut}`);
  }
});

test('a segment length below 2 is MJPEG_SEGMENT_INVALID; lenient drops that image only', () => {
  for (const length of [
    [0, 0],
    [0, 1],
  ]) {
    const bad = insertAt(images[2]!, 2, [0xff, 0xe5, ...length]);
    const input = concat([images[0]!, images[1]!, bad, images[3]!]);
    const strict = run(input, { readSize: 1 });
    assert.is(strict.code, 'MJPEG_SEGMENT_INVALID');
    assert.ok(/length below 2/.test(String((strict.error as Error).message)), 'refused at the length, not later');
    assert.is(strict.frames.length, 2);
    const lenient = run(input, { strict: false });
    assert.is(lenient.error, undefined);
    assertFrames(lenient.frames, [images[0]!, images[1]!, images[3]!], 'lenient zero-length');
    assert.is(lenient.counters.invalid, 1);
    assert.is(lenient.lastError, 'MJPEG_SEGMENT_INVALID');
  }
});

test('malformed markers and headers are MJPEG_SEGMENT_INVALID', () => {
  const image = images[0]!;
  const sof = markerAt(image, 0xc0);
  const sos = markerAt(image, 0xda);
  const cases: [string, Uint8Array][] = [
    ['a non-FF byte where a marker starts', insertAt(image, 2, [0x00])],
    ['FF00 between segments', insertAt(image, 2, [0xff, 0x00])],
    [
      'SOF length not 8 + 3 × Nf',
      (() => {
        const c = image.slice();
        c[sof + 9] = 2;
        return c;
      })(),
    ],
    [
      'SOF width 0',
      (() => {
        const c = image.slice();
        c[sof + 7] = c[sof + 8] = 0;
        return c;
      })(),
    ],
    [
      'SOS with 5 components',
      (() => {
        const c = image.slice();
        c[sos + 4] = 5;
        return c;
      })(),
    ],
    [
      'SOS with 5 components and a length to match',
      concat([
        image.subarray(0, sos),
        segment(0xda, [5, 1, 0, 2, 0x11, 3, 0x11, 4, 0x11, 5, 0x11, 0, 63, 0]),
        image.subarray(sos + 2 + ((image[sos + 2]! << 8) | image[sos + 3]!)),
      ]),
    ],
    ['DNL of 0 lines', concat([image.subarray(0, image.length - 2), segment(0xdc, [0, 0]), [0xff, 0xd9]])],
  ];
  for (const [label, input] of cases) assert.is(run(input).code, 'MJPEG_SEGMENT_INVALID', label);
});

test('an SOS before any SOF, or an EOI before any SOF, is MJPEG_NO_FRAME_SIZE', () => {
  const image = images[0]!;
  const sof = markerAt(image, 0xc0);
  const sofLength = (image[sof + 2]! << 8) | image[sof + 3]!;
  const noSof = concat([image.subarray(0, sof), image.subarray(sof + 2 + sofLength)]);
  for (const readSize of [1, 4096]) assert.is(run(noSof, { readSize }).code, 'MJPEG_NO_FRAME_SIZE');
  assert.is(run(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])).code, 'MJPEG_NO_FRAME_SIZE');
  const sofAfterScan = concat([noSof.subarray(0, noSof.length - 2), image.subarray(sof, sof + 2 + sofLength), [0xff, 0xd9]]);
  assert.is(run(sofAfterScan).code, 'MJPEG_NO_FRAME_SIZE', 'a frame header after the scan is too late');
  const lenient = run(concat([noSof, images[1]!]), { strict: false });
  assertFrames(lenient.frames, [images[1]!], 'lenient no SOF');
  assert.is(lenient.counters.noFrameSize, 1);
});

test('an image larger than a slot: strict POOL_FRAME_TOO_LARGE, lenient drops it (thumbnail and all) and resyncs', () => {
  // A 20 KB comment segment that itself holds an SOI…EOI blob makes image 3 too large for the tight slots.
  const big = insertAt(images[3]!, 2, segment(0xfe, concat([thumbnail, new Uint8Array(20000), thumbnail])));
  const input = concat([...images.slice(0, 3), big, ...images.slice(4)]);
  for (const readSize of [1, 5, 4096]) {
    const strict = run(input, { ...tight, readSize });
    assert.is(strict.code, 'POOL_FRAME_TOO_LARGE', `strict, reads of ${readSize}`);
    assert.is(strict.frames.length, 3);
    assert.is(strict.slotsInUse, 0);
    const lenient = run(input, { ...tight, readSize, strict: false });
    assert.is(lenient.error, undefined);
    assertFrames(lenient.frames, [...images.slice(0, 3), ...images.slice(4)], `lenient, reads of ${readSize}`);
    assert.is(lenient.frameTooLarge, 1);
    assert.is(lenient.lastError, 'POOL_FRAME_TOO_LARGE');
    assert.is(lenient.counters.paddingBytes, 0, 'the dropped image is skipped to its EOI, not rescanned');
    assert.is(lenient.slotsInUse, 0);
  }
});

test('every frame record held: strict POOL_EXHAUSTED, lenient counts noFrameRecord', () => {
  const input = concat(images.slice(0, 4));
  const strict = run(input, { hold: true, maxFrames: 2 });
  assert.is(strict.code, 'POOL_EXHAUSTED');
  assert.is(strict.frames.length, 2);
  const lenient = run(input, { hold: true, maxFrames: 2, strict: false });
  assert.is(lenient.error, undefined);
  assert.is(lenient.frames.length, 2);
  assert.is(lenient.counters.noFrameRecord, 2);
  assert.is(lenient.poolFull, 2);
  assert.is(lenient.lastError, 'POOL_EXHAUSTED');
  assert.is(lenient.slotsInUse, 0);
});

test('abandonFrame drops the image being assembled when the pool is exhausted; the next image follows', () => {
  let abandoned = 0;
  const r = run(stream, {
    ...tight,
    maxFrames: 8,
    hold: true,
    onExhausted: (reader, held, pool) => {
      reader.abandonFrame();
      abandoned++;
      for (const f of held.splice(0)) pool.freeFrame(f);
      return true;
    },
  });
  assert.is(r.error, undefined);
  assert.ok(abandoned > 0 && r.counters.abandoned > 0 && r.counters.abandoned <= abandoned);
  assert.is(r.frames.length, 30 - r.counters.abandoned);
  assert.is(r.poolFull, r.counters.abandoned);
  let j = 0;
  for (const f of r.frames) {
    while (j < images.length && !sameBytes(f, images[j]!)) j++;
    assert.ok(j < images.length, 'frames are whole fixture images, in order');
    j++;
  }
  assert.is(r.slotsInUse, 0);
});

test('use after end() or after a strict error is refused; bad push counts are RangeErrors', () => {
  const pool = new FramePool({ slotCount: 3, slotBytes: 64, maxFrames: 2 });
  const reader = new MjpegReader({ pool, onFrame: (f) => pool.freeFrame(f) });
  assert.throws(() => reader.push(1), /push\(n\)/);
  assert.is(reader.prepare(), PREPARE.OK);
  assert.throws(() => reader.push(65), /push\(n\)/);
  assert.throws(() => reader.push(-1), /push\(n\)/);
  assert.throws(() => reader.push(1.5), /push\(n\)/);
  reader.push(0);
  reader.cursor.target.set([0x00, 0x01], reader.cursor.targetOffset);
  reader.push(2);
  assert.throws(() => reader.end(), 'MJPEG_NOT_JPEG');
  assert.throws(() => reader.prepare(), 'MJPEG_CALL_ORDER');
  assert.throws(() => reader.end(), 'MJPEG_CALL_ORDER');
  assert.throws(() => reader.abandonFrame(), 'MJPEG_CALL_ORDER');
  assert.is(pool.stats.slotsInUse, 0);
  assert.throws(() => new MjpegReader({ pool } as never), /onFrame/);
});

test('a throwing onFrame closes the reader and releases its slots', () => {
  const pool = new FramePool({ slotCount: 3, slotBytes: 65536, maxFrames: 2 });
  const reader = new MjpegReader({
    pool,
    onFrame: () => {
      throw new FieldcamError('CONFIG_INVALID', 'stop');
    },
  });
  reader.prepare();
  reader.cursor.target.set(images[0]!, 0);
  assert.throws(() => reader.push(images[0]!.length), 'CONFIG_INVALID');
  assert.throws(() => reader.prepare(), 'MJPEG_CALL_ORDER');
  assert.is(pool.stats.slotsInUse, 1, "only the frame's reference remains");
  assert.is(pool.stats.framesInUse, 1, "the frame handed out is the callee's");
});

test("with the board's byte search (ByteScanPort, native on XS): the same frames, errors and counters", () => {
  let calls = 0;
  const byteScan = {
    indexOfByte(bytes: Uint8Array, value: number, from: number, to: number): number {
      calls++;
      if (from < 0 || to > bytes.length || from > to) throw new RangeError(`range ${from}..${to} outside ${bytes.length}`);
      for (let i = from; i < to; i++) if (bytes[i] === value) return i;
      return -1;
    },
  };
  const cut = stream.subarray(0, stream.length - 1000);
  for (const input of [stream, withExif(images[0]!), cut]) {
    for (const readSize of input.length < 20000 ? [1, 7, 4096] : [7, 4096]) {
      const plain = run(input, { readSize, strict: false });
      const ported = run(input, { readSize, strict: false, byteScan });
      assertFrames(ported.frames, plain.frames, `read ${readSize}`);
      assert.equal([ported.code, ported.counters, ported.lastError], [plain.code, plain.counters, plain.lastError]);
    }
  }
  assert.ok(calls > 100);
});

test.run();
