// Every malformation is a named FieldcamError, whatever the byte split; every limit holds at its boundary.
import { HttpResponseParser, HTTP_RESPONSE_LIMITS } from '../../../../firmware/core/http/HttpResponseParser.ts';
import { ERRORS, FieldcamError } from '../../../../firmware/core/errors.ts';
import { assert, suite } from '../../../harness/index.ts';
import { bytes, every, parse } from './httpKit.ts';
import type { HttpResponseLimits } from '../../../../firmware/core/http/HttpResponseParser.ts';

const test = suite('HttpResponseParser errors');

const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';

/** Fails unless `input` ends in `code` — parsed whole, byte by byte and in 7-byte pieces. */
function rejects(input: string, code: string, close = false, limits?: HttpResponseLimits): void {
  const b = bytes(input);
  for (const step of [b.length || 1, 1, 7]) {
    const r = parse(b, every(b.length, step), close, limits);
    assert.is(r.foreign, undefined, `${JSON.stringify(input)}: a foreign throw`);
    assert.is(r.code, code, `${JSON.stringify(input.slice(0, 120))} in pieces of ${step}`);
  }
}

function accepts(input: string, close = false, limits?: HttpResponseLimits): string[] {
  const r = parse(bytes(input), [], close, limits);
  assert.is(r.foreign, undefined);
  assert.is(r.code, undefined, JSON.stringify(input.slice(0, 120)));
  return r.events;
}

test('HTTP_STATUS_LINE_INVALID: anything but HTTP/1.x SP 3DIGIT [SP reason]', () => {
  for (const line of [
    'HTTP/2 200 OK',
    'HTTP/2.0 200 OK',
    'HTTP/0.9 200 OK',
    'http/1.1 200 OK',
    'HTTP/1.1 20 OK',
    'HTTP/1.1 2000 OK',
    'HTTP/1.1  200 OK',
    'HTTP/1.1 099 Low',
    'HTTP/1.1 600 High',
    'HTTP/1.1 200OK',
    'HTTP/1.1 200 O\x01K',
    'HTTP/1.1 200 O\x7fK',
    'HTTP/1.1 200 O\rK',
    'ICY 200 OK',
    'HTTP/1.1',
    'HTTP/1.1 ',
    'HTTP/11 200 OK',
    'SSH-2.0-OpenSSH_9.6',
    '\x16\x03\x01\x02\x00',
    'HTTP/1.1 101 Switching Protocols',
  ]) {
    rejects(`${line}\r\nContent-Length: 0\r\n\r\n`, 'HTTP_STATUS_LINE_INVALID');
  }
  // A TLS server answered on a plain socket: refused as soon as its head would complete or overflow.
  rejects('\x15\x03\x03\x00\x02\x02\x46', 'HTTP_TRUNCATED', true);
});

test('HTTP_HEADER_INVALID: malformed field lines and values', () => {
  for (const field of ['Name : v', 'Name\t: v', ': v', 'No-Colon', '(x): v', 'x"y: v', 'x: a\x00b', 'x: a\x01b', 'x: a\x7fb', 'x: a\rb', 'é: v']) {
    rejects(`HTTP/1.1 200 OK\r\n${field}\r\nContent-Length: 0\r\n\r\n`, 'HTTP_HEADER_INVALID');
  }
  // Whitespace between the status line and the first field (RFC 9112 §2.2).
  rejects('HTTP/1.1 200 OK\r\n Leading: v\r\n\r\n', 'HTTP_HEADER_INVALID');
  // Controls in a trailer field.
  rejects(`${CHUNKED}0\r\nx: a\x00b\r\n\r\n`, 'HTTP_HEADER_INVALID');
});

test('HTTP_HEAD_TOO_LARGE: head bytes, field count and trailer bytes, each at its boundary', () => {
  const status = 'HTTP/1.1 200 OK\r\n';
  const tail = 'Content-Length: 0\r\n\r\n';
  // Exactly maxHeadBytes passes; one more byte fails.
  const filler = (n: number) => `x: ${'a'.repeat(n - status.length - tail.length - 5)}\r\n`;
  const max = HTTP_RESPONSE_LIMITS.maxHeadBytes;
  assert.is((status + filler(max) + tail).length, max);
  accepts(status + filler(max) + tail);
  rejects(status + filler(max + 1) + tail, 'HTTP_HEAD_TOO_LARGE');
  // Empty lines before the status line count too: a stream of CRLF cannot run forever.
  rejects('\r\n'.repeat(max), 'HTTP_HEAD_TOO_LARGE');
  // A head that never ends fails at the limit, before the connection closes.
  rejects(`${status}x: ${'a'.repeat(max)}`, 'HTTP_HEAD_TOO_LARGE');
  // Configured limits.
  const small = { maxHeadBytes: 64 };
  accepts(status + filler(64) + tail, false, small);
  rejects(status + filler(65) + tail, 'HTTP_HEAD_TOO_LARGE', false, small);

  const fields = (n: number) => Array.from({ length: n }, (_, i) => `x-${i}: ${i}\r\n`).join('');
  accepts(`${status}${fields(HTTP_RESPONSE_LIMITS.maxHeaders - 1)}${tail}`);
  rejects(`${status}${fields(HTTP_RESPONSE_LIMITS.maxHeaders)}${tail}`, 'HTTP_HEAD_TOO_LARGE');
  accepts(`${status}${fields(2)}${tail}`, false, { maxHeaders: 3 });
  rejects(`${status}${fields(3)}${tail}`, 'HTTP_HEAD_TOO_LARGE', false, { maxHeaders: 3 });
  // obs-fold continuations are not extra fields.
  accepts(`${status}x: a\r\n b\r\n c\r\n${tail}`, false, { maxHeaders: 2 });

  const section = (n: number) => `x: ${'t'.repeat(n - 7)}\r\n\r\n`; // a trailer section of n bytes
  assert.is(section(100).length, 100);
  accepts(`${CHUNKED}0\r\n${section(100)}`, false, { maxTrailerBytes: 100 });
  rejects(`${CHUNKED}0\r\n${section(101)}`, 'HTTP_HEAD_TOO_LARGE', false, { maxTrailerBytes: 100 });
  rejects(`${CHUNKED}0\r\n${section(HTTP_RESPONSE_LIMITS.maxTrailerBytes + 1)}`, 'HTTP_HEAD_TOO_LARGE');
});

test('HTTP_FRAMING_INVALID: Content-Length and Transfer-Encoding that cannot be trusted', () => {
  for (const fields of [
    'Content-Length: 5\r\nTransfer-Encoding: chunked',
    'Transfer-Encoding: chunked\r\nContent-Length: 0',
    'Content-Length: abc',
    'Content-Length: -1',
    'Content-Length: +5',
    'Content-Length: 0x10',
    'Content-Length: 1 2',
    'Content-Length:',
    'Content-Length: 5,',
    'Content-Length: 1,2',
    'Content-Length: 5\r\nContent-Length: 6',
    `Content-Length: ${'9'.repeat(16)}`,
    'Transfer-Encoding: chunked, chunked',
    'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked',
    'Transfer-Encoding:',
    'Transfer-Encoding: ,',
    'Transfer-Encoding: chu nked',
    'Transfer-Encoding: "chunked"',
  ]) {
    rejects(`HTTP/1.1 200 OK\r\n${fields}\r\n\r\n`, 'HTTP_FRAMING_INVALID');
  }
  rejects('HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'HTTP_FRAMING_INVALID');
  // Interim and body-less responses ignore framing fields entirely.
  accepts('HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 1,2\r\n\r\n');
  // 15 digits is the largest length accepted.
  accepts(`HTTP/1.1 200 OK\r\nContent-Length: ${'9'.repeat(15)}\r\n\r\n`);
});

test('HTTP_CHUNK_INVALID: chunk-size lines, data terminators, sizes and extensions', () => {
  for (const body of [
    'zz\r\n',
    '\r\n',
    '\n',
    ' 5\r\nhello\r\n',
    '-5\r\n',
    '0x5\r\n',
    '5 x\r\n',
    '5\rX',
    '5;a\rX',
    '5\r\nhelloX',
    '5\r\nhello\rX',
    '5\r\nhello\r\n\r\n',
    '20000000000000\r\n',
    'fffffffffffffff\r\n',
    '5;a\x00b\r\n',
    '5;a\x7f\r\n',
    '0\r\nx: y\rX',
  ]) {
    rejects(CHUNKED + body, 'HTTP_CHUNK_INVALID');
  }
  // The size line (extensions included) is bounded.
  const ext = (n: number) => `5;${'e'.repeat(n - 4)}\r\nhello\r\n0\r\n\r\n`; // a chunk-size line of n bytes
  accepts(CHUNKED + ext(HTTP_RESPONSE_LIMITS.maxChunkLineBytes));
  rejects(CHUNKED + ext(HTTP_RESPONSE_LIMITS.maxChunkLineBytes + 1), 'HTTP_CHUNK_INVALID');
  accepts(CHUNKED + ext(16), false, { maxChunkLineBytes: 16 });
  rejects(CHUNKED + ext(17), 'HTTP_CHUNK_INVALID', false, { maxChunkLineBytes: 16 });
  // The largest size accepted: 2^53 - 1 (the data then never arrives, so the close is a truncation).
  rejects(`${CHUNKED}1fffffffffffff\r\n`, 'HTTP_TRUNCATED', true);
});

test('HTTP_TRUNCATED: the connection closed inside a head, a body, a chunk line, chunk data or the trailers', () => {
  for (const input of [
    'H',
    'HTTP/1.1 200 OK\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n',
    'HTTP/1.1 100 Continue\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhell',
    `${CHUNKED}`,
    `${CHUNKED}5`,
    `${CHUNKED}5;x`,
    `${CHUNKED}5\r\nhel`,
    `${CHUNKED}5\r\nhello`,
    `${CHUNKED}5\r\nhello\r`,
    `${CHUNKED}0\r\n`,
    `${CHUNKED}0\r\nx: y\r\n`,
    `${CHUNKED}0\r\n\r`,
    '\r',
  ]) {
    rejects(input, 'HTTP_TRUNCATED', true);
  }
  // Nothing or only stray empty lines: an orderly close.
  accepts('', true);
  accepts('\r\n\r\n', true);
});

test('HTTP_CALL_ORDER: after end(), after an error, and from inside a callback', () => {
  const noop = { onHead() {}, onBody() {}, onEnd() {} };
  const ok = bytes('HTTP/1.1 204 No Content\r\n\r\n');
  const ended = new HttpResponseParser(noop);
  ended.end();
  assert.throws(() => ended.push(ok, 0, ok.length), 'HTTP_CALL_ORDER');
  assert.throws(() => ended.end(), 'HTTP_CALL_ORDER');
  ended.reset();
  ended.push(ok, 0, ok.length);

  const failed = new HttpResponseParser(noop);
  const bad = bytes('HTTP/9 200 OK\r\n\r\n');
  assert.throws(() => failed.push(bad, 0, bad.length), 'HTTP_STATUS_LINE_INVALID');
  assert.throws(() => failed.push(ok, 0, ok.length), 'HTTP_CALL_ORDER');

  let inner: unknown;
  const reentrant: HttpResponseParser = new HttpResponseParser({
    onHead() {
      try {
        reentrant.push(ok, 0, ok.length);
      } catch (err) {
        inner = err;
      }
      assert.throws(() => reentrant.reset(), 'HTTP_CALL_ORDER');
    },
    onBody() {},
    onEnd() {},
  });
  reentrant.push(ok, 0, ok.length);
  assert.ok(inner instanceof FieldcamError && inner.code === 'HTTP_CALL_ORDER');
});

test('an exception from a callback propagates and fails the parser', () => {
  const parser = new HttpResponseParser({
    onHead() {},
    onBody() {
      throw new Error('consumer failed');
    },
    onEnd() {},
  });
  const b = bytes('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx');
  assert.throws(() => parser.push(b, 0, b.length), /consumer failed/);
  assert.throws(() => parser.push(b, 0, 1), 'HTTP_CALL_ORDER');
});

test('limits must be positive integers (a programmer error, RangeError naming the field)', () => {
  const noop = { onHead() {}, onBody() {}, onEnd() {} };
  for (const name of ['maxHeadBytes', 'maxHeaders', 'maxChunkLineBytes', 'maxTrailerBytes'] as const) {
    for (const value of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new HttpResponseParser({ ...noop, limits: { [name]: value } }), new RegExp(`limits\\.${name}`));
    }
  }
});

test('every http error code is in the table, in the http area', () => {
  for (const code of [
    'HTTP_REQUEST_LINE_INVALID',
    'HTTP_HEADER_INVALID',
    'HTTP_HEAD_TOO_LARGE',
    'HTTP_STATUS_LINE_INVALID',
    'HTTP_FRAMING_INVALID',
    'HTTP_CHUNK_INVALID',
    'HTTP_TRUNCATED',
    'HTTP_CALL_ORDER',
  ] as const) {
    assert.is(ERRORS[code].area, 'http', code);
  }
  assert.is(ERRORS.HTTP_TRUNCATED.retryable, true);
  assert.is(ERRORS.HTTP_HEADER_INVALID.retryable, false);
});

test.run();
