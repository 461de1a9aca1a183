// The CBOR codec against cbor-x 1.6 (the host's encoder), byte for byte in both directions, on thousands of
// generated documents from a fixed seed and on RFC 8949 Appendix A.
//
// cbor-x's default `encode` tags a plain Uint8Array with 64 (RFC 8746) but sends a Buffer untagged; the
// device encodes every Uint8Array untagged. So byte equality is checked with byte strings handed to cbor-x
// as Buffers, and the tagged form is checked separately: the device decodes it to the same bytes.
import { Buffer } from 'node:buffer';
import { decode as cborxDecode, encode as cborxEncode } from 'cbor-x';
import { decodeCbor } from '../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../firmware/core/cbor/encodeCbor.ts';
import { assert, suite } from '../harness/index.ts';
import { xorshift32 } from '../harness/support.ts';
import { hex, randomValue, toHex } from '../firmware/core/cbor/cborKit.ts';

const test = suite('CBOR codec vs cbor-x');

const scratch = new Uint8Array(1 << 20);
const ours = (value: unknown): Uint8Array => scratch.slice(0, encodeCbor(value, scratch));

/** The same value with every Uint8Array as a Buffer (how cbor-x sends an untagged byte string). */
function asBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(asBuffers);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = asBuffers((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** Equality of decoded documents: byte strings by content (Buffer or Uint8Array), -0 as 0, NaN as NaN. */
function same(a: unknown, b: unknown, path = '$'): string | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (a !== a && b !== b) ? undefined : `${path}: ${a} ≠ ${b}`;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array)) return `${path}: byte string vs ${typeof a}/${typeof b}`;
    return toHex(a) === toHex(b) ? undefined : `${path}: bytes differ`;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return `${path}: array shape differs`;
    for (let i = 0; i < a.length; i++) {
      const d = same(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.join('\u0001') !== kb.join('\u0001')) return `${path}: keys ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`;
    for (const k of ka) {
      const d = same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${path}: ${String(a)} ≠ ${String(b)}`;
}

test('4000 generated documents: our bytes equal cbor-x encode, and each side decodes the other', () => {
  const next = xorshift32(0xcb0e_0001);
  for (let i = 0; i < 4000; i++) {
    const value = randomValue(next, 4);
    const mine = ours(value);
    const theirs = cborxEncode(asBuffers(value));
    assert.is(toHex(mine), toHex(theirs), `document ${i}`);
    const byCborx = cborxDecode(mine);
    const byUs = decodeCbor(theirs, 0, theirs.length, { maxItems: 1 << 16 });
    assert.is(same(byCborx, value), undefined, `document ${i}: cbor-x decoding ours`);
    assert.is(same(byUs, value), undefined, `document ${i}: ours decoding cbor-x`);
    // Canonical both ways: re-encoding what we decoded gives cbor-x's bytes again.
    assert.is(toHex(ours(byUs)), toHex(theirs), `document ${i}: re-encoded`);
  }
});

test('cbor-x default Uint8Array (tag 64) decodes to the same bytes on the device', () => {
  const next = xorshift32(0xcb0e_0002);
  for (let i = 0; i < 500; i++) {
    const value = randomValue(next, 3);
    const tagged = cborxEncode(value); // plain Uint8Arrays inside get tag 64
    const decoded = decodeCbor(tagged, 0, tagged.length, { maxItems: 1 << 16 });
    assert.is(same(decoded, value), undefined, `document ${i}`);
  }
  assert.is(toHex(cborxEncode(Uint8Array.of(1, 2, 3))), 'd84043010203');
  assert.equal(decodeCbor(cborxEncode(Uint8Array.of(1, 2, 3))), Uint8Array.of(1, 2, 3));
});

test('number boundaries: integer widths, the 2^32 switch to float64, -0, NaN, infinities', () => {
  const numbers = [
    0,
    -0,
    1,
    23,
    24,
    255,
    256,
    65535,
    65536,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32 - 1,
    2 ** 32,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 64,
    1e21,
    -1,
    -24,
    -25,
    -256,
    -257,
    -65536,
    -65537,
    -(2 ** 31),
    -(2 ** 31) - 1,
    -(2 ** 32) + 1,
    -(2 ** 32),
    -(2 ** 32) - 1,
    -(2 ** 53),
    0.5,
    -0.5,
    1.1,
    1e-7,
    5e-324,
    1.7976931348623157e308,
    65504,
    65504.5,
    3.4028234663852886e38,
    1 / 3,
    NaN,
    Infinity,
    -Infinity,
  ];
  for (const n of numbers) {
    assert.is(toHex(ours(n)), toHex(cborxEncode(n)), String(n));
    assert.is(same(decodeCbor(cborxEncode(n)), Object.is(n, -0) ? 0 : n), undefined, String(n));
  }
});

test('strings: every UTF-8 length class, the 64-character switch inside cbor-x, astral characters', () => {
  for (const unit of ['a', '\u00e9', '\u6c34', '\u{1F600}', '\u0000', '\uffff']) {
    for (const count of [0, 1, 7, 8, 23, 24, 31, 32, 63, 64, 85, 86, 255, 256, 21845, 21846, 65535, 65536]) {
      const s = unit.repeat(count);
      assert.is(toHex(ours(s)), toHex(cborxEncode(s)), `${JSON.stringify(unit)} × ${count}`);
      assert.is(decodeCbor(cborxEncode(s), 0, undefined, { maxStringBytes: 1 << 20, maxBytes: 1 << 20 }), s);
    }
  }
});

test('objects: key order, integer-like keys, wide maps and arrays, null prototype', () => {
  const wide: Record<string, number> = {};
  for (let i = 0; i < 300; i++) wide[`k${(i * 7919) % 1000}`] = i;
  const values: unknown[] = [
    { z: 1, a: 2, 10: 3, 2: 4, '-1': 5, '01': 6 },
    wide,
    new Array(70000).fill(1),
    Object.assign(Object.create(null), { p: [true] }),
    { nested: { deeper: { deepest: [null, undefined, false] } } },
  ];
  for (const value of values) {
    const theirs = cborxEncode(value);
    assert.is(toHex(ours(value)), toHex(theirs));
    assert.is(same(decodeCbor(theirs, 0, theirs.length, { maxItems: 1 << 17, maxBytes: 1 << 20 }), value), undefined);
  }
});

// RFC 8949 Appendix A: where the device accepts an example, cbor-x decodes it to the same value.
const APPENDIX_A_ACCEPTED = [
  '00',
  '01',
  '0a',
  '17',
  '1818',
  '1819',
  '1864',
  '1903e8',
  '1a000f4240',
  '1b000000e8d4a51000',
  '20',
  '29',
  '3863',
  '3903e7',
  'f90000',
  'f98000',
  'f93c00',
  'fb3ff199999999999a',
  'f93e00',
  'f97bff',
  'fa47c35000',
  'fa7f7fffff',
  'fb7e37e43c8800759c',
  'f90001',
  'f90400',
  'f9c400',
  'fbc010666666666666',
  'f97c00',
  'f97e00',
  'f9fc00',
  'fa7f800000',
  'fa7fc00000',
  'faff800000',
  'fb7ff0000000000000',
  'fb7ff8000000000000',
  'fbfff0000000000000',
  'f4',
  'f5',
  'f6',
  'f7',
  '40',
  '4401020304',
  '60',
  '6161',
  '6449455446',
  '62225c',
  '62c3bc',
  '63e6b0b4',
  '64f0908591',
  '80',
  '83010203',
  '8301820203820405',
  '98190102030405060708090a0b0c0d0e0f101112131415161718181819',
  'a0',
  'a26161016162820203',
  '826161a161626163',
  'a56161614161626142616361436164614461656145',
];

test('RFC 8949 Appendix A: cbor-x and the device agree on every example the device accepts', () => {
  for (const h of APPENDIX_A_ACCEPTED) {
    const bytes = hex(h);
    let theirs: unknown = cborxDecode(bytes);
    if (typeof theirs === 'bigint') theirs = Number(theirs); // cbor-x reads 8-byte arguments as BigInt
    assert.is(same(decodeCbor(bytes), theirs), undefined, h);
  }
});

test.run();
