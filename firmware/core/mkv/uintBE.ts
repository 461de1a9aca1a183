// Big-endian unsigned integers as EBML stores them (RFC 8794 §7.2, "Unsigned Integer Element"):
// 0-8 octets, no marker. Numbers up to 2^53 − 1 (Matroska timecodes in ms since the epoch fit easily).

/** Octets needed for `value` (at least 1: we always write a zero as one 0x00 octet, for readability). */
export function uintWidth(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`value: ${value} is not an unsigned integer`);
  let width = 1;
  for (let v = value; v >= 256; v = Math.floor(v / 256)) width++;
  return width;
}

/** Writes `value` big-endian in exactly `width` octets at `offset` (no allocation). Returns the offset after it. */
export function writeUintBE(target: Uint8Array, offset: number, value: number, width: number): number {
  if (!(value >= 0 && value < 2 ** (8 * width))) throw new RangeError(`value: ${value} does not fit ${width} octets`);
  let v = value;
  for (let i = offset + width - 1; i >= offset; i--) {
    target[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return offset + width;
}
