// Tests for firmware/core/text/utf8.ts (kept with the Matroska suites that depend on it).
import { encodeUtf8, utf8Length, writeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { assert, suite } from '../../../harness/index.ts';
import { hex } from './support.ts';

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

test.run();
