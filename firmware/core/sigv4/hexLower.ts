const DIGITS = '0123456789abcdef';

/**
 * Lowercase hex of `bytes[offset..offset+length)` (SigV4 hashes and signatures are lowercase hex). The
 * digits are written into `scratch` (at least 2 × length bytes, reused by the caller) and turned into one
 * string, so no string is made per byte.
 */
export function hexLower(bytes: Uint8Array, offset: number, length: number, scratch: Uint8Array): string {
  if (scratch.length < 2 * length) throw new RangeError(`scratch: ${scratch.length} bytes cannot hold ${2 * length} hex digits`);
  for (let i = 0; i < length; i++) {
    const b = bytes[offset + i]!;
    scratch[2 * i] = DIGITS.charCodeAt(b >> 4);
    scratch[2 * i + 1] = DIGITS.charCodeAt(b & 15);
  }
  return String.fromCharCode.apply(null, scratch.subarray(0, 2 * length) as unknown as number[]);
}
