// Tests for firmware/core/text/utf8.ts: encoding and decoding, lenient and fatal (strict).
import { decodeUtf8, encodeUtf8, utf8Length, writeMeasuredUtf8, writeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { assert, scaled, suite } from '../../../harness/index.ts';
import { xorshift32 } from '../../../harness/support.ts';
import { fromHex, hex } from '../mkv/support.ts';

const test = suite('utf8');

const VECTORS: readonly (readonly [string, string])[] = [
  ['', ''],
  ['A', '41'],
  ['\u007f', '7f'],
  ['\u0080', 'c2 80'],
  ['é', 'c3 a9'],
  ['\u07ff', 'df bf'],
  ['\u0800', 'e0 a0 80'],
  ['€', 'e2 82 ac'],
  ['\uffff', 'ef bf bf'],
  ['😀', 'f0 9f 98 80'], // U+1F600, a surrogate pair
  ['\u{10ffff}', 'f4 8f bf bf'],
  ['\ud800', 'ef bf bd'], // lone high surrogate → U+FFFD
  ['\udc00', 'ef bf bd'], // lone low surrogate → U+FFFD
  ['\ud800a', 'ef bf bd 61'], // high surrogate not followed by a low one
  ['\udc00\ud800', 'ef bf bd ef bf bd'], // reversed pair
  ['a\ud83d', '61 ef bf bd'], // high surrogate at the end
];

test('encodes code points of every length, lone surrogates as U+FFFD', () => {
  for (const [text, bytes] of VECTORS) {
    assert.is(hex(encodeUtf8(text)), bytes, JSON.stringify(text));
    assert.is(utf8Length(text), bytes === '' ? 0 : bytes.split(' ').length, JSON.stringify(text));
  }
});

test('writes at an offset and refuses to overflow without writing', () => {
  const out = new Uint8Array(6).fill(0xee);
  assert.is(writeUtf8('é€', out, 1), 5);
  assert.is(hex(out), 'ee c3 a9 e2 82 ac');
  const small = new Uint8Array(2).fill(0xee);
  assert.throws(() => writeUtf8('abc', small, 0), /do not fit/);
  assert.is(hex(small), 'ee ee');
});

test('fatal measuring refuses lone surrogates (-1) and counts the rest as lenient does', () => {
  for (const [text, bytes] of VECTORS) {
    const lone = bytes.includes('ef bf bd') && text !== '\ufffd';
    assert.is(utf8Length(text, true), lone ? -1 : utf8Length(text), JSON.stringify(text));
  }
});

test('fatal writing throws RangeError on a lone surrogate without writing', () => {
  const out = new Uint8Array(8).fill(0xee);
  assert.throws(() => writeUtf8('a\ud800', out, 0, true), /lone surrogate/);
  assert.is(hex(out), 'ee ee ee ee ee ee ee ee');
  assert.is(writeUtf8('a😀', out, 2, true), 5);
  assert.is(hex(out), 'ee ee 61 f0 9f 98 80 ee');
});

// Each row: bytes, the lenient string (one U+FFFD per byte that cannot start a well-formed sequence).
const ILL_FORMED: readonly (readonly [string, string, string])[] = [
  ['c0 af', '\ufffd\ufffd', 'overlong "/" (C0 lead)'],
  ['e0 80 af', '\ufffd\ufffd\ufffd', 'overlong "/" in three bytes'],
  ['f0 80 80 af', '\ufffd\ufffd\ufffd\ufffd', 'overlong "/" in four bytes'],
  ['ed a0 80', '\ufffd\ufffd\ufffd', 'an encoded surrogate (CESU-8)'],
  ['f4 90 80 80', '\ufffd\ufffd\ufffd\ufffd', 'past U+10FFFF'],
  ['f5 80 80 80', '\ufffd\ufffd\ufffd\ufffd', 'F5 lead'],
  ['ff', '\ufffd', 'FF'],
  ['80', '\ufffd', 'a continuation byte without a lead'],
  ['61 c3', 'a\ufffd', 'truncated two-byte sequence'],
  ['e2 82', '\ufffd\ufffd', 'truncated three-byte sequence'],
  ['c3 41', '\ufffdA', 'a lead followed by an ASCII byte'],
];

test('decoding ill-formed UTF-8: fatal gives undefined, lenient replaces', () => {
  for (const [bytes, lenient, what] of ILL_FORMED) {
    const b = fromHex(bytes);
    assert.is(decodeUtf8(b, 0, b.length, true), undefined, what);
    assert.is(decodeUtf8(b), lenient, what);
  }
  // A sequence cut by the range is truncated even when the array holds the rest.
  const cut = fromHex('41 e2 82 ac');
  assert.is(decodeUtf8(cut, 0, 3, true), undefined, 'cut by the range');
  assert.is(decodeUtf8(cut, 0, 3), 'A\ufffd\ufffd', 'cut by the range, lenient');
  assert.is(decodeUtf8(cut, 1, 3, true), '€', 'the whole sequence in range');
});

test('decoding well-formed UTF-8: fatal and lenient agree, U+0000 included', () => {
  for (const [text, bytes] of VECTORS) {
    const b = fromHex(bytes);
    const expected = decodeUtf8(encodeUtf8(text), 0, b.length, true);
    assert.is(decodeUtf8(b), expected, JSON.stringify(text));
    assert.is(decodeUtf8(b, 0, b.length, true), expected, JSON.stringify(text));
  }
  assert.is(decodeUtf8(fromHex('00 61'), 0, 2, true), '\u0000a');
});

// Long strings take the iterator path (encoding) and more than one 1,024-unit piece (decoding); astral
// characters land on the piece boundary, and lone surrogates sit in the long path.
function longText(units: number, lone: boolean): string {
  const parts = ['a', 'é', '€', '😀'];
  let s = '';
  for (let i = 0; s.length < units; i++) s += i % 97 === 50 && lone ? '\udc00' : parts[i % parts.length]!;
  return s;
}

test('long strings: lengths, bytes and round trips equal the short-string results piece by piece', () => {
  for (const units of [65, 1023, 1024, 1025, 4100]) {
    const clean = longText(units, false);
    const bytes = encodeUtf8(clean);
    assert.is(utf8Length(clean), bytes.length, `${units}`);
    assert.is(utf8Length(clean, true), bytes.length, `${units}`);
    assert.is(decodeUtf8(bytes), clean, `lenient ${units}`);
    assert.is(decodeUtf8(bytes, 0, bytes.length, true), clean, `fatal ${units}`);
    let pieces = 0; // the same string encoded one code point at a time (the short path)
    for (const ch of clean) pieces += utf8Length(ch);
    assert.is(pieces, bytes.length, `${units}`);
    const out = new Uint8Array(bytes.length + 2);
    assert.is(writeMeasuredUtf8(clean, out, 1), bytes.length + 1);
    assert.is(hex(out.subarray(1, bytes.length + 1)), hex(bytes));

    const dirty = longText(units, true);
    assert.is(utf8Length(dirty, true), -1, `lone surrogate in ${units}`);
    assert.is(decodeUtf8(encodeUtf8(dirty)), dirty.replace(/\udc00/g, '\ufffd'), `U+FFFD for lone surrogates in ${units}`);
  }
});

test('fuzz: fatal decoding succeeds exactly when the bytes are well-formed, and then agrees with lenient', () => {
  const next = xorshift32(0x75746638);
  const rounds = scaled(2000);
  const Decoder = (globalThis as { TextDecoder?: new (label: string, o: { fatal: boolean }) => { decode(b: Uint8Array): string } }).TextDecoder;
  const strictOracle = Decoder ? new Decoder('utf-8', { fatal: true }) : undefined;
  const pool = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x8f];
  for (let r = 0; r < rounds; r++) {
    const b = new Uint8Array(next() % 12);
    for (let i = 0; i < b.length; i++) b[i] = pool[next() % pool.length]!;
    const lenient = decodeUtf8(b);
    const fatal = decodeUtf8(b, 0, b.length, true);
    const wellFormed = hex(encodeUtf8(lenient)) === hex(b);
    assert.is(fatal !== undefined, wellFormed, `round ${r}: ${hex(b)}`);
    if (fatal !== undefined) assert.is(fatal, lenient, `round ${r}: ${hex(b)}`);
    // Where the engine has a TextDecoder (Node; XS has none), it judges well-formedness independently.
    if (strictOracle) {
      let ok = true;
      try {
        strictOracle.decode(b);
      } catch {
        ok = false;
      }
      assert.is(wellFormed, ok, `TextDecoder fatal, round ${r}: ${hex(b)}`);
    }
  }
});

test.run();
