// Helpers of the CBOR suites (pure ECMAScript: they run inside XS too).
import { FieldcamError } from '../../../../firmware/core/errors.ts';

/** "a2 61 61" → bytes; spaces are ignored. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  const parts = new Array<string>(b.length);
  for (let i = 0; i < b.length; i++) parts[i] = HEX[b[i]!]!;
  return parts.join('');
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The error code `fn` throws, or undefined when it returns; anything but a FieldcamError is rethrown. */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof FieldcamError) return err.code;
    throw err;
  }
}

export const CBOR_CODES = [
  'CBOR_TRUNCATED',
  'CBOR_TOO_DEEP',
  'CBOR_LIMIT',
  'CBOR_UNSUPPORTED',
  'CBOR_TRAILING_BYTES',
  'CBOR_INVALID_UTF8',
  'CBOR_DUPLICATE_KEY',
  'CBOR_MAP_KEY_INVALID',
  'CBOR_MALFORMED',
];

/** A random JSON-like value of the kinds the codec maps, from a uint32 source; `depth` bounds nesting. */
export function randomValue(next: () => number, depth: number): unknown {
  const kind = next() % (depth > 0 ? 12 : 9);
  switch (kind) {
    case 0:
      return next() % 30; // direct arguments and the 24 boundary
    case 1:
      return [
        0,
        23,
        24,
        255,
        256,
        65535,
        65536,
        0xffffffff,
        2 ** 32,
        2 ** 53 - 1,
        2 ** 53,
        -1,
        -24,
        -25,
        -256,
        -257,
        -65536,
        -65537,
        -(2 ** 31),
        -(2 ** 31) - 1,
        -(2 ** 32),
        -(2 ** 32) - 1,
        -(2 ** 53) + 1,
      ][next() % 23];
    case 2:
      return (next() % 2 ? 1 : -1) * (next() / 1024); // fractional and integral floats
    case 3:
      return [0.5, 1.1, -4.1, 1e300, 5e-324, NaN, Infinity, -Infinity, 0.1, 65504, 3.4028234663852886e38][next() % 11];
    case 4:
      return randomString(next);
    case 5: {
      const b = new Uint8Array(next() % 3 === 0 ? next() % 300 : next() % 30);
      for (let i = 0; i < b.length; i++) b[i] = next() & 0xff;
      return b;
    }
    case 6:
      return [true, false, null, undefined][next() % 4];
    case 7:
      return next() * 4096 + (next() % 4096); // integers past 2^32 (float64 on the wire)
    case 8:
      return -(next() % 0x7fffffff) - (next() % 2 ? 0 : 2 ** 31);
    case 9:
    case 10: {
      const n = next() % 3 === 0 ? next() % 40 : next() % 6;
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) a.push(randomValue(next, depth - 1));
      return a;
    }
    default: {
      const n = next() % 3 === 0 ? next() % 30 : next() % 6;
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) o[randomString(next)] = randomValue(next, depth - 1);
      return o;
    }
  }
}

const ALPHABET = ['a', 'b', 'Z', '0', '9', ' ', '/', '_', '"', '\\', '\u0000', '\u007f', 'ü', 'é', '水', '€', '\u{10151}', '😀', '\uffff', '\ufeff'];

export function randomString(next: () => number): string {
  const n = next() % 5 === 0 ? next() % 300 : next() % 12;
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[next() % ALPHABET.length];
  return s;
}
