import { FieldcamError } from '../errors.ts';
import { INFO, MAJOR, MAP16, MAX_MAP16_ENTRIES, SIMPLE } from './cborConstants.ts';
import { utf8Length, writeMeasuredUtf8 } from '../text/utf8.ts';

/** Nesting of arrays and maps the encoder accepts; deeper (or cyclic) values throw CBOR_TOO_DEEP. */
export const CBOR_ENCODE_MAX_DEPTH = 16;

// One reused 8-byte scratch for float64 bit patterns (big-endian through the DataView, RFC 8949 §3.3).
const FLOAT_SCRATCH = new DataView(new ArrayBuffer(8));
const UINT32_LIMIT = 0x1_0000_0000;

/**
 * Encodes `value` as one CBOR data item (RFC 8949) into `out` from `offset` and returns the number of bytes
 * written. Throws CBOR_BUFFER_TOO_SMALL when it does not fit (the bytes already written are then
 * meaningless). Nothing is allocated except by `for…in` over object keys and, for strings longer than 64
 * code units, by the string iterator (see text/utf8.ts).
 *
 * The mapping is the one cbor-x 1.6's default `encode` uses, so the bytes are identical:
 * - a number that is an integer in [-2^32, 2^32 - 1] (and -0) → major type 0/1 with the shortest argument
 *   (§3.1, preferred serialization §4.2.1); every other number, integral or not, NaN and ±Infinity → float64
 *   (0xfb). cbor-x's default never picks float16/float32, and sends 2^32..2^53 as float64 too. NaN is always
 *   the quiet NaN 0x7ff8000000000000.
 * - string → text string (major 3), UTF-8 with the shortest length; a lone surrogate is refused with
 *   CBOR_INVALID_UTF8 (cbor-x would emit CESU-8 or U+FFFD depending on the length).
 * - Uint8Array (and subclasses such as Buffer) → byte string (major 2), untagged. cbor-x tags a plain
 *   Uint8Array with 64 by default (RFC 8746) but not a Buffer; the decoder accepts both forms.
 * - Array → array (major 4), shortest length; holes encode as undefined like cbor-x.
 * - plain object (prototype Object.prototype or null) → map with text keys in `for…in` order (insertion
 *   order, integer-like keys first, as JS defines it), with cbor-x's fixed two-byte count (0xb9 nn nn);
 *   more than 65,535 keys is CBOR_UNSUPPORTED.
 * - true / false / null / undefined → 0xf5 / 0xf4 / 0xf6 / 0xf7.
 * - anything else (BigInt, Map, Set, Date, other typed arrays, functions, symbols) → CBOR_UNSUPPORTED.
 */
export function encodeCbor(value: unknown, out: Uint8Array, offset = 0, maxDepth: number = CBOR_ENCODE_MAX_DEPTH): number {
  if (!Number.isInteger(offset) || offset < 0 || offset > out.length) {
    throw new RangeError(`offset: ${offset} is outside the ${out.length}-byte output`);
  }
  if (!Number.isInteger(maxDepth) || maxDepth < 0) throw new RangeError('maxDepth must be a non-negative integer');
  return writeItem(value, out, offset, 0, maxDepth) - offset;
}

function writeItem(value: unknown, out: Uint8Array, p: number, depth: number, maxDepth: number): number {
  switch (typeof value) {
    case 'number':
      return writeNumber(value, out, p);
    case 'string':
      return writeText(value, out, p);
    case 'boolean':
      return writeByte(value ? SIMPLE.TRUE : SIMPLE.FALSE, out, p);
    case 'undefined':
      return writeByte(SIMPLE.UNDEFINED, out, p);
    case 'object': {
      if (value === null) return writeByte(SIMPLE.NULL, out, p);
      if (value instanceof Uint8Array) {
        p = writeHead(MAJOR.BYTES, value.length, out, p);
        fits(out, p, value.length);
        out.set(value, p);
        return p + value.length;
      }
      if (depth >= maxDepth) throw new FieldcamError('CBOR_TOO_DEEP', `the value nests deeper than ${maxDepth} arrays/maps (or is cyclic)`);
      if (Array.isArray(value)) {
        const items = value as readonly unknown[];
        p = writeHead(MAJOR.ARRAY, items.length, out, p);
        for (let i = 0; i < items.length; i++) p = writeItem(items[i], out, p, depth + 1, maxDepth);
        return p;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Object.prototype || proto === null) return writeMap(value as Record<string, unknown>, out, p, depth, maxDepth);
      throw unsupported(describe(value));
    }
    default:
      throw unsupported(typeof value);
  }
}

function writeMap(object: Record<string, unknown>, out: Uint8Array, p: number, depth: number, maxDepth: number): number {
  fits(out, p, 3);
  const countAt = p + 1;
  out[p] = MAP16;
  p += 3;
  let count = 0;
  for (const key in object) {
    if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
    if (++count > MAX_MAP16_ENTRIES) throw unsupported(`an object with more than ${MAX_MAP16_ENTRIES} keys`);
    p = writeText(key, out, p);
    p = writeItem(object[key], out, p, depth + 1, maxDepth);
  }
  out[countAt] = count >> 8;
  out[countAt + 1] = count & 0xff;
  return p;
}

function writeNumber(n: number, out: Uint8Array, p: number): number {
  if (Number.isInteger(n) && n >= -UINT32_LIMIT && n < UINT32_LIMIT) {
    // -0 is an integer here, as in cbor-x (`-0 >>> 0 === -0`): it goes out as unsigned 0.
    return n >= 0 ? writeHead(MAJOR.UNSIGNED, n, out, p) : writeHead(MAJOR.NEGATIVE, -1 - n, out, p);
  }
  fits(out, p, 9);
  out[p] = SIMPLE.FLOAT64;
  if (Number.isNaN(n)) {
    // NaN: one canonical quiet NaN whatever the engine's bit pattern.
    out[p + 1] = 0x7f;
    out[p + 2] = 0xf8;
    for (let i = 3; i <= 8; i++) out[p + i] = 0;
    return p + 9;
  }
  FLOAT_SCRATCH.setFloat64(0, n);
  for (let i = 0; i < 8; i++) out[p + 1 + i] = FLOAT_SCRATCH.getUint8(i);
  return p + 9;
}

function writeText(s: string, out: Uint8Array, p: number): number {
  const n = utf8Length(s, true);
  if (n < 0) throw new FieldcamError('CBOR_INVALID_UTF8', 'a string holds a lone surrogate; it has no UTF-8 encoding');
  p = writeHead(MAJOR.TEXT, n, out, p);
  fits(out, p, n);
  return writeMeasuredUtf8(s, out, p);
}

/** Initial byte plus the shortest argument (RFC 8949 §3.1, §4.2.1); `n` < 2^32 here. */
function writeHead(major: number, n: number, out: Uint8Array, p: number): number {
  const m = major << 5;
  if (n <= INFO.MAX_DIRECT) return writeByte(m | n, out, p);
  if (n <= 0xff) {
    fits(out, p, 2);
    out[p] = m | INFO.ONE_BYTE;
    out[p + 1] = n;
    return p + 2;
  }
  if (n <= 0xffff) {
    fits(out, p, 3);
    out[p] = m | INFO.TWO_BYTES;
    out[p + 1] = n >> 8;
    out[p + 2] = n & 0xff;
    return p + 3;
  }
  fits(out, p, 5);
  out[p] = m | INFO.FOUR_BYTES;
  out[p + 1] = (n >>> 24) & 0xff;
  out[p + 2] = (n >>> 16) & 0xff;
  out[p + 3] = (n >>> 8) & 0xff;
  out[p + 4] = n & 0xff;
  return p + 5;
}

function writeByte(b: number, out: Uint8Array, p: number): number {
  fits(out, p, 1);
  out[p] = b;
  return p + 1;
}

function fits(out: Uint8Array, p: number, n: number): void {
  if (p + n > out.length) {
    throw new FieldcamError(
      'CBOR_BUFFER_TOO_SMALL',
      `the encoded value does not fit the ${out.length}-byte output (needed ${p + n - out.length} more at least)`,
    );
  }
}

function unsupported(what: string): FieldcamError {
  return new FieldcamError('CBOR_UNSUPPORTED', `${what} has no CBOR mapping in fieldcam`);
}

function describe(value: object): string {
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name ? `a ${ctor.name}` : 'an object with a custom prototype';
}
