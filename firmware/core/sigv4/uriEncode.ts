// SigV4 UriEncode: RFC 3986 §2.3 unreserved characters (ALPHA DIGIT "-" "." "_" "~") stay as they are,
// every other byte of the UTF-8 encoding becomes %XX with uppercase hex (AWS SigV4 "Create a canonical
// request"; RFC 3986 §2.1 recommends uppercase). Space is %20, never "+".
import { utf8Length, writeUtf8 } from '../text/utf8.ts';

const HEX_UPPER = 'ABCDEF';

function isUnreserved(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
}

function hexDigit(n: number): number {
  return n < 10 ? 0x30 + n : HEX_UPPER.charCodeAt(n - 10);
}

/** Percent-encodes `bytes[start..end)`; the result is ASCII. */
export function uriEncodeBytes(bytes: Uint8Array, start: number, end: number): string {
  let encoded = 0;
  for (let i = start; i < end; i++) if (!isUnreserved(bytes[i]!)) encoded++;
  // One array of character codes per call (not a string per byte); String.fromCharCode.apply turns it into
  // the result in bounded slices, so a long component cannot exceed the engine's argument limit.
  const out = new Uint8Array(end - start + 2 * encoded);
  let p = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (isUnreserved(b)) out[p++] = b;
    else {
      out[p++] = 0x25; // %
      out[p++] = hexDigit(b >> 4);
      out[p++] = hexDigit(b & 15);
    }
  }
  return asciiString(out);
}

/** Percent-encodes the UTF-8 bytes of `s` (a lone surrogate is encoded as U+FFFD, as TextEncoder does). */
export function uriEncode(s: string): string {
  const bytes = new Uint8Array(utf8Length(s));
  writeUtf8(s, bytes, 0);
  return uriEncodeBytes(bytes, 0, bytes.length);
}

const SLICE = 4096;

/** `codes` (all < 0x80) as a string. */
function asciiString(codes: Uint8Array): string {
  if (codes.length <= SLICE) return String.fromCharCode.apply(null, codes as unknown as number[]);
  let s = '';
  for (let i = 0; i < codes.length; i += SLICE) {
    s += String.fromCharCode.apply(null, codes.subarray(i, i + SLICE) as unknown as number[]);
  }
  return s;
}
