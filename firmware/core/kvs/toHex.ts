const DIGITS = '0123456789abcdef';

/** Lowercase hex of a byte range (SigV4 hashes and signatures). */
export function toHex(bytes: Uint8Array, offset = 0, length = bytes.length - offset): string {
  let s = '';
  for (let i = offset; i < offset + length; i++) s += DIGITS[bytes[i]! >> 4]! + DIGITS[bytes[i]! & 15]!;
  return s;
}
