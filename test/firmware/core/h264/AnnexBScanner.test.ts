import { AnnexBScanner } from '../../../../firmware/core/h264/AnnexBScanner.ts';
import type { ByteScanPort } from '../../../../firmware/io/ByteScan.ts';
import { assert, boardByteScan, fixture, fullScale, scaled, suite } from '../../../harness/index.ts';
import { findNals, hex, prng, referenceFindStartCodes } from './h264TestKit.ts';

const test = suite('h264/AnnexBScanner');

/** Scans `data` in pieces whose sizes come from `sizes` (cycled); returns [startAt, prefix, trailingZeros] triples. */
function scanAll(data: Uint8Array, sizes: number[], capacity = 64, byteScan?: ByteScanPort): number[][] {
  const scanner = new AnnexBScanner(capacity, byteScan);
  const found: number[][] = [];
  let offset = 0;
  for (let r = 0; offset < data.length; r++) {
    const n = Math.min(sizes[r % sizes.length]!, data.length - offset);
    // Each read lands at a different place in its own buffer, as reads into pool slots do.
    const buffer = new Uint8Array(n + 5);
    buffer.set(data.subarray(offset, offset + n), 5);
    for (let i = 5; i < 5 + n; ) {
      i = scanner.scan(buffer, i, 5 + n, offset - 5);
      for (let k = 0; k < scanner.count; k++) found.push([scanner.startAt[k]!, scanner.prefix[k]!, scanner.trailingZeros[k]!]);
    }
    offset += n;
  }
  return found;
}

test('finds 3- and 4-byte start codes and counts trailing_zero_8bits', () => {
  const data = hex('aa 00 00 01 bb 00 00 00 01 cc 00 00 00 00 00 01 dd 00 00 02 00 00 03 00 01 ee');
  assert.equal(scanAll(data, [data.length]), [
    [1, 3, 0], // 00 00 01 after aa
    [5, 4, 0], // 00 00 00 01
    [12, 4, 2], // two trailing zeros, then 00 00 00 01
  ]);
});

test('a stream that starts with a start code, ends with one, or is all zeros', () => {
  assert.equal(scanAll(hex('00 00 00 01 09 f0 00 00 01'), [9]), [
    [0, 4, 0],
    [6, 3, 0],
  ]);
  assert.equal(scanAll(hex('00 00 01'), [3]), [[0, 3, 0]]);
  const scanner = new AnnexBScanner();
  const zeros = new Uint8Array(100);
  scanner.scan(zeros, 0, 60, 0);
  scanner.scan(zeros, 60, 100, 60);
  assert.is(scanner.count, 0);
  assert.is(scanner.zeros, 100);
  // Five leading zeros: a 4-byte start code preceded by two zero bytes.
  assert.equal(scanAll(hex('00 00 00 00 00 01 65'), [7]), [[2, 4, 2]]);
});

test('identical results for every way of splitting a stream into two or three reads', () => {
  const data = hex('00 00 00 01 67 42 00 00 01 68 00 00 00 00 01 65 00 00 03 01 00 00 01 41 9a 00 00 00 00 00 01 06 00 00 01');
  const whole = scanAll(data, [data.length]);
  assert.is(whole.length, 6);
  for (let a = 1; a < data.length; a++) {
    assert.equal(scanAll(data, [a, data.length]), whole, `split at ${a}`);
    for (let b = 1; a + b < data.length; b++) assert.equal(scanAll(data, [a, b, data.length]), whole, `split at ${a}, ${a + b}`);
  }
});

test("every fixture: reads of 1, 2, 3, 7, 4096 bytes give the reference splitter's start codes", () => {
  for (const name of ['h264-320x240-10fps-gop10.h264', 'h264-aud-sei-3byte.h264', 'h264-1080p-30fps.h264', 'h264-long-gop.h264']) {
    const data = fixture(name);
    const reference = findNals(data).map((n) => [n.header - n.prefix, n.prefix, 0]);
    for (const size of [1, 2, 3, 7, 4096]) assert.equal(scanAll(data, [size]), reference, `${name} in reads of ${size}`);
  }
  // The 3-byte fixture has no 4-byte start code at all, the others mostly 4-byte ones.
  assert.ok(scanAll(fixture('h264-aud-sei-3byte.h264'), [4096]).every((s) => s[1] === 3));
});

test('a full result table stops the scan; resuming from the returned index loses nothing', () => {
  const data = fixture('h264-aud-sei-3byte.h264');
  const reference = scanAll(data, [data.length]);
  assert.equal(scanAll(data, [data.length], 1), reference);
  assert.equal(scanAll(data, [1000], 3), reference);
});

test('random bytes with planted zero runs: irregular reads match one whole read', () => {
  const random = prng(7);
  const data = new Uint8Array(20000);
  for (let i = 0; i < data.length; i++) data[i] = random() < 0.3 ? 0 : random() < 0.1 ? 1 : Math.floor(random() * 256);
  const whole = scanAll(data, [data.length]);
  assert.ok(whole.length > 100);
  assert.equal(
    whole.map((s) => [s[0], s[1]]),
    findNals(data).map((n) => [n.header - n.prefix, n.prefix]),
  );
  const sizes = Array.from({ length: 50 }, () => 1 + Math.floor(random() * 9));
  assert.equal(scanAll(data, sizes), whole);
  assert.equal(scanAll(data, [1]), whole);
});

/** The port under test: the board's (native C inside XS, natively and under qemu-arm), or the reference under Node. */
function portUnderTest(): ByteScanPort & { calls: number } {
  const board = boardByteScan();
  const port = {
    calls: 0,
    indexOfByte(bytes: Uint8Array, value: number, from: number, to: number): number {
      for (let i = from; i < to; i++) if (bytes[i] === value) return i;
      return -1;
    },
    findStartCodes(bytes: Uint8Array, from: number, to: number, found: Uint32Array): number {
      port.calls++;
      return board?.findStartCodes ? board.findStartCodes(bytes, from, to, found) : referenceFindStartCodes(bytes, from, to, found);
    },
  };
  return port;
}

/** Random bytes dense in 00 and 01 (start codes, zero runs of every length), from a seed. */
function noise(seed: number, length: number): Uint8Array {
  const random = prng(seed);
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = random() < 0.3 ? 0 : random() < 0.1 ? 1 : Math.floor(random() * 256);
  return data;
}

test("findStartCodes (the board's port): the reference's pairs at every alignment, range and table size", () => {
  const port = portUnderTest();
  const random = prng(5);
  const inputs = [
    noise(3, 4000),
    fixture('h264-aud-sei-3byte.h264').subarray(0, 6000),
    new Uint8Array(300),
    hex('00 00 01 00 00 00 01 00 00 00 00 01 01 00 00 01'),
    new Uint8Array([0, 0, 1]),
    new Uint8Array([0, 1]),
    new Uint8Array(0),
  ];
  for (const data of inputs) {
    for (let shift = 0; shift < 8; shift++) {
      // The same bytes at every address modulo 8: the C scan loads aligned words, the edges byte by byte.
      const buffer = new Uint8Array(data.length + 16).fill(0);
      buffer.set(data, shift);
      for (let trial = 0; trial < scaled(12); trial++) {
        const from = trial === 0 ? shift : shift + Math.floor(random() * (data.length + 1));
        const to = trial === 0 ? shift + data.length : from + Math.floor(random() * (shift + data.length - from + 1));
        for (const pairs of [1, 3, 16]) {
          const got = new Uint32Array(2 * pairs);
          const want = new Uint32Array(2 * pairs);
          const n = port.findStartCodes!(buffer, from, to, got);
          assert.is(n, referenceFindStartCodes(buffer, from, to, want), `${data.length} B at +${shift}, ${from}..${to}, ${pairs} pairs`);
          assert.equal(Array.from(got.subarray(0, 2 * n)), Array.from(want.subarray(0, 2 * n)));
        }
      }
    }
  }
  // Zero bytes after `to` (inside the view) are not counted, nor is a 01 right at `to`.
  assert.is(port.findStartCodes!(hex('00 00 01'), 0, 2, new Uint32Array(2)), 0);
  assert.is(port.findStartCodes!(hex('00 00 01'), 1, 3, new Uint32Array(2)), 0);
});

test("findStartCodes (the board's port): one start code at every offset of the 32-byte blocks, in payload without zeros and next to lone zeros", () => {
  // The C scan tests 32 aligned bytes at a time for a zero at an odd address and looks closer only then: every
  // position of a 3- or 4-byte start code in a block, at every alignment, with a lone zero before or after it
  // or none, and ranges that end right before, inside and after it.
  const port = portUnderTest();
  for (const code of [hex('00 00 01'), hex('00 00 00 01')]) {
    for (const lone of [-1, -3, 1, 2]) {
      for (let shift = 0; shift < 4; shift++) {
        for (let at = 0; at < 72; at++) {
          const buffer = new Uint8Array(96).fill(0x55);
          buffer.set(code, shift + at);
          const z = lone < 0 ? shift + at + lone : shift + at + code.length + lone;
          if (z >= shift && z < buffer.length) buffer[z] = 0;
          for (const to of [shift + at + code.length - 1, shift + at + code.length, shift + at + code.length + 1, buffer.length]) {
            const got = new Uint32Array(4);
            const want = new Uint32Array(4);
            const n = port.findStartCodes!(buffer, shift, to, got);
            const what = `${code.length}-byte code at +${at}, shift ${shift}, lone zero ${lone}, to ${to}`;
            assert.is(n, referenceFindStartCodes(buffer, shift, to, want), what);
            assert.equal(Array.from(got.subarray(0, 2 * n)), Array.from(want.subarray(0, 2 * n)), what);
          }
        }
      }
    }
  }
});

test("with the board's start-code scan (ByteScanPort, native C on XS): the JS loop's start codes on every fixture, fuzzed and cut inputs, in reads of 1 B to 64 KiB", () => {
  const port = portUnderTest();
  const random = prng(11);
  const fixtures = ['h264-320x240-10fps-gop10.h264', 'h264-aud-sei-3byte.h264', 'h264-1080p-30fps.h264', 'h264-long-gop.h264'].map((name) => fixture(name));
  const inputs: Uint8Array[] = [
    hex('aa 00 00 01 bb 00 00 00 01 cc 00 00 00 00 00 01 dd 00 00 02 00 00 03 00 01 ee'),
    hex('00 00 00 00 00 01 65'),
    hex('00 00 01'),
    new Uint8Array(100),
    noise(11, 20000),
    ...fixtures,
    // Cut inputs: a fixture ending anywhere (inside a start code, a header, a payload).
    ...Array.from({ length: 6 }, (_, i) => fixtures[i % fixtures.length]!.subarray(0, 1 + Math.floor(random() * 9000))),
  ];
  for (const data of inputs) {
    // Byte-at-a-time reads only for the small inputs: the large ones would cost minutes under QEMU and add nothing.
    // Under emulation (scaled runs) the small inputs keep their tiny reads and every input its 4 KiB and 64 KiB ones.
    const small = data.length <= (fullScale() ? 20000 : 200);
    const sizes = small
      ? [[data.length], [1], [2], [3], [4], [5], [7], [64], [4096], [65536], [5, 1, 9, 2]]
      : fullScale()
        ? [[data.length], [7], [4096], [16384], [65536], [5, 1, 9, 2]]
        : [[data.length], [4096], [65536]];
    for (const size of sizes) {
      for (const capacity of small ? [64, 1, 3] : [64, 3]) {
        assert.equal(
          scanAll(data, size, capacity, port),
          scanAll(data, size, capacity),
          `${data.length} B in reads of ${size.join(',')}, capacity ${capacity}`,
        );
      }
    }
    // Irregular reads, 1 B to 64 KiB.
    const irregular = Array.from({ length: 20 }, () => 1 + Math.floor(random() ** 3 * 65536));
    assert.equal(scanAll(data, irregular, 64, port), scanAll(data, irregular), `${data.length} B in irregular reads`);
  }
  const data = hex('00 00 00 01 67 42 00 00 01 68 00 00 00 00 01 65 00 00 03 01 00 00 01 41 9a 00 00 00 00 00 01 06 00 00 01');
  for (let a = 1; a < data.length; a++) assert.equal(scanAll(data, [a, data.length], 64, port), scanAll(data, [a, data.length]), `split at ${a}`);
  assert.ok(port.calls > 100);
});

test('rejects a bad capacity', () => {
  assert.throws(() => new AnnexBScanner(0), /capacity/);
});

test.run();
