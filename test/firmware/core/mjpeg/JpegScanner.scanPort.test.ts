// The MJPEG reader with the board's marker search (ByteScanPort.findJpegMarker: C inside XS, natively and under
// qemu-arm; a plain reference under Node) against the reader's own X'FF' stepping: the same images, errors and
// counters on the fixture, on fuzzed and cut copies, in reads of 1 byte to 64 KiB; and the search by its contract.
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { assert, boardByteScan, fixture, fullScale, scaled, suite } from '../../../harness/index.ts';
import { prng } from '../h264/h264TestKit.ts';
import { run } from './mjpegKit.ts';

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

const board = boardByteScan();
const port: ByteScanPort = board ?? { indexOfByte: referenceIndexOfByte, findJpegMarker: referenceFindJpegMarker, skipJpegSegments: referenceSkipJpegSegments };
/** The same board without its marker search and segment skip: the JS stepping (indexOfByte only). */
const stepping: ByteScanPort = { indexOfByte: (b, v, f, t) => port.indexOfByte(b, v, f, t) };

test('findJpegMarker (the board\'s port): the reference\'s answer for every range of stuffed, restart and real markers', () => {
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
  assert.is(port.findJpegMarker!(ff, 0, 5), 4, 'an X\'FF\' at `to - 1`: its next byte is not known yet');
  assert.is(port.findJpegMarker!(ff, 0, 0), -1);
});

test('skipJpegSegments (the board\'s port): the reference\'s answer on real headers, cut anywhere, and on planted segments', () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  for (let to = 2; to < 700; to++) assert.is(port.skipJpegSegments!(base, 2, to), referenceSkipJpegSegments(base, 2, to), `headers cut at ${to}`);
  assert.ok(port.skipJpegSegments!(base, 2, 700) > 100, 'the fixture\'s APP0/DQT segments are skipped');
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

test('the reader with findJpegMarker and skipJpegSegments: the images, errors and counters of the JS stepping, in reads of 1 B to 64 KiB, on fuzzed and cut copies', () => {
  const base = fixture('mjpeg-320x240-10fps.mjpeg');
  const random = prng(22);
  const inputs: Uint8Array[] = [base];
  for (let i = 0; i < scaled(20); i++) {
    let data = base.slice(0, 1 + Math.floor(random() * 60000)); // up to ~10 images: enough for every cut kind
    for (let m = 0; m < 1 + Math.floor(random() * 4); m++) {
      const at = Math.floor(random() * data.length);
      const kind = Math.floor(random() * 3);
      if (kind === 0) data[at] = 0xff; // plant marker material
      else if (kind === 1) data[at] = Math.floor(random() * 256);
      else data = data.slice(0, at);
    }
    inputs.push(data);
  }
  for (const [k, data] of inputs.entries()) {
    for (const readSize of k === 0 ? (fullScale() ? [7, 4096, 65536] : [4096, 65536]) : [1 + Math.floor(random() ** 3 * 65536)]) {
      for (const strict of [true, false]) {
        const want = run(data, { readSize, strict, byteScan: stepping });
        const got = run(data, { readSize, strict, byteScan: port });
        assert.equal([got.frames.map((f) => Array.from(f)), got.formats, got.code, got.counters, got.frameTooLarge, got.poolFull],
          [want.frames.map((f) => Array.from(f)), want.formats, want.code, want.counters, want.frameTooLarge, want.poolFull],
          `input ${k} (${data.length} B), reads of ${readSize}, ${strict ? 'strict' : 'lenient'}`);
      }
    }
  }
});

test.run();
