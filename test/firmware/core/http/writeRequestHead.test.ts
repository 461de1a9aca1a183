import { writeRequestHead } from '../../../../firmware/core/http/writeRequestHead.ts';
import { assert, suite } from '../../../harness/index.ts';
import { bytes, text } from './httpKit.ts';

const test = suite('writeRequestHead');

const PUT_MEDIA_HEADERS: [string, string][] = [
  ['Host', 's-b12345.kinesisvideo.us-west-2.amazonaws.com'],
  ['x-amzn-stream-name', 'demo-stream'],
  ['x-amzn-fragment-timecode-type', 'ABSOLUTE'],
  ['transfer-encoding', 'chunked'],
  ['Expect', '100-continue'],
  ['x-empty', ''],
];

test('serialises the request line, the fields in order and the empty line, byte for byte', () => {
  const out = new Uint8Array(512);
  const n = writeRequestHead('POST', '/putMedia', PUT_MEDIA_HEADERS, out);
  const expected =
    'POST /putMedia HTTP/1.1\r\n' +
    'Host: s-b12345.kinesisvideo.us-west-2.amazonaws.com\r\n' +
    'x-amzn-stream-name: demo-stream\r\n' +
    'x-amzn-fragment-timecode-type: ABSOLUTE\r\n' +
    'transfer-encoding: chunked\r\n' +
    'Expect: 100-continue\r\n' +
    'x-empty: \r\n' +
    '\r\n';
  assert.is(n, expected.length);
  assert.equal(out.subarray(0, n), bytes(expected));
});

test('a head without fields is the request line and the empty line', () => {
  const out = new Uint8Array(64);
  const n = writeRequestHead('GET', '/role-aliases/cam/credentials', [], out);
  assert.is(text(out.subarray(0, n)), 'GET /role-aliases/cam/credentials HTTP/1.1\r\n\r\n');
});

test('values keep inner spaces, tabs and visible punctuation; non-ASCII goes out as UTF-8', () => {
  const out = new Uint8Array(128);
  const n = writeRequestHead(
    'GET',
    '/',
    [
      ['Authorization', 'AWS4-HMAC-SHA256 Credential=a/b,\tSignedHeaders=host'],
      ['x-note', 'café'],
    ],
    out,
  );
  assert.is(text(out.subarray(0, n)), 'GET / HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/b,\tSignedHeaders=host\r\nx-note: caf\xc3\xa9\r\n\r\n');
});

test('header injection is refused: CR, LF, NUL or another control in a value', () => {
  const out = new Uint8Array(256);
  for (const value of ['a\r\nx-evil: 1', 'a\nb', 'a\rb', 'a\0b', 'a\x01b', 'a\x7fb', '\r\n']) {
    assert.throws(
      () =>
        writeRequestHead(
          'GET',
          '/',
          [
            ['x-ok', 'fine'],
            ['x-value', value],
          ],
          out,
        ),
      'HTTP_HEADER_INVALID',
      JSON.stringify(value),
    );
  }
});

test('names must be tokens: no spaces, colons, separators, controls or emptiness', () => {
  const out = new Uint8Array(256);
  for (const name of ['', 'x name', 'x:name', 'x-name:', 'x\r\nname', 'x\0', '(x)', 'x"', 'é']) {
    assert.throws(() => writeRequestHead('GET', '/', [[name, 'v']], out), 'HTTP_HEADER_INVALID', JSON.stringify(name));
  }
  // Every tchar is accepted.
  const n = writeRequestHead('GET', '/', [["!#$%&'*+-.^_`|~09AZaz", 'v']], out);
  assert.is(text(out.subarray(0, n)), "GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09AZaz: v\r\n\r\n");
});

test('values with leading or trailing whitespace are refused (a recipient would strip it)', () => {
  const out = new Uint8Array(256);
  for (const value of [' v', 'v ', '\tv', 'v\t']) {
    assert.throws(() => writeRequestHead('GET', '/', [['x', value]], out), 'HTTP_HEADER_INVALID', JSON.stringify(value));
  }
});

test('the method must be a token and the target visible ASCII', () => {
  const out = new Uint8Array(256);
  for (const method of ['', 'GET /x', 'GE\rT', 'G\nET', 'PO(ST']) {
    assert.throws(() => writeRequestHead(method, '/', [], out), 'HTTP_REQUEST_LINE_INVALID', JSON.stringify(method));
  }
  for (const target of ['', '/a b', '/a\r\nHost: evil', '/a\0', '/é', '/a\x7f']) {
    assert.throws(() => writeRequestHead('GET', target, [], out), 'HTTP_REQUEST_LINE_INVALID', JSON.stringify(target));
  }
});

test('a head one byte larger than the scratch is HTTP_HEAD_TOO_LARGE at every scratch size; an exact fit works', () => {
  const size = writeRequestHead('POST', '/putMedia', PUT_MEDIA_HEADERS, new Uint8Array(512));
  for (let n = 0; n < size; n++) {
    assert.throws(() => writeRequestHead('POST', '/putMedia', PUT_MEDIA_HEADERS, new Uint8Array(n)), 'HTTP_HEAD_TOO_LARGE', `scratch ${n}`);
  }
  assert.is(writeRequestHead('POST', '/putMedia', PUT_MEDIA_HEADERS, new Uint8Array(size)), size);
  // A multi-byte UTF-8 value counts in bytes.
  assert.throws(() => writeRequestHead('GET', '/', [['x', 'é']], new Uint8Array(24)), 'HTTP_HEAD_TOO_LARGE');
  assert.is(writeRequestHead('GET', '/', [['x', 'é']], new Uint8Array(25)), 25);
});

test('an invalid field is refused before anything is written', () => {
  const out = new Uint8Array(64).fill(0xaa);
  assert.throws(
    () =>
      writeRequestHead(
        'GET',
        '/',
        [
          ['ok', 'v'],
          ['bad', 'a\nb'],
        ],
        out,
      ),
    'HTTP_HEADER_INVALID',
  );
  assert.ok(out.every((b) => b === 0xaa));
});

test.run();
