import { ChunkFramer } from '../../../../firmware/core/http/ChunkFramer.ts';
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { assert, suite } from '../../../harness/index.ts';
import { bytes, text } from './httpKit.ts';

const test = suite('ChunkFramer');

/** The bytes a view list stands for, in order. */
function flatten(list: ViewList): Uint8Array {
  const out = new Uint8Array(list.byteLength);
  let at = 0;
  for (let i = 0; i < list.count; i++) {
    out.set(list.sources[i]!.subarray(list.offsets[i]!, list.offsets[i]! + list.lengths[i]!), at);
    at += list.lengths[i]!;
  }
  return out;
}

test('chunk-size lines are lower-case hex and CRLF for 1, 15, 16, 4095, 2^24 and 2^53-1', () => {
  const framer = new ChunkFramer();
  const cases: [number, string][] = [
    [1, '1\r\n'],
    [15, 'f\r\n'],
    [16, '10\r\n'],
    [255, 'ff\r\n'],
    [4095, 'fff\r\n'],
    [4096, '1000\r\n'],
    [2 ** 24, '1000000\r\n'],
    [2 ** 31 - 1, '7fffffff\r\n'],
    [2 ** 31, '80000000\r\n'],
    [2 ** 32 + 5, '100000005\r\n'],
    [Number.MAX_SAFE_INTEGER, '1fffffffffffff\r\n'],
  ];
  for (const [size, expected] of cases) {
    const list = new ViewList(4);
    framer.pushChunkHeader(list, size);
    assert.is(list.count, 1);
    assert.is(text(flatten(list)), expected, `size ${size}`);
  }
});

test('size 0 is not a chunk header (it would end the body): the last chunk is pushLastChunk', () => {
  const framer = new ChunkFramer();
  const list = new ViewList(4);
  for (const size of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
    assert.throws(() => framer.pushChunkHeader(list, size), /size/, String(size));
  }
  assert.is(list.count, 0);
  framer.pushLastChunk(list);
  assert.is(text(flatten(list)), '0\r\n\r\n');
});

test('a whole chunked body: header, payload views, CRLF, and the last chunk merged with the final CRLF', () => {
  const framer = new ChunkFramer();
  const payload = bytes('hello, world');
  const list = new ViewList(8);
  framer.pushChunkHeader(list, 5);
  list.push(payload, 0, 5);
  framer.pushChunkEnd(list);
  assert.is(text(flatten(list)), '5\r\nhello\r\n');
  const sent = text(flatten(list)); // a gather write happens here: the header scratch is reused after
  list.clear();
  framer.pushChunkHeader(list, 7);
  list.push(payload, 5, 7);
  framer.pushChunkEnd(list);
  framer.pushLastChunk(list);
  assert.is(list.count, 3, 'CRLF + last chunk are one range');
  assert.is(sent + text(flatten(list)), '5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n');
});

test('a size line placed first and set once the data is in the list (setChunkHeader): the same bytes, byteLength kept', () => {
  const framer = new ChunkFramer();
  const payload = bytes('0123456789abcdefghij'.repeat(20));
  const list = new ViewList(8);
  for (const n of [1, 15, 16, 255, 256, 400]) {
    list.clear();
    framer.pushChunkHeader(list, 1); // the place, as PutMediaConnection.beginChunk pushes it
    list.push(payload, 0, n);
    framer.setChunkHeader(list, 0, n);
    framer.pushChunkEnd(list);
    const expected = `${n.toString(16)}\r\n${text(payload.subarray(0, n))}\r\n`;
    assert.is(text(flatten(list)), expected, `size ${n}`);
    assert.is(list.byteLength, expected.length, `byteLength follows the line's length (size ${n})`);
  }
  list.clear();
  list.push(payload, 0, 3);
  assert.throws(() => framer.setChunkHeader(list, 0, 3), /not this framer/, 'only its own line is rewritten');
  assert.is(text(flatten(list)), '012');
});

test('the placeholder (pushChunkPlaceholder, once per frame) made the line by setChunkHeader: the same bytes as a line pushed first', () => {
  const framer = new ChunkFramer();
  const payload = bytes('0123456789abcdefghij'.repeat(20));
  const list = new ViewList(8);
  for (const n of [1, 9, 15, 16, 255, 256, 400]) {
    list.clear();
    framer.pushChunkPlaceholder(list);
    assert.is(list.count, 1);
    list.push(payload, 0, n);
    framer.setChunkHeader(list, 0, n);
    framer.pushChunkEnd(list);
    const expected = `${n.toString(16)}\r\n${text(payload.subarray(0, n))}\r\n`;
    assert.is(text(flatten(list)), expected, `size ${n}`);
    assert.is(list.byteLength, expected.length, `byteLength follows the line's length (size ${n})`);
  }
  list.clear();
  framer.pushChunkEnd(list);
  framer.pushChunkPlaceholder(list);
  assert.is(list.count, 2, 'the placeholder never merges with a chunk end before it');
});

test('framing reuses one buffer owned by the framer (no allocation per chunk)', () => {
  const framer = new ChunkFramer();
  const list = new ViewList(8);
  framer.pushChunkHeader(list, 4095);
  framer.pushChunkEnd(list);
  framer.pushChunkHeader(list, 1);
  framer.pushLastChunk(list);
  assert.is(list.count, 4, 'framing ranges never merge with each other except chunk end + last chunk');
  const source = list.sources[0]!;
  for (let i = 0; i < list.count; i++) assert.is(list.sources[i], source);
  // "valid until the next call": the scratch now says 1.
  const range = (k: number) => text(source.subarray(list.offsets[k]!, list.offsets[k]! + list.lengths[k]!));
  assert.is(range(0), 'ff1\r\n', 'the first header range was overwritten by the second call');
  assert.is(range(2), '1\r\n');
});

test.run();
