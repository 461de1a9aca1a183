// EBML variable-size integers (RFC 8794 §4): VINT_WIDTH leading zero bits, a VINT_MARKER bit, then
// 7 × width bits of VINT_DATA, big-endian. As an Element Data Size (RFC 8794 §6), VINT_DATA with every
// bit set means "unknown size", so the largest known size a width can carry is 2^(7·width) − 2.
// Values stay below 2^53: plain numbers, no BigInt (XS builds patch BigInt access; we avoid it entirely).

/** Largest known Element Data Size a VINT of `width` octets (1-8) can carry. */
export function vintMax(width: number): number {
  return width >= 8 ? Number.MAX_SAFE_INTEGER : 2 ** (7 * width) - 2;
}

/** Smallest width (1-8) whose VINT holds `value` as a known size. */
export function vintWidth(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`value: ${value} is not a size`);
  let width = 1;
  while (value > vintMax(width)) width++;
  return width;
}

/**
 * Writes `value` as a VINT of exactly `width` octets at `offset` (no allocation; used to patch templates).
 * Returns the offset after it.
 */
export function writeVint(target: Uint8Array, offset: number, value: number, width: number): number {
  if (!Number.isInteger(width) || width < 1 || width > 8) throw new RangeError(`width: ${width} is not 1-8`);
  if (!Number.isSafeInteger(value) || value < 0 || value > vintMax(width)) {
    throw new RangeError(`value: ${value} does not fit a ${width}-octet VINT`);
  }
  let v = value;
  for (let i = offset + width - 1; i > offset; i--) {
    target[i] = v % 256;
    v = Math.floor(v / 256);
  }
  // The first octet carries the marker bit and the top VINT_DATA bits.
  target[offset] = (0x80 >> (width - 1)) | v;
  return offset + width;
}

/** Writes the reserved "unknown size" VINT of `width` octets: 0xFF, 0x7FFF, … 0x01FFFFFFFFFFFFFF. */
export function writeUnknownVint(target: Uint8Array, offset: number, width: number): number {
  if (!Number.isInteger(width) || width < 1 || width > 8) throw new RangeError(`width: ${width} is not 1-8`);
  target[offset] = 0xff >> (width - 1);
  for (let i = 1; i < width; i++) target[offset + i] = 0xff;
  return offset + width;
}
