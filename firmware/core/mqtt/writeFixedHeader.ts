import { FieldcamError } from '../errors.ts';
import { remainingLengthSize, writeRemainingLength } from './remainingLength.ts';

/**
 * Checks that a packet with `remaining` bytes after its fixed header (§2.2: one type/flags byte, a 1-4
 * byte Remaining Length, then `remaining` bytes) fits `out` at `offset`, less `elsewhere` trailing bytes
 * the caller sends from another buffer (a gathered payload). Returns the bytes to write into `out`.
 */
export function fitPacket(remaining: number, out: Uint8Array, offset: number, elsewhere = 0): number {
  if (!Number.isInteger(offset) || offset < 0 || offset > out.length) {
    throw new RangeError(`offset: ${offset} is outside the ${out.length}-byte output`);
  }
  const here = 1 + remainingLengthSize(remaining) + remaining - elsewhere;
  if (offset + here > out.length) {
    throw new FieldcamError('MQTT_BUFFER_TOO_SMALL', `${here} byte(s) of packet do not fit ${out.length - offset} byte(s) of output`);
  }
  return here;
}

/** Writes the fixed header (§2.2): first byte (type << 4 | flags) and the Remaining Length. */
export function writeFixedHeader(first: number, remaining: number, out: Uint8Array, p: number): number {
  out[p] = first;
  return writeRemainingLength(remaining, out, p + 1);
}
