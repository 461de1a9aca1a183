// The H.264 reader with the board's start-code scan (ByteScanPort.findStartCodes: the C host's word-at-a-time
// scan inside XS, natively and under qemu-arm; a plain reference under Node) against the reader's own JS loop:
// the same frame records (NAL offsets, lengths, prefixes, types, bytes), the same errors, the same drops, on every
// fixture, on fuzzed and cut copies, at read sizes from 1 byte to 64 KiB.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { BitReader } from '../../../../firmware/core/h264/BitReader.ts';
import { SliceHeader } from '../../../../firmware/core/h264/SliceHeader.ts';
import { PREPARE, StreamCursor } from '../../../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../../../firmware/core/pool/FramePool.ts';
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { assert, boardByteScan, fixture, fullScale, scaled, suite } from '../../../harness/index.ts';
import { prng, readH264 } from './h264TestKit.ts';

const test = suite('h264/H264Reader with the board scan');

function referenceFindStartCodes(bytes: Uint8Array, from: number, to: number, found: Uint32Array): number {
  let n = 0;
  for (let p = from + 2; p < to && n < found.length / 2; p++) {
    if (bytes[p] !== 1 || bytes[p - 1] !== 0 || bytes[p - 2] !== 0) continue;
    let z = 0;
    while (p - 1 - z >= from && bytes[p - 1 - z] === 0) z++;
    found[2 * n] = p;
    found[2 * n + 1] = z;
    n++;
  }
  return n;
}

const port: ByteScanPort = boardByteScan() ?? {
  indexOfByte(bytes: Uint8Array, value: number, from: number, to: number): number {
    for (let i = from; i < to; i++) if (bytes[i] === value) return i;
    return -1;
  },
  findStartCodes: referenceFindStartCodes,
};

/** Everything the reader delivers or throws, as comparable data. */
function outcome(data: Uint8Array, strict: boolean, reads: number | ((i: number) => number), byteScan?: ByteScanPort): unknown {
  try {
    const r = readH264(data, { strict, reads, slotBytes: 65536 * 2, ...(byteScan ? { byteScan } : {}) });
    return { frames: r.frames, drops: r.pool.stats, corrupt: r.reader.corruptDrops, last: r.reader.lastError?.message };
  } catch (err) {
    if (!(err instanceof FieldcamError)) throw err;
    return { code: err.code, message: err.message };
  }
}

const FIXTURES = ['h264-320x240-10fps-gop10.h264', 'h264-aud-sei-3byte.h264', 'h264-1080p-30fps.h264', 'h264-long-gop.h264', 'h264-bframes.h264'];

test('every fixture, strict and lenient, in reads of 1 B to 64 KiB: identical frame records and errors', () => {
  for (const name of FIXTURES) {
    const data = fixture(name);
    for (const reads of fullScale() ? [1, 3, 4096, 65536] : [4096, 65536]) {
      if (reads === 1 && data.length > 30000) continue; // byte at a time costs minutes under QEMU and adds nothing here
      for (const strict of [true, false]) {
        const want = outcome(data, strict, reads);
        assert.equal(outcome(data, strict, reads, port), want, `${name}, reads of ${reads}, ${strict ? 'strict' : 'lenient'}`);
      }
    }
  }
});

test('fuzzed and cut copies of the fixtures, irregular reads: identical outcomes', () => {
  const random = prng(12);
  const bases = FIXTURES.slice(0, 3).map((name) => fixture(name));
  for (let i = 0; i < scaled(120); i++) {
    const base = bases[i % bases.length]!;
    let data: Uint8Array = base.slice(0, 1 + Math.floor(random() * base.length)); // cut anywhere
    for (let m = 0; m < 1 + Math.floor(random() * 4); m++) {
      const at = Math.floor(random() * data.length);
      const kind = Math.floor(random() * 3);
      if (kind === 0) data[at] = Math.floor(random() * 256);
      else if (kind === 1) data[at] = random() < 0.5 ? 0 : 1; // plant start-code material
      else data = data.slice(0, at); // cut again
    }
    const sizes = Array.from({ length: 16 }, () => 1 + Math.floor(random() ** 4 * 65536));
    const reads = (index: number) => sizes[index % sizes.length]!;
    for (const strict of [true, false]) {
      assert.equal(outcome(data, strict, reads, port), outcome(data, strict, reads), `case ${i}, ${data.length} B, ${strict ? 'strict' : 'lenient'}`);
    }
  }
});

test('SliceHeader: the fields read from one 32-bit word are the bit reader\'s, for every kind of first bytes', () => {
  const random = prng(13);
  const header = new SliceHeader();
  const bits = new BitReader();
  for (let i = 0; i < scaled(20000); i++) {
    const length = 2 + Math.floor(random() * 8);
    const nal = new Uint8Array(length);
    for (let k = 0; k < length; k++) nal[k] = random() < 0.2 ? 0 : random() < 0.1 ? 3 : Math.floor(random() * 256);
    const source = {
      byteAt: (at: number) => nal[at] as number,
      wordAt: (at: number) => ((nal[at]! << 24) | (nal[at + 1]! << 16) | (nal[at + 2]! << 8) | nal[at + 3]!) >>> 0,
    };
    let want: unknown;
    try {
      const r = bits.reset(nal, 1, Math.min(length - 1, 32), 'slice header', 'H264_SLICE_INVALID');
      want = [r.ue(), r.ue(), r.ue()];
    } catch (err) {
      want = (err as FieldcamError).message;
    }
    let got: unknown;
    try {
      header.read(source, 0, length);
      got = [header.firstMbInSlice, header.sliceType, header.ppsId];
    } catch (err) {
      got = (err as FieldcamError).message;
    }
    assert.equal(got, want, Array.from(nal).join(' '));
  }
});

test('StreamCursor.wordAt: the four bytes byteAt reads, inside a slot and across two', () => {
  const pool = new FramePool({ slotCount: 4, slotBytes: 16, maxFrames: 4 });
  const cursor = new StreamCursor(pool);
  const random = prng(7);
  for (let filled = 0; filled < 28; ) {
    assert.equal(cursor.prepare(), PREPARE.OK);
    const n = Math.min(5, cursor.targetSpace);
    for (let k = 0; k < n; k++) cursor.target[cursor.targetOffset + k] = Math.floor(random() * 256);
    cursor.commit(n);
    filled += n;
    cursor.keepFrom = cursor.position - 20 > 0 ? cursor.position - 20 : 0;
    for (let at = cursor.position - 20 > 0 ? cursor.position - 20 : 0; at + 4 <= cursor.position; at++) {
      const want = ((cursor.byteAt(at) << 24) | (cursor.byteAt(at + 1) << 16) | (cursor.byteAt(at + 2) << 8) | cursor.byteAt(at + 3)) >>> 0;
      assert.equal(cursor.wordAt(at), want, `offset ${at}, position ${cursor.position}`);
    }
  }
});

test.run();
