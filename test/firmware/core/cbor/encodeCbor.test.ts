import { CBOR_ENCODE_MAX_DEPTH, encodeCbor } from '../../../../firmware/core/cbor/encodeCbor.ts';
import { assert, suite } from '../../../harness/index.ts';
import { codeOf, hex, toHex } from './cborKit.ts';

const test = suite('encodeCbor');

const scratch = new Uint8Array(1 << 17);

/** Hex of the encoding, or of its first `limit` bytes (building long hex strings is slow inside XS). */
function enc(value: unknown, limit = 1024): string {
  const n = encodeCbor(value, scratch);
  return toHex(scratch.subarray(0, Math.min(n, limit)));
}

// RFC 8949 Appendix A items whose encoding is also cbor-x's default choice.
const APPENDIX_A_SAME: readonly [unknown, string][] = [
  [0, '00'],
  [1, '01'],
  [10, '0a'],
  [23, '17'],
  [24, '1818'],
  [25, '1819'],
  [100, '1864'],
  [1000, '1903e8'],
  [1000000, '1a000f4240'],
  [-1, '20'],
  [-10, '29'],
  [-100, '3863'],
  [-1000, '3903e7'],
  [1.1, 'fb3ff199999999999a'],
  [1.0e300, 'fb7e37e43c8800759c'],
  [-4.1, 'fbc010666666666666'],
  [Infinity, 'fb7ff0000000000000'],
  [NaN, 'fb7ff8000000000000'],
  [-Infinity, 'fbfff0000000000000'],
  [false, 'f4'],
  [true, 'f5'],
  [null, 'f6'],
  [undefined, 'f7'],
  [new Uint8Array(0), '40'],
  [Uint8Array.of(1, 2, 3, 4), '4401020304'],
  ['', '60'],
  ['a', '6161'],
  ['IETF', '6449455446'],
  ['"\\', '62225c'],
  ['\u00fc', '62c3bc'],
  ['\u6c34', '63e6b0b4'],
  ['\u{10151}', '64f0908591'],
  [[], '80'],
  [[1, 2, 3], '83010203'],
  [[1, [2, 3], [4, 5]], '8301820203820405'],
  [Array.from({ length: 25 }, (_, i) => i + 1), '98190102030405060708090a0b0c0d0e0f101112131415161718181819'],
];

test("RFC 8949 Appendix A vectors where the preferred serialization is also cbor-x's choice", () => {
  for (const [value, expected] of APPENDIX_A_SAME) assert.is(enc(value), expected, String(value));
});

// Where cbor-x's default departs from the RFC's preferred serialization, the encoder follows cbor-x.
test('cbor-x choices: maps with a two-byte count, float64 only, integers past 32 bits as float64, -0 as 0', () => {
  assert.is(enc({}), 'b90000'); // RFC: a0
  assert.is(enc({ a: 1, b: [2, 3] }), 'b90002616101616282' + '0203'); // RFC: a26161016162820203
  assert.is(enc(['a', { b: 'c' }]), '826161b90001616261' + '63');
  assert.is(enc(1.5), 'fb3ff8000000000000'); // RFC: f93e00
  assert.is(enc(100000.5), 'fb40f86a0800000000');
  assert.is(enc(65504.5), 'fb40effc1000000000');
  assert.is(enc(1000000000000), 'fb426d1a94a2000000'); // RFC: 1b000000e8d4a51000
  assert.is(enc(2 ** 32), 'fb41f0000000000000');
  assert.is(enc(0xffffffff), '1affffffff');
  assert.is(enc(-(2 ** 32)), '3affffffff');
  assert.is(enc(-(2 ** 32) - 1), 'fbc1f0000000100000');
  assert.is(enc(-0), '00');
  assert.is(enc(-(2 ** 31) - 1), '3a80000000');
});

test('argument boundaries use the shortest form (§3.1)', () => {
  const cases: [unknown, string][] = [
    [255, '18ff'],
    [256, '190100'],
    [65535, '19ffff'],
    [65536, '1a00010000'],
    [-24, '37'],
    [-25, '3818'],
    [-256, '38ff'],
    [-257, '390100'],
    [-65536, '39ffff'],
    [-65537, '3a00010000'],
    ['x'.repeat(23), '77' + '78'.repeat(23)],
    ['x'.repeat(24), '7818' + '78'.repeat(24)],
  ];
  for (const [value, expected] of cases) assert.is(enc(value), expected, String(value));
  assert.is(enc('x'.repeat(256), 3), '790100');
  assert.is(enc('x'.repeat(65536), 5), '7a00010000');
  assert.is(enc(new Uint8Array(24), 2), '5818');
  assert.is(enc(new Array(24).fill(0), 2), '9818');
  assert.is(enc(new Array(256).fill(0), 3), '990100');
  // Text length is counted in UTF-8 bytes: 8 × "水" is 24 bytes.
  assert.is(enc('\u6c34'.repeat(8), 2), '7818');
});

test('object keys go out in JS property order, holes as undefined, null-prototype objects too', () => {
  assert.is(enc({ b: 1, a: 2, 1: 3 }), 'b90003613103616201616102');
  assert.is(enc([, 1]), '82f701');
  const bare = Object.create(null) as Record<string, unknown>;
  bare.k = true;
  assert.is(enc(bare), 'b90001616bf5');
  assert.is(enc({ __proto__: null, x: 1 }), 'b90001617801');
});

test('writes at an offset, returns the bytes written, and refuses every buffer one byte too small', () => {
  const value = { id: 'cam-1', n: [1, 2.5, 'é'], raw: Uint8Array.of(9, 8, 7), big: 2 ** 40, neg: -70000 };
  const exact = new Uint8Array(200);
  const n = encodeCbor(value, exact, 3);
  const whole = exact.subarray(3, 3 + n);
  for (let size = 0; size < n; size++) {
    assert.is(
      codeOf(() => encodeCbor(value, new Uint8Array(size))),
      'CBOR_BUFFER_TOO_SMALL',
      `size ${size}`,
    );
  }
  const fit = new Uint8Array(n);
  assert.is(encodeCbor(value, fit), n);
  assert.equal(fit, whole.slice());
  assert.throws(() => encodeCbor(1, new Uint8Array(4), 5), /offset/);
});

test('lone surrogates have no UTF-8 form: CBOR_INVALID_UTF8; pairs are fine', () => {
  for (const s of ['\ud800', 'a\udc00', '\ud83d', '\ud83dx', '\ude00\ud83d'])
    assert.is(
      codeOf(() => enc(s)),
      'CBOR_INVALID_UTF8',
      JSON.stringify(s),
    );
  assert.is(
    codeOf(() => enc({ ['\ud800']: 1 })),
    'CBOR_INVALID_UTF8',
  );
  assert.is(enc('\ud83d\ude00'), '64f09f9880');
  // Long strings take the iterator path (linear inside XS): same rules, same bytes.
  const pad = 'x'.repeat(70);
  for (const s of [pad + '\ud800', '\udc00' + pad, pad + '\ud83d' + pad])
    assert.is(
      codeOf(() => enc(s)),
      'CBOR_INVALID_UTF8',
      `long ${s.length}`,
    );
  assert.is(enc(pad + '\ud83d\ude00\u00e9\u6c34', 2), '784f');
  assert.is(enc(pad + '\ud83d\ude00\u00e9\u6c34', 100).slice(4 + 140), 'f09f9880c3a9e6b0b4');
});

test('values without a mapping are CBOR_UNSUPPORTED', () => {
  const cases: unknown[] = [
    10n,
    new Map(),
    new Set(),
    new Date(0),
    () => 1,
    Symbol('s'),
    new Uint16Array(2),
    new ArrayBuffer(2),
    new DataView(new ArrayBuffer(1)),
    new (class Thing {})(),
    [1, new Map()],
    { a: 1n },
  ];
  for (const value of cases)
    assert.is(
      codeOf(() => enc(value)),
      'CBOR_UNSUPPORTED',
      String(value),
    );
});

test('nesting is bounded: 16 levels encode, 17 and cycles are CBOR_TOO_DEEP', () => {
  let deep: unknown = 0;
  for (let i = 0; i < CBOR_ENCODE_MAX_DEPTH; i++) deep = i % 2 ? [deep] : { k: deep };
  assert.ok(enc(deep).length > 0);
  assert.is(
    codeOf(() => enc([deep])),
    'CBOR_TOO_DEEP',
  );
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.is(
    codeOf(() => enc(cyclic)),
    'CBOR_TOO_DEEP',
  );
  const out = new Uint8Array(64);
  assert.is(
    codeOf(() => encodeCbor([[1]], out, 0, 1)),
    'CBOR_TOO_DEEP',
  );
  assert.is(encodeCbor([1], out, 0, 1), 2);
  assert.equal(out.subarray(0, 2), hex('8101'));
});

test.run();
