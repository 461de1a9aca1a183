import { FieldcamError } from '../errors.ts';
import type { ResponseHead } from './parseResponseHead.ts';

/** How a response body is delimited (RFC 9112 §6.3). */
export const BODY = Object.freeze({
  /** No body: 1xx, 204, 304, or Content-Length: 0. */
  NONE: 0,
  /** Content-Length bytes. */
  LENGTH: 1,
  /** The chunked transfer coding is the final coding. */
  CHUNKED: 2,
  /** Until the server closes the connection. */
  CLOSE: 3,
} as const);
export type BodyKind = (typeof BODY)[keyof typeof BODY];

export interface BodyFraming {
  readonly kind: BodyKind;
  /** Body bytes for LENGTH. */
  readonly length: number;
}

const NONE: BodyFraming = Object.freeze({ kind: BODY.NONE, length: 0 });
const CHUNKED: BodyFraming = Object.freeze({ kind: BODY.CHUNKED, length: 0 });
const CLOSE: BodyFraming = Object.freeze({ kind: BODY.CLOSE, length: 0 });

/** 15 decimal digits stay below 2^53: lengths beyond are no body this client would ever read. */
const MAX_LENGTH_DIGITS = 15;

/**
 * The message body length of a final response (RFC 9112 §6.3), in that section's order of precedence.
 * Responses to HEAD and 2xx responses to CONNECT are not told apart here: this client sends neither.
 */
export function bodyFraming(head: ResponseHead): BodyFraming {
  if (head.status < 200 || head.status === 204 || head.status === 304) return NONE;
  let codings: string | undefined;
  let length = -1;
  for (const [name, value] of head.headers) {
    if (name === 'transfer-encoding') codings = codings === undefined ? value : `${codings},${value}`;
    else if (name === 'content-length') length = contentLength(value, length);
  }
  if (codings !== undefined) {
    if (head.minorVersion === 0) {
      // §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty.
      throw new FieldcamError('HTTP_FRAMING_INVALID', 'an HTTP/1.0 response carries Transfer-Encoding (RFC 9112 §6.1)');
    }
    if (length >= 0) {
      // §6.3 item 3: a smuggling / response-splitting shape that "ought to be handled as an error".
      throw new FieldcamError('HTTP_FRAMING_INVALID', 'the response carries both Transfer-Encoding and Content-Length (RFC 9112 §6.3)');
    }
    return transferCodings(codings);
  }
  if (length === 0) return NONE;
  if (length > 0) return { kind: BODY.LENGTH, length };
  return CLOSE;
}

/** Content-Length = 1*DIGIT; a list or repeated field of identical values is that value (RFC 9110 §8.6). */
function contentLength(value: string, previous: number): number {
  let result = previous;
  for (const element of value.split(',')) {
    const digits = element.trim();
    if (digits.length === 0 || digits.length > MAX_LENGTH_DIGITS || !/^[0-9]+$/.test(digits)) {
      throw new FieldcamError('HTTP_FRAMING_INVALID', `Content-Length ${JSON.stringify(value)} is not a decimal length (RFC 9110 §8.6)`);
    }
    const n = Number(digits);
    if (result >= 0 && n !== result) {
      throw new FieldcamError('HTTP_FRAMING_INVALID', `Content-Length values differ (${result} and ${n}) (RFC 9112 §6.3)`);
    }
    result = n;
  }
  return result;
}

/** Transfer-Encoding = #transfer-coding; chunked must be final and applied once (RFC 9112 §6.1, §6.3). */
function transferCodings(codings: string): BodyFraming {
  let count = 0;
  let chunked = 0;
  let last = '';
  for (const element of codings.split(',')) {
    const coding = element.split(';')[0]!.trim().toLowerCase();
    if (coding.length === 0) continue; // empty list elements are allowed (RFC 9110 §5.6.1)
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(coding)) {
      throw new FieldcamError('HTTP_FRAMING_INVALID', `Transfer-Encoding ${JSON.stringify(codings)} is not a list of codings`);
    }
    count++;
    if (coding === 'chunked') chunked++;
    last = coding;
  }
  if (count === 0) throw new FieldcamError('HTTP_FRAMING_INVALID', 'Transfer-Encoding names no coding');
  if (chunked > 1) throw new FieldcamError('HTTP_FRAMING_INVALID', 'chunked is applied more than once (RFC 9112 §6.1)');
  // In a response, codings not ending in chunked are delimited by closing the connection (§6.3 item 3).
  return last === 'chunked' ? CHUNKED : CLOSE;
}
