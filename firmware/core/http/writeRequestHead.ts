import { FieldcamError } from '../errors.ts';
import { utf8Length, writeUtf8 } from '../text/utf8.ts';
import { CR, isFieldOctet, isOws, isTchar, LF, SP } from './httpChars.ts';

/** Field lines in sending order: [name, value]. */
export type HeaderList = readonly (readonly [string, string])[];

const VERSION = ' HTTP/1.1';

/**
 * Serialises a request head (RFC 9112 §3, §5) into the caller's scratch `out` from index 0 and returns
 * its length: `METHOD target HTTP/1.1\r\n` + `Name: value\r\n`… + `\r\n`. Nothing is allocated, so the
 * same scratch serves every reconnect.
 *
 * Everything is validated before a byte is written: the method and names must be tokens and values
 * may hold no CR, LF, NUL or other control (header injection, RFC 9110 §5.5). Values are refused with
 * leading or trailing whitespace too, because a recipient strips it (§5.5) and the value signed would
 * no longer be the value received. Non-ASCII characters in values go out as UTF-8 (obs-text).
 */
export function writeRequestHead(method: string, target: string, headers: HeaderList, out: Uint8Array): number {
  checkRequestLine(method, target);
  for (let h = 0; h < headers.length; h++) checkField(headers[h]![0], headers[h]![1]);

  let p = putAscii(method, out, 0);
  p = putByte(SP, out, p);
  p = putAscii(target, out, p);
  p = putAscii(VERSION, out, p);
  p = putCrlf(out, p);
  for (let h = 0; h < headers.length; h++) {
    const field = headers[h]!;
    p = putAscii(field[0], out, p);
    p = putAscii(': ', out, p);
    const value = field[1];
    const n = utf8Length(value);
    if (p + n > out.length) throw tooLarge(out);
    p += writeUtf8(value, out, p);
    p = putCrlf(out, p);
  }
  return putCrlf(out, p);
}

function checkRequestLine(method: string, target: string): void {
  if (method.length === 0) throw new FieldcamError('HTTP_REQUEST_LINE_INVALID', 'the request method is empty');
  for (let i = 0; i < method.length; i++) {
    if (!isTchar(method.charCodeAt(i))) {
      throw new FieldcamError('HTTP_REQUEST_LINE_INVALID', `the request method ${JSON.stringify(method)} is not a token (RFC 9110 §9.1)`);
    }
  }
  if (target.length === 0) throw new FieldcamError('HTTP_REQUEST_LINE_INVALID', 'the request target is empty');
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    // request-target forms are built from visible ASCII (RFC 9112 §3.2; URI syntax, RFC 3986).
    if (c <= SP || c >= 0x7f) {
      throw new FieldcamError(
        'HTTP_REQUEST_LINE_INVALID',
        `the request target ${JSON.stringify(target)} holds a space, control or non-ASCII character at ${i}; percent-encode it`,
      );
    }
  }
}

function checkField(name: string, value: string): void {
  if (name.length === 0) throw new FieldcamError('HTTP_HEADER_INVALID', 'a header name is empty');
  for (let i = 0; i < name.length; i++) {
    if (!isTchar(name.charCodeAt(i))) {
      throw new FieldcamError('HTTP_HEADER_INVALID', `the header name ${JSON.stringify(name)} is not a token (RFC 9110 §5.1)`);
    }
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isFieldOctet(c)) {
      const what = c === CR ? 'CR' : c === LF ? 'LF' : c === 0 ? 'NUL' : `control 0x${c.toString(16)}`;
      throw new FieldcamError('HTTP_HEADER_INVALID', `the value of header ${name} holds ${what} at ${i} (RFC 9110 §5.5)`);
    }
  }
  if (value.length > 0 && (isOws(value.charCodeAt(0)) || isOws(value.charCodeAt(value.length - 1)))) {
    throw new FieldcamError('HTTP_HEADER_INVALID', `the value of header ${name} has leading or trailing whitespace, which a recipient strips (RFC 9110 §5.5)`);
  }
}

/** `s` is known to be ASCII (validated above or a constant). */
function putAscii(s: string, out: Uint8Array, p: number): number {
  if (p + s.length > out.length) throw tooLarge(out);
  for (let i = 0; i < s.length; i++) out[p + i] = s.charCodeAt(i);
  return p + s.length;
}

function putByte(c: number, out: Uint8Array, p: number): number {
  if (p >= out.length) throw tooLarge(out);
  out[p] = c;
  return p + 1;
}

function putCrlf(out: Uint8Array, p: number): number {
  return putByte(LF, out, putByte(CR, out, p));
}

function tooLarge(out: Uint8Array): FieldcamError {
  return new FieldcamError('HTTP_HEAD_TOO_LARGE', `the request head does not fit its ${out.length}-byte scratch`);
}
