// The MJPEG reader with the board's marker search, segment skip and header walk (ByteScanPort.findJpegMarker,
// skipJpegSegments, walkJpegHeaders: C inside XS, natively and under qemu-arm; plain references under Node) against
// the reader's own X'FF' stepping: the same images, errors and counters on the fixture, on fuzzed and cut copies
// (headers mutated too), in reads of 1 byte to 64 KiB; and each native by its contract.
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { assert, boardByteScan, fixture, fullScale, scaled, suite } from '../../../harness/index.ts';
import { MjpegReader } from '../../../../firmware/core/mjpeg/MjpegReader.ts';
import { PREPARE } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import { prng, referenceScanPort } from '../h264/h264TestKit.ts';
import { run } from './mjpegKit.ts';
import { dirtyFrame, frameRecord } from '../media/frameRecordKit.ts';

const test = suite('mjpeg/JpegScanner with the board scan');

function referenceIndexOfByte(bytes: Uint8Array, value: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (bytes[i] === value) return i;
  return -1;
}

function referenceFindJpegMarker(bytes: Uint8Array, from: number, to: number): number {
  for (let j = from; j < to; j++) {
    if (bytes[j] !== 0xff) continue;
    if (j + 1 === to) return j;
    const next = bytes[j + 1]!;
    if (next !== 0x00 && (next & 0xf8) !== 0xd0) return j;
  }
  return -1;
}

/** Marker codes the scanner only skips: with a length, and neither a frame header, SOS, nor DNL (T.81 Table B.1). */
function skipped(m: number): boolean {
  if (m === 0x00 || m === 0x01 || m === 0xff || (m & 0xf8) === 0xd0 || m === 0xd8 || m === 0xd9 || m === 0xda || m === 0xdc || m === 0xde) return false;
  return !(m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc);
}

function referenceSkipJpegSegments(bytes: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i + 4 <= to && bytes[i] === 0xff && skipped(bytes[i + 1]!)) {
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (length < 2 || i + 2 + length > to) break;
    i += 2 + length;
  }
  return i;
}

/** walkJpegHeaders by its contract (ByteScanPort), byte by byte: the reference for scan.c. */
function referenceWalkJpegHeaders(bytes: Uint8Array, from: number, to: number, out: Uint32Array): number {
  let i = from;
  out[3] = 0;
  while (i + 4 <= to && bytes[i] === 0xff) {
    const m = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (length < 2 || i + 2 + length > to) break;
    const p = (k: number) => bytes[i + 4 + k]!;
    const frameHeader = (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xde;
    if (skipped(m)) {
      i += 2 + length;
    } else if (frameHeader) {
      if (length < 8 || p(5) === 0 || length !== 8 + 3 * p(5) || ((p(3) << 8) | p(4)) === 0) break;
      if (out[0] !== 1) {
        out[0] = 1;
        out[1] = (p(3) << 8) | p(4);
        out[2] = (p(1) << 8) | p(2);
      }
      i += 2 + length;
    } else if (m === 0xda) {
      if (out[0] !== 1 || length < 6 || p(0) < 1 || p(0) > 4 || length !== 6 + 2 * p(0)) break;
      i += 2 + length;
      out[3] = 1;
      break;
    } else {
      break;
    }
  }
  return i;
}

const board = boardByteScan();
const port: ByteScanPort = board ?? {
  indexOfByte: referenceIndexOfByte,
  findJpegMarker: referenceFindJpegMarker,
  skipJpegSegments: referenceSkipJpegSegments,
  walkJpegHeaders: referenceWalkJpegHeaders,
};
/** The same board without its header walk: marker search and segment skip. */
const segmentSkip: ByteScanPort = { indexOfByte: port.indexOfByte, findJpegMarker: port.findJpegMarker!, skipJpegSegments: port.skipJpegSegments! };
/** The same board without its marker search and segment skip: the JS stepping (indexOfByte only). */
const stepping: ByteScanPort = { indexOfByte: (b, v, f, t) => port.indexOfByte(b, v, f, t) };

test("findJpegMarker (the board's port): the reference's answer for every range of stuffed, restart and real markers", () => {
  const random = prng(21);
  const data = new Uint8Array(3000);
  for (let i = 0; i < data.length; i++) {
    const r = random();
    data[i] = r < 0.15 ? 0xff : r < 0.25 ? 0x00 : r < 0.3 ? 0xd0 + Math.floor(random() * 8) : Math.floor(random() * 256);
  }
  for (let trial = 0; trial < scaled(3000); trial++) {
    const from = Math.floor(random() * data.length);
    const to = from + Math.floor(random() * Math.min(64, data.length - from + 1));
    assert.is(port.findJpegMarker!(data, from, to), referenceFindJpegMarker(data, from, to), `${from}..${to}`);
  }
  const ff = new Uint8Array([0xff, 0x00, 0xff, 0xd7, 0xff]);
  assert.is(port.findJpegMarker!(ff, 0, 4), -1);
  assert.is(port.findJpegMarker!(ff, 0, 5), 4, "an X'FF' at `to - 1`: its next byte is not known yet");
  assert.is(port.findJpegMarker!(ff, 0, 0), -1);
});

test("skipJpegSegments (the board's port): the reference's answer on real headers, cut anywhere, and on planted segments", () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  for (let to = 2; to < 700; to++) assert.is(port.skipJpegSegments!(base, 2, to), referenceSkipJpegSegments(base, 2, to), `headers cut at ${to}`);
  assert.ok(port.skipJpegSegments!(base, 2, 700) > 100, "the fixture's APP0/DQT segments are skipped");
  const random = prng(23);
  const data = new Uint8Array(4000);
  for (let i = 0; i < data.length; ) {
    const r = random();
    if (r < 0.6) {
      const length = Math.floor(random() * 12);
      data.set([0xff, Math.floor(random() * 256), length >> 8, length & 255], i);
      i += 4 + Math.max(0, length - 2);
    } else {
      data[i++] = r < 0.8 ? 0xff : Math.floor(random() * 256);
    }
  }
  for (let trial = 0; trial < scaled(3000); trial++) {
    const from = Math.floor(random() * data.length);
    const to = from + Math.floor(random() * (data.length - from + 1));
    assert.is(port.skipJpegSegments!(data, from, to), referenceSkipJpegSegments(data, from, to), `${from}..${to}`);
  }
});

test("walkJpegHeaders (the board's port): the reference's answer and record on real headers cut anywhere and on planted segments", () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  const check = (data: Uint8Array, from: number, to: number, had: number) => {
    const got = new Uint32Array([had, 7, 7, 7]);
    const want = new Uint32Array([had, 7, 7, 7]);
    const what = `${from}..${to}, frame header before: ${had}`;
    assert.is(port.walkJpegHeaders!(data, from, to, got), referenceWalkJpegHeaders(data, from, to, want), what);
    assert.equal(Array.from(got), Array.from(want), what);
  };
  for (let to = 2; to < 700; to++) for (const had of [0, 1]) check(base, 2, to, had);
  const whole = new Uint32Array(4);
  const end = port.walkJpegHeaders!(base, 2, 2000, whole);
  assert.equal([whole[0], whole[1], whole[2], whole[3]], [1, 320, 240, 1], "the fixture's first image: 320x240, scan taken");
  assert.ok(end > 100 && end < 2000);
  const random = prng(24);
  const data = new Uint8Array(6000);
  for (let i = 0; i < data.length - 40; ) {
    const r = random();
    if (r < 0.7) {
      // A segment: often a frame or scan header, with a length and parameters that are often right.
      const m = [0xc0, 0xc1, 0xc4, 0xcc, 0xde, 0xda, 0xda, 0xdc, 0xe0, 0xdb, 0xd9, 0xd8, 0xd0, 0x01, 0xff, 0x00][Math.floor(random() * 16)]!;
      const count = 1 + Math.floor(random() * 4);
      const frame = m !== 0xda;
      let length = frame ? 8 + 3 * count : 6 + 2 * count;
      if (random() < 0.2) length = Math.floor(random() * 30);
      const params = Array.from({ length: Math.max(0, length - 2) }, () => (random() < 0.2 ? 0 : Math.floor(random() * 256)));
      if (frame && params.length >= 6 && random() < 0.8) params[5] = count;
      if (!frame && params.length >= 1 && random() < 0.8) params[0] = count;
      const bytes = [0xff, m, length >> 8, length & 255, ...params];
      data.set(bytes.slice(0, data.length - i), i);
      i += bytes.length;
    } else {
      data[i++] = r < 0.85 ? 0xff : Math.floor(random() * 256);
    }
  }
  for (let trial = 0; trial < scaled(3000); trial++) {
    const from = Math.floor(random() * data.length);
    const to = from + Math.floor(random() * (data.length - from + 1));
    check(data, from, to, trial & 1);
  }
});

test('the reader with walkJpegHeaders, findJpegMarker and skipJpegSegments: the images, errors and counters of the JS stepping, in reads of 1 B to 64 KiB, on fuzzed and cut copies', () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  const random = prng(22);
  const inputs: Uint8Array[] = [base];
  for (let i = 0; i < scaled(20); i++) {
    let data = base.slice(0, 1 + Math.floor(random() * 60000)); // up to ~10 images: enough for every cut kind
    for (let m = 0; m < 1 + Math.floor(random() * 4); m++) {
      const at = Math.floor(random() * data.length);
      const kind = Math.floor(random() * 3);
      if (kind === 0)
        data[at] = 0xff; // plant marker material
      else if (kind === 1) data[at] = Math.floor(random() * 256);
      else data = data.slice(0, at);
    }
    inputs.push(data);
  }
  // Headers mutated: a byte among the first 700 after some SOI (frame and scan headers, tables).
  const sois: number[] = [];
  for (let i = 0; i + 1 < base.length; i++) if (base[i] === 0xff && base[i + 1] === 0xd8) sois.push(i);
  for (let i = 0; i < scaled(40); i++) {
    const data = base.slice(0, 40000);
    for (let m = 0; m < 1 + Math.floor(random() * 3); m++) {
      const soi = sois[Math.floor(random() * sois.length)]!;
      const at = soi + 2 + Math.floor(random() * 700);
      if (at < data.length) data[at] = random() < 0.3 ? 0xff : random() < 0.3 ? 0 : Math.floor(random() * 256);
    }
    inputs.push(data);
  }
  for (const [k, data] of inputs.entries()) {
    for (const readSize of k === 0 ? (fullScale() ? [7, 4096, 65536] : [4096, 65536]) : [1 + Math.floor(random() ** 3 * 65536)]) {
      for (const strict of [true, false]) {
        const want = run(data, { readSize, strict, byteScan: stepping });
        for (const [name, byteScan] of [
          ['header walk', port],
          ['segment skip', segmentSkip],
        ] as const) {
          const got = run(data, { readSize, strict, byteScan });
          assert.equal(
            [got.frames.map((f) => Array.from(f)), got.formats, got.code, got.counters, got.frameTooLarge, got.poolFull],
            [want.frames.map((f) => Array.from(f)), want.formats, want.code, want.counters, want.frameTooLarge, want.poolFull],
            `input ${k} (${data.length} B), reads of ${readSize}, ${strict ? 'strict' : 'lenient'}, ${name}`,
          );
        }
      }
    }
  }
});

test("fillFrameRecord for images (the board's frame record): every field and slot reference as the JS fill makes them, images across slots too", () => {
  const data = fixture('mjpeg-320x240-10fps.mjpeg');
  // Under Node the H.264 kit's TypeScript reference of the contract stands in for the board's records.c.
  const withRecords: ByteScanPort = board?.fillFrameRecord ? board : { ...port, fillFrameRecord: referenceScanPort.fillFrameRecord! };
  const without: ByteScanPort = { ...withRecords, fillFrameRecord: undefined };
  // Under QEMU (scaled runs) one configuration: images across slots at camera-sized reads.
  const configs = fullScale()
    ? ([
        [4096, 24 * 1024],
        [1000, 24 * 1024],
        [65536, 128 * 1024],
      ] as const)
    : ([[4096, 24 * 1024]] as const);
  for (const [readSize, slotBytes] of configs) {
    const runs = [withRecords, without].map((byteScan) => {
      const pool = new FramePool({ slotCount: 6, slotBytes, maxFrames: 4, nalsPerFrame: 0 });
      const records: string[] = [];
      let spanning = 0;
      const reader = new MjpegReader({
        pool,
        strict: false,
        byteScan,
        onFrame: (frame) => {
          if (frame.slotB) spanning++;
          records.push(frameRecord(frame, pool));
          dirtyFrame(frame);
          pool.freeFrame(frame);
        },
      });
      for (let pos = 0; pos < data.length; ) {
        assert.is(reader.prepare(), PREPARE.OK, 'pool has room');
        const n = Math.min(readSize, reader.cursor.targetSpace, data.length - pos);
        reader.cursor.target.set(data.subarray(pos, pos + n), reader.cursor.targetOffset);
        reader.push(n);
        pos += n;
      }
      reader.end();
      return { records, spanning, stats: JSON.stringify(pool.stats) };
    });
    const what = `reads of ${readSize}, slots of ${slotBytes}`;
    assert.ok(runs[0]!.records.length > 10, `${what}: images`);
    assert.equal(runs[0]!.records, runs[1]!.records, what);
    assert.is(runs[0]!.stats, runs[1]!.stats, `${what}: pool`);
    if (slotBytes < 65536) assert.ok(runs[0]!.spanning > 0, `${what}: some images span two slots`);
  }
});

test.run();
