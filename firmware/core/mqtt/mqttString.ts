import { FieldcamError, type ErrorCode } from '../errors.ts';
import { utf8Length, writeMeasuredUtf8 } from '../text/utf8.ts';
import { MAX_STRING_BYTES } from './mqttConstants.ts';

/**
 * Validates `s` as an MQTT UTF-8 string (§1.5.3) and returns its UTF-8 length: no U+0000
 * ([MQTT-1.5.3-2]), no lone surrogate (no UTF-8 form, [MQTT-1.5.3-1]) and at most 65,535 bytes. Throws
 * `code` naming `what`.
 */
export function mqttStringLength(s: string, what: string, code: ErrorCode): number {
  if (s.indexOf('\u0000') >= 0) throw new FieldcamError(code, `${what} holds U+0000 ([MQTT-1.5.3-2])`);
  const n = utf8Length(s, true);
  if (n < 0) throw new FieldcamError(code, `${what} holds a lone surrogate, which has no UTF-8 form (§1.5.3)`);
  if (n > MAX_STRING_BYTES) throw new FieldcamError(code, `${what} is ${n} UTF-8 bytes, more than ${MAX_STRING_BYTES} (§1.5.3)`);
  return n;
}

/** Writes a string already measured by mqttStringLength: two-byte length, then UTF-8 (§1.5.3). */
export function writeMqttString(s: string, byteLength: number, out: Uint8Array, p: number): number {
  return writeMeasuredUtf8(s, out, writeUint16(byteLength, out, p));
}

/** Binary data (§1.5.3 by analogy, e.g. the will message §3.1.3.3 and password §3.1.3.5): length, bytes. */
export function writeMqttBinary(bytes: Uint8Array, out: Uint8Array, p: number): number {
  p = writeUint16(bytes.length, out, p);
  out.set(bytes, p);
  return p + bytes.length;
}

/** A big-endian two-byte integer (§1.5.2). */
export function writeUint16(n: number, out: Uint8Array, p: number): number {
  out[p] = n >> 8;
  out[p + 1] = n & 0xff;
  return p + 2;
}
