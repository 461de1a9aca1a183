import { BitReader } from '../../../../firmware/core/h264/BitReader.ts';
import { assert, suite } from '../../../harness/index.ts';
import { BitWriter, hex } from './h264TestKit.ts';

const test = suite('h264/BitReader');

/** Bytes from a string of '0'/'1' (spaces ignored), zero-padded to whole bytes. */
function bits(text: string): Uint8Array {
  const clean = text.replace(/ /g, '');
  const out = new Uint8Array(Math.ceil(clean.length / 8));
  for (let i = 0; i < clean.length; i++) if (clean[i] === '1') out[i >> 3]! |= 0x80 >> (i & 7);
  return out;
}

function reader(bytes: Uint8Array): BitReader {
  return new BitReader().reset(bytes, 0, bytes.length);
}

test('u(n) reads MSB first across byte boundaries', () => {
  const r = reader(hex('a5 0f ff ff ff ff'));
  assert.is(r.u(1), 1);
  assert.is(r.u(3), 0b010);
  assert.is(r.u(8), 0x50);
  assert.is(r.u(0), 0);
  assert.is(r.u(4), 0xf);
  assert.is(r.u(32), 0xffffffff);
  assert.is(r.bitPosition, 48);
  assert.is(r.hasMoreBits, false);
});

test('ue(v) matches the code words of H.264 Table 9-2', () => {
  // bit string -> codeNum, Table 9-2 / 9.1
  const vectors: [string, number][] = [
    ['1', 0],
    ['010', 1],
    ['011', 2],
    ['00100', 3],
    ['00101', 4],
    ['00110', 5],
    ['00111', 6],
    ['0001000', 7],
    ['0001110', 13],
    ['000010000', 15],
    ['00000000111111111', 510],
  ];
  for (const [code, value] of vectors) assert.is(reader(bits(code)).ue(), value, `ue ${code}`);
  // A run of codes back to back.
  const r = reader(bits('1 010 011 00100 0001000'));
  assert.equal([r.ue(), r.ue(), r.ue(), r.ue(), r.ue()], [0, 1, 2, 3, 7]);
});

test('ue(v) reaches 2^32 - 2 with 31 leading zeros and rejects 32', () => {
  const max = '0'.repeat(31) + '1' + '1'.repeat(31);
  assert.is(reader(bits(max)).ue(), 2 ** 32 - 2);
  const absurd = bits('0'.repeat(32) + '1' + '0'.repeat(32));
  assert.throws(() => new BitReader().reset(absurd, 0, absurd.length, 'SPS', 'H264_SPS_INVALID').ue(), 'H264_SPS_INVALID');
  assert.throws(() => reader(absurd).ue(), /more than 31 leading zero bits/);
});

test('se(v) maps code numbers as in Table 9-3', () => {
  const expected = [0, 1, -1, 2, -2, 3, -3, 4];
  const w = new BitWriter();
  for (let k = 0; k < expected.length; k++) w.ue(k);
  const bytes = w.bytes();
  const r = reader(bytes);
  for (const v of expected) assert.is(r.se(), v);
  const w2 = new BitWriter().se(-127).se(128).se(0);
  const r2 = reader(w2.bytes());
  assert.equal([r2.se(), r2.se(), r2.se()], [-127, 128, 0]);
});

test('emulation prevention bytes (00 00 03) are removed from the RBSP', () => {
  assert.is(reader(hex('00 00 03 01')).u(24), 0x000001);
  assert.is(reader(hex('00 00 03 03')).u(24), 0x000003);
  // Two escapes in a row, and the zero count restarts after each escape.
  const r = reader(hex('00 00 03 00 00 03 00 ff'));
  assert.is(r.u(32), 0);
  assert.is(r.u(8), 0);
  assert.is(r.u(8), 0xff);
  assert.is(r.hasMoreBits, false);
  // One zero is not enough for an escape; 03 after a single 00 is data.
  assert.is(reader(hex('00 03 00')).u(24), 0x000300);
  // The writer's escaping and the reader's removal agree on a long zero run.
  const w = new BitWriter().u(32, 0).u(32, 0).u(8, 1);
  const nal = w.nal();
  assert.is(nal.length > 10, true, 'the writer inserted 03 bytes');
  const rr = reader(nal);
  assert.equal([rr.u(32), rr.u(32), rr.u(8), rr.u(1)], [0, 0, 1, 1]);
});

test('a trailing 00 00 03 (cabac_zero_word) is not data', () => {
  const r = reader(hex('80 00 00 03'));
  assert.is(r.u(24), 0x800000);
  assert.is(r.hasMoreBits, false);
  assert.throws(() => r.u(1), 'H264_TRUNCATED_NAL');
});

test('reading past the range throws H264_TRUNCATED_NAL, and the range is respected', () => {
  const bytes = hex('ff 80 ff ff');
  const r = new BitReader().reset(bytes, 1, 1, 'slice header');
  assert.is(r.u(1), 1);
  assert.is(r.u(7), 0);
  assert.throws(() => r.u(1), 'H264_TRUNCATED_NAL');
  assert.throws(() => new BitReader().reset(bytes, 1, 1, 'slice header').u(9), /slice header: ends after 8 bits/);
  // An Exp-Golomb code cut by the end of the range.
  assert.throws(() => reader(hex('00')).ue(), 'H264_TRUNCATED_NAL');
  assert.throws(() => reader(new Uint8Array(0)).u(1), 'H264_TRUNCATED_NAL');
});

test('reset rejects ranges outside the array and reuse starts fresh', () => {
  const r = new BitReader();
  assert.throws(() => r.reset(new Uint8Array(4), 2, 3), /outside the 4-byte array/);
  assert.throws(() => r.reset(new Uint8Array(4), -1, 1), /outside/);
  r.reset(hex('00 00'), 0, 2);
  assert.is(r.u(16), 0);
  r.reset(hex('03 80'), 0, 2); // the zero count of the previous use must not leak into this one
  assert.is(r.u(8), 3);
  assert.is(r.bitPosition, 8);
});

test.run();
