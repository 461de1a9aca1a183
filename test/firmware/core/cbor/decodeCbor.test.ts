import { CBOR_DECODE_LIMITS, decodeCbor, type CborDecodeLimits } from '../../../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../../../firmware/core/cbor/encodeCbor.ts';
import { assert, suite } from '../../../harness/index.ts';
import { codeOf, hex } from './cborKit.ts';

const test = suite('decodeCbor');

const dec = (h: string, limits?: CborDecodeLimits): unknown => {
  const b = hex(h);
  return decodeCbor(b, 0, b.length, limits);
};

// Every example of RFC 8949 Appendix A with its outcome here: the value, or the error that refuses it.
const APPENDIX_A: readonly [string, unknown][] = [
  ['00', 0],
  ['01', 1],
  ['0a', 10],
  ['17', 23],
  ['1818', 24],
  ['1819', 25],
  ['1864', 100],
  ['1903e8', 1000],
  ['1a000f4240', 1000000],
  ['1b000000e8d4a51000', 1000000000000],
  ['1bffffffffffffffff', 'CBOR_UNSUPPORTED'], // 2^64 - 1: beyond 2^53
  ['c249010000000000000000', 'CBOR_UNSUPPORTED'], // tag 2 bignum
  ['3bffffffffffffffff', 'CBOR_UNSUPPORTED'],
  ['c349010000000000000000', 'CBOR_UNSUPPORTED'],
  ['20', -1],
  ['29', -10],
  ['3863', -100],
  ['3903e7', -1000],
  ['f90000', 0],
  ['f98000', -0],
  ['f93c00', 1],
  ['fb3ff199999999999a', 1.1],
  ['f93e00', 1.5],
  ['f97bff', 65504],
  ['fa47c35000', 100000],
  ['fa7f7fffff', 3.4028234663852886e38],
  ['fb7e37e43c8800759c', 1e300],
  ['f90001', 5.960464477539063e-8],
  ['f90400', 0.00006103515625],
  ['f9c400', -4],
  ['fbc010666666666666', -4.1],
  ['f97c00', Infinity],
  ['f97e00', NaN],
  ['f9fc00', -Infinity],
  ['fa7f800000', Infinity],
  ['fa7fc00000', NaN],
  ['faff800000', -Infinity],
  ['fb7ff0000000000000', Infinity],
  ['fb7ff8000000000000', NaN],
  ['fbfff0000000000000', -Infinity],
  ['f4', false],
  ['f5', true],
  ['f6', null],
  ['f7', undefined],
  ['f0', 'CBOR_UNSUPPORTED'], // simple(16)
  ['f818', 'CBOR_MALFORMED'], // simple(24) in two bytes: not well-formed under RFC 8949 §3.3
  ['f8ff', 'CBOR_UNSUPPORTED'], // simple(255)
  ['c074323031332d30332d32315432303a30343a30305a', 'CBOR_UNSUPPORTED'],
  ['c11a514b67b0', 'CBOR_UNSUPPORTED'],
  ['c1fb41d452d9ec200000', 'CBOR_UNSUPPORTED'],
  ['d74401020304', 'CBOR_UNSUPPORTED'],
  ['d818456449455446', 'CBOR_UNSUPPORTED'],
  ['d82076687474703a2f2f7777772e6578616d706c652e636f6d', 'CBOR_UNSUPPORTED'],
  ['40', new Uint8Array(0)],
  ['4401020304', Uint8Array.of(1, 2, 3, 4)],
  ['60', ''],
  ['6161', 'a'],
  ['6449455446', 'IETF'],
  ['62225c', '"\\'],
  ['62c3bc', '\u00fc'],
  ['63e6b0b4', '\u6c34'],
  ['64f0908591', '\u{10151}'],
  ['80', []],
  ['83010203', [1, 2, 3]],
  ['8301820203820405', [1, [2, 3], [4, 5]]],
  ['98190102030405060708090a0b0c0d0e0f101112131415161718181819', Array.from({ length: 25 }, (_, i) => i + 1)],
  ['a0', {}],
  ['a201020304', 'CBOR_MAP_KEY_INVALID'],
  ['a26161016162820203', { a: 1, b: [2, 3] }],
  ['826161a161626163', ['a', { b: 'c' }]],
  ['a56161614161626142616361436164614461656145', { a: 'A', b: 'B', c: 'C', d: 'D', e: 'E' }],
  // Indefinite lengths (§3.2.2, §3.2.3) are refused.
  ['5f42010243030405ff', 'CBOR_UNSUPPORTED'],
  ['7f657374726561646d696e67ff', 'CBOR_UNSUPPORTED'],
  ['9fff', 'CBOR_UNSUPPORTED'],
  ['9f018202039f0405ffff', 'CBOR_UNSUPPORTED'],
  ['9f01820203820405ff', 'CBOR_UNSUPPORTED'],
  ['83018202039f0405ff', 'CBOR_UNSUPPORTED'],
  ['83019f0203ff820405', 'CBOR_UNSUPPORTED'],
  ['9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff', 'CBOR_UNSUPPORTED'],
  ['bf61610161629f0203ffff', 'CBOR_UNSUPPORTED'],
  ['826161bf61626163ff', 'CBOR_UNSUPPORTED'],
  ['bf6346756ef563416d7421ff', 'CBOR_UNSUPPORTED'],
];

test('RFC 8949 Appendix A: every example decodes to its value or is refused with a named error', () => {
  for (const [h, expected] of APPENDIX_A) {
    if (typeof expected === 'string' && expected.startsWith('CBOR_')) {
      assert.is(
        codeOf(() => dec(h)),
        expected,
        h,
      );
    } else {
      assert.equal(dec(h), expected, h);
    }
  }
  assert.ok(Object.is(dec('f98000'), -0), 'f98000 is -0.0');
});

test('tag 64 around a byte string is a Uint8Array (how cbor-x sends one); around anything else it is refused', () => {
  assert.equal(dec('d84043010203'), Uint8Array.of(1, 2, 3));
  assert.is(
    codeOf(() => dec('d8406161')),
    'CBOR_UNSUPPORTED',
  );
  assert.is(
    codeOf(() => dec('d840')),
    'CBOR_TRUNCATED',
  );
});

test('non-shortest arguments are accepted (cbor-x writes every map count in two bytes)', () => {
  assert.equal(dec('b90000'), {});
  assert.equal(dec('b900026161016162820203'), { a: 1, b: [2, 3] });
  assert.is(dec('1b0000000000000001'), 1);
  assert.is(dec('1b001fffffffffffff'), 2 ** 53 - 1);
  assert.is(dec('3b001fffffffffffff'), -(2 ** 53));
  assert.is(
    codeOf(() => dec('1b0020000000000000')),
    'CBOR_UNSUPPORTED',
  );
  assert.is(dec('7a00000001 61'), 'a');
});

test('byte strings are copies; a "__proto__" key is an own property, not the prototype', () => {
  const input = hex('a2 63 726177 42 0102 69 5f5f70726f746f5f5f a1 6178 01');
  const value = decodeCbor(input) as Record<string, unknown>;
  const raw = value.raw as Uint8Array;
  input[5] = 0xee;
  assert.equal(raw, Uint8Array.of(1, 2));
  assert.is(Object.getPrototypeOf(value), Object.prototype);
  assert.ok(Object.prototype.hasOwnProperty.call(value, '__proto__'));
  assert.equal(Object.keys(value), ['raw', '__proto__']);
  assert.is((value as { x?: unknown }).x, undefined);
});

test('strictness: duplicate keys, non-text keys, trailing bytes, invalid UTF-8, malformed initial bytes', () => {
  const cases: [string, string][] = [
    ['a2616101616102', 'CBOR_DUPLICATE_KEY'],
    ['b90002616101616102', 'CBOR_DUPLICATE_KEY'],
    ['a1f601', 'CBOR_MAP_KEY_INVALID'],
    ['a14161 01', 'CBOR_MAP_KEY_INVALID'],
    ['a1810001', 'CBOR_MAP_KEY_INVALID'],
    ['0000', 'CBOR_TRAILING_BYTES'],
    ['8100ff', 'CBOR_TRAILING_BYTES'],
    ['62c328', 'CBOR_INVALID_UTF8'], // bad continuation
    ['62c0af', 'CBOR_INVALID_UTF8'], // overlong "/"
    ['63eda080', 'CBOR_INVALID_UTF8'], // an encoded surrogate (CESU-8)
    ['64f4908080', 'CBOR_INVALID_UTF8'], // past U+10FFFF
    ['61ff', 'CBOR_INVALID_UTF8'],
    ['6180', 'CBOR_INVALID_UTF8'],
    ['62e282', 'CBOR_INVALID_UTF8'], // a 3-byte sequence cut inside the string
    ['a1 62c328 01', 'CBOR_INVALID_UTF8'],
    ['1c', 'CBOR_MALFORMED'],
    ['3d', 'CBOR_MALFORMED'],
    ['5e', 'CBOR_MALFORMED'],
    ['fc', 'CBOR_MALFORMED'],
    ['fe', 'CBOR_MALFORMED'],
    ['ff', 'CBOR_MALFORMED'],
    ['81ff', 'CBOR_MALFORMED'],
    ['1f', 'CBOR_MALFORMED'],
    ['3f', 'CBOR_MALFORMED'],
    ['df', 'CBOR_MALFORMED'],
    ['f800', 'CBOR_MALFORMED'],
    ['f81f', 'CBOR_MALFORMED'],
    ['f820', 'CBOR_UNSUPPORTED'],
    ['e0', 'CBOR_UNSUPPORTED'],
    ['f3', 'CBOR_UNSUPPORTED'],
  ];
  for (const [h, code] of cases)
    assert.is(
      codeOf(() => dec(h)),
      code,
      h,
    );
  // Text with U+0000, a BOM and non-characters is valid UTF-8 and decodes as it is.
  assert.is(dec('67 00 efbbbf efbfbf'), '\u0000\ufeff\uffff');
});

test('truncation anywhere is CBOR_TRUNCATED, including huge declared lengths', () => {
  const out = new Uint8Array(256);
  const n = encodeCbor({ k: [1, 'two', Uint8Array.of(3), { four: 4.5 }], big: 70000, neg: -300 }, out);
  for (let cut = 0; cut < n; cut++)
    assert.is(
      codeOf(() => decodeCbor(out, 0, cut)),
      'CBOR_TRUNCATED',
      `cut ${cut}`,
    );
  assert.is(
    codeOf(() => dec('5affffffff')),
    'CBOR_LIMIT',
  ); // beyond maxStringBytes before anything else
  assert.is(
    codeOf(() => dec('5a0000ffff 00')),
    'CBOR_TRUNCATED',
  );
  assert.is(
    codeOf(() => dec('9a0000ffff 00')),
    'CBOR_LIMIT',
  );
  assert.is(
    codeOf(() => dec('9a00000fff 00')),
    'CBOR_TRUNCATED',
  );
  assert.is(
    codeOf(() => dec('bb0000000000000fff 00')),
    'CBOR_LIMIT',
  );
  assert.is(
    codeOf(() => dec('1b00')),
    'CBOR_TRUNCATED',
  );
  assert.is(
    codeOf(() => dec('')),
    'CBOR_TRUNCATED',
  );
});

test('limits: depth, items, string bytes and total bytes, each overridable', () => {
  let deep = '00';
  for (let i = 0; i < CBOR_DECODE_LIMITS.maxDepth; i++) deep = (i % 2 ? '81' : 'a16178') + deep;
  assert.ok(dec(deep) !== undefined);
  assert.is(
    codeOf(() => dec('81' + deep)),
    'CBOR_TOO_DEEP',
  );
  assert.is(
    codeOf(() => dec('d840' + deep)),
    'CBOR_TOO_DEEP',
  );
  assert.is(
    codeOf(() => dec('818100', { maxDepth: 1 })),
    'CBOR_TOO_DEEP',
  );
  assert.equal(dec('8100', { maxDepth: 1 }), [0]);

  assert.equal(dec('83010203', { maxItems: 4 }), [1, 2, 3]);
  assert.is(
    codeOf(() => dec('83010203', { maxItems: 3 })),
    'CBOR_LIMIT',
  );
  assert.is(
    codeOf(() => dec('a26161016162 02', { maxItems: 4 })),
    'CBOR_LIMIT',
  );
  assert.is(
    codeOf(() => dec('828100810000', { maxItems: 4 })),
    'CBOR_LIMIT',
  ); // [[0],[0]] counted as it goes

  assert.is(dec('6461626364', { maxStringBytes: 4 }), 'abcd');
  assert.is(
    codeOf(() => dec('656162636465', { maxStringBytes: 4 })),
    'CBOR_LIMIT',
  );
  assert.is(
    codeOf(() => dec('4500000000 00', { maxStringBytes: 4 })),
    'CBOR_LIMIT',
  );

  assert.is(
    codeOf(() => dec('83010203', { maxBytes: 3 })),
    'CBOR_LIMIT',
  );
  assert.equal(dec('83010203', { maxBytes: 4 }), [1, 2, 3]);
  for (const bad of [0, -1, 1.5, NaN]) assert.throws(() => dec('00', { maxItems: bad }), /maxItems/);
});

test('decodes a slice of a larger buffer; offsets are checked', () => {
  const b = hex('ff ff 83010203 ff');
  assert.equal(decodeCbor(b, 2, 4), [1, 2, 3]);
  assert.throws(() => decodeCbor(b, 6, 4), /offset/);
});

test.run();
