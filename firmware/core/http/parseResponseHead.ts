import { FieldcamError } from '../errors.ts';
import { COLON, CR, isFieldOctet, isOws, isTchar, latin1, LF, SP } from './httpChars.ts';

/** A parsed response head. Allocated once per response (head strings are not on the hot path). */
export interface ResponseHead {
  readonly status: number;
  /** The minor digit of HTTP/1.x. */
  readonly minorVersion: number;
  readonly reason: string;
  /** Field lines in order, names lower-cased, values without surrounding whitespace. */
  readonly headers: [string, string][];
}

/**
 * Parses a complete response head held in `buf[0..length)`: the status line and field lines, each ended
 * by LF (a preceding CR is dropped, RFC 9112 §2.2), the last line being the empty one.
 */
export function parseResponseHead(buf: Uint8Array, length: number, maxHeaders: number): ResponseHead {
  let start = 0;
  let end = lineEnd(buf, start, length);
  const statusEnd = contentEnd(buf, start, end);
  const { status, minorVersion, reason } = parseStatusLine(buf, start, statusEnd);
  const headers: [string, string][] = [];
  for (start = end + 1; start < length; start = end + 1) {
    end = lineEnd(buf, start, length);
    const e = contentEnd(buf, start, end);
    if (e === start) break; // the empty line ending the head
    if (isOws(buf[start]!)) {
      // obs-fold (RFC 9112 §5.2): a user agent replaces it with SP. Before any field it is an attack shape.
      const last = headers[headers.length - 1];
      if (!last) throw new FieldcamError('HTTP_HEADER_INVALID', 'whitespace between the status line and the first field line (RFC 9112 §2.2)');
      const more = fieldValue(buf, start, e, last[0]);
      if (more.length > 0) last[1] = last[1].length > 0 ? `${last[1]} ${more}` : more;
      continue;
    }
    if (headers.length === maxHeaders) {
      throw new FieldcamError('HTTP_HEAD_TOO_LARGE', `the response has more than ${maxHeaders} field lines`);
    }
    headers.push(parseFieldLine(buf, start, e));
  }
  return { status, minorVersion, reason, headers };
}

function lineEnd(buf: Uint8Array, start: number, length: number): number {
  const lf = buf.indexOf(LF, start);
  // The head is only parsed once its empty line arrived, so every line has its LF.
  return lf < 0 || lf >= length ? length : lf;
}

/** End of a line's content: before the CR of CRLF. A CR anywhere else is a bare CR (RFC 9112 §2.2). */
function contentEnd(buf: Uint8Array, start: number, lf: number): number {
  const e = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
  const cr = buf.indexOf(CR, start);
  if (cr >= 0 && cr < e) {
    throw new FieldcamError(start === 0 ? 'HTTP_STATUS_LINE_INVALID' : 'HTTP_HEADER_INVALID', 'a bare CR inside a head line (RFC 9112 §2.2)');
  }
  return e;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/", case-sensitive (RFC 9112 §2.3)

/** status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). */
function parseStatusLine(buf: Uint8Array, start: number, end: number): { status: number; minorVersion: number; reason: string } {
  const invalid = (why: string): FieldcamError =>
    new FieldcamError('HTTP_STATUS_LINE_INVALID', `${why}: ${JSON.stringify(latin1(buf, start, Math.min(end, start + 64), false))}`);
  for (let i = 0; i < HTTP_SLASH.length; i++) {
    if (start + i >= end || buf[start + i] !== HTTP_SLASH[i]) throw invalid('the response does not start with "HTTP/"');
  }
  const v = start + 5;
  if (!isDigit(buf[v]) || buf[v + 1] !== 0x2e || !isDigit(buf[v + 2]) || v + 3 > end) throw invalid('the HTTP version is not DIGIT "." DIGIT');
  if (buf[v] !== 0x31) throw invalid('only HTTP/1.x is spoken here');
  const s = v + 3;
  if (buf[s] !== SP || s + 4 > end || !isDigit(buf[s + 1]) || !isDigit(buf[s + 2]) || !isDigit(buf[s + 3])) {
    throw invalid('the status code is not three digits after one SP');
  }
  const status = (buf[s + 1]! - 0x30) * 100 + (buf[s + 2]! - 0x30) * 10 + (buf[s + 3]! - 0x30);
  if (status < 100 || status > 599) throw invalid('the status code is outside 100-599 (RFC 9110 §15)');
  let r = s + 4;
  // The SP before an empty reason phrase is often left out; a client ignores the reason anyway (§4).
  if (r < end) {
    if (buf[r] !== SP) throw invalid('the status code is not followed by SP');
    r++;
  }
  for (let i = r; i < end; i++) if (!isFieldOctet(buf[i]!)) throw invalid('the reason phrase holds a control character');
  return { status, minorVersion: buf[v + 2]! - 0x30, reason: latin1(buf, r, end, false) };
}

/** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
function parseFieldLine(buf: Uint8Array, start: number, end: number): [string, string] {
  let colon = start;
  while (colon < end && isTchar(buf[colon]!)) colon++;
  if (colon === start || colon === end || buf[colon] !== COLON) {
    // Includes whitespace between name and colon, which RFC 9112 §5.1 forbids.
    throw new FieldcamError('HTTP_HEADER_INVALID', `not a field line: ${JSON.stringify(latin1(buf, start, Math.min(end, start + 64), false))}`);
  }
  const name = latin1(buf, start, colon, true);
  return [name, fieldValue(buf, colon + 1, end, name)];
}

function fieldValue(buf: Uint8Array, start: number, end: number, name: string): string {
  while (start < end && isOws(buf[start]!)) start++;
  while (end > start && isOws(buf[end - 1]!)) end--;
  for (let i = start; i < end; i++) {
    // CR/LF cannot be here (line ends); NUL and the other controls are refused (RFC 9110 §5.5).
    if (!isFieldOctet(buf[i]!)) {
      throw new FieldcamError('HTTP_HEADER_INVALID', `the value of ${name} holds control 0x${buf[i]!.toString(16)} (RFC 9110 §5.5)`);
    }
  }
  return latin1(buf, start, end, false);
}
