import { FieldcamError } from '../errors.ts';
import { INFO, MAJOR, SIMPLE, TAG_UINT8_ARRAY } from './cborConstants.ts';
import { decodeUtf8 } from '../text/utf8.ts';
import { checkByteRange } from '../checkByteRange.ts';

/** Every size the decoder accepts is bounded; each field overrides one default. */
export interface CborDecodeLimits {
  /** Nesting of arrays, maps and tags. */
  readonly maxDepth?: number;
  /** Data items in the whole payload, map keys included. */
  readonly maxItems?: number;
  /** Bytes of one text or byte string. */
  readonly maxStringBytes?: number;
  /** Bytes of the whole payload. */
  readonly maxBytes?: number;
}

export const CBOR_DECODE_LIMITS = Object.freeze({
  maxDepth: 16,
  maxItems: 4096,
  maxStringBytes: 65_536,
  maxBytes: 262_144,
} as const);

const FLOAT_SCRATCH = new DataView(new ArrayBuffer(8));
const TWO_32 = 0x1_0000_0000;

interface Cursor {
  readonly bytes: Uint8Array;
  p: number;
  readonly end: number;
  items: number;
  readonly maxDepth: number;
  readonly maxItems: number;
  readonly maxStringBytes: number;
}

/**
 * Decodes exactly one CBOR data item (RFC 8949) from `bytes[offset..offset+length)`. Payloads arrive whole
 * (one MQTT PUBLISH, one file), so the decoder is not incremental; it is bounded by `limits` and strict:
 *
 * - unsigned/negative integers (major 0/1) from -2^53 to 2^53 - 1 → number; beyond → CBOR_UNSUPPORTED;
 * - float16/32/64 (§3.3, Appendix D) → number;
 * - text strings → string, valid UTF-8 only (§5.3.1, CBOR_INVALID_UTF8); byte strings → a new Uint8Array,
 *   also under tag 64 (RFC 8746, how cbor-x sends a Uint8Array);
 * - arrays → Array; maps → plain object; keys must be text (CBOR_MAP_KEY_INVALID) and unique
 *   (§5.6, CBOR_DUPLICATE_KEY); a "__proto__" key becomes an own property, never the prototype;
 * - false/true/null/undefined; any other simple value, any other tag and every indefinite length →
 *   CBOR_UNSUPPORTED; reserved additional information 28-30, a stray break and 0xf8 with a value below 32
 *   are not well-formed (§3, §3.3) → CBOR_MALFORMED;
 * - bytes after the item → CBOR_TRAILING_BYTES; an item cut short → CBOR_TRUNCATED.
 *
 * Arguments need not be in their shortest form (cbor-x writes every map count in two bytes). Error
 * messages give offsets into `bytes`.
 */
export function decodeCbor(bytes: Uint8Array, offset = 0, length: number = bytes.length - offset, limits: CborDecodeLimits = {}): unknown {
  checkByteRange(bytes, offset, length);
  const maxBytes = limit(limits, 'maxBytes');
  if (length > maxBytes) throw new FieldcamError('CBOR_LIMIT', `the payload is ${length} bytes, more than the limit of ${maxBytes}`);
  if (length === 0) throw new FieldcamError('CBOR_TRUNCATED', 'the payload is empty');
  const cursor: Cursor = {
    bytes,
    p: offset,
    end: offset + length,
    items: 0,
    maxDepth: limit(limits, 'maxDepth'),
    maxItems: limit(limits, 'maxItems'),
    maxStringBytes: limit(limits, 'maxStringBytes'),
  };
  const value = readItem(cursor, 0);
  if (cursor.p !== cursor.end) {
    throw new FieldcamError('CBOR_TRAILING_BYTES', `${cursor.end - cursor.p} byte(s) follow the data item, from offset ${cursor.p}`);
  }
  return value;
}

function limit(limits: CborDecodeLimits, name: keyof typeof CBOR_DECODE_LIMITS): number {
  const value = limits[name] ?? CBOR_DECODE_LIMITS[name];
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`limits.${name} must be a positive integer, got ${value}`);
  return value;
}

function readItem(c: Cursor, depth: number): unknown {
  if (++c.items > c.maxItems) throw new FieldcamError('CBOR_LIMIT', `more than ${c.maxItems} data items`);
  const at = c.p;
  const initial = byte(c);
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (major === MAJOR.SIMPLE) return readSimple(c, initial, at);
  if (info === INFO.INDEFINITE) {
    // Indefinite-length strings, arrays and maps (§3.2.2, §3.2.3); major 0, 1 and 6 with 31 are not well-formed.
    if (major === MAJOR.UNSIGNED || major === MAJOR.NEGATIVE || major === MAJOR.TAG) throw malformed(`initial byte 0x${hex(initial)}`, at);
    throw new FieldcamError('CBOR_UNSUPPORTED', `an indefinite length (initial byte 0x${hex(initial)}) at offset ${at}; send definite lengths`);
  }
  const n = argument(c, info, at);
  switch (major) {
    case MAJOR.UNSIGNED:
      return n;
    case MAJOR.NEGATIVE:
      return -1 - n;
    case MAJOR.BYTES: {
      // A copy in a plain Uint8Array: the input may be reused, and a Node Buffer's slice() would share it.
      const view = span(c, n, at); // limits and truncation are checked before anything is allocated
      const copy = new Uint8Array(n);
      copy.set(view);
      return copy;
    }
    case MAJOR.TEXT: {
      const from = c.p;
      span(c, n, at);
      const s = decodeUtf8(c.bytes, from, n, true);
      if (s === undefined) throw new FieldcamError('CBOR_INVALID_UTF8', `the text string at offset ${at} is not valid UTF-8`);
      return s;
    }
    case MAJOR.ARRAY: {
      enter(c, depth, n, 1, at);
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = readItem(c, depth + 1);
      return out;
    }
    case MAJOR.MAP: {
      enter(c, depth, n, 2, at);
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const keyAt = c.p;
        const key = readItem(c, depth + 1);
        if (typeof key !== 'string') throw new FieldcamError('CBOR_MAP_KEY_INVALID', `the map key at offset ${keyAt} is not a text string`);
        if (Object.prototype.hasOwnProperty.call(out, key)) {
          throw new FieldcamError('CBOR_DUPLICATE_KEY', `the map at offset ${at} repeats the key ${JSON.stringify(key)}`);
        }
        const value = readItem(c, depth + 1);
        if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
        else out[key] = value;
      }
      return out;
    }
    default: {
      // MAJOR.TAG (§3.4): only tag 64 around a byte string.
      if (n !== TAG_UINT8_ARRAY) throw new FieldcamError('CBOR_UNSUPPORTED', `tag ${n} at offset ${at}; only tag 64 (uint8 array) is accepted`);
      if (depth >= c.maxDepth) throw tooDeep(c, at);
      const innerAt = c.p;
      const inner = readItem(c, depth + 1);
      if (!(inner instanceof Uint8Array))
        throw new FieldcamError('CBOR_UNSUPPORTED', `tag 64 at offset ${at} does not enclose a byte string (offset ${innerAt})`);
      return inner;
    }
  }
}

function readSimple(c: Cursor, initial: number, at: number): unknown {
  switch (initial) {
    case SIMPLE.FALSE:
      return false;
    case SIMPLE.TRUE:
      return true;
    case SIMPLE.NULL:
      return null;
    case SIMPLE.UNDEFINED:
      return undefined;
    case SIMPLE.FLOAT16: {
      need(c, 2, at);
      const half = (c.bytes[c.p]! << 8) | c.bytes[c.p + 1]!;
      c.p += 2;
      return float16(half);
    }
    case SIMPLE.FLOAT32:
      need(c, 4, at);
      for (let i = 0; i < 4; i++) FLOAT_SCRATCH.setUint8(i, c.bytes[c.p++]!);
      return FLOAT_SCRATCH.getFloat32(0);
    case SIMPLE.FLOAT64:
      need(c, 8, at);
      for (let i = 0; i < 8; i++) FLOAT_SCRATCH.setUint8(i, c.bytes[c.p++]!);
      return FLOAT_SCRATCH.getFloat64(0);
    case SIMPLE.ONE_BYTE: {
      const value = byte(c);
      // §3.3: 0xf8 followed by a byte below 0x20 is not well-formed.
      if (value < 0x20) throw malformed(`simple value ${value} in two bytes`, at);
      throw new FieldcamError('CBOR_UNSUPPORTED', `simple value ${value} at offset ${at}`);
    }
    case SIMPLE.BREAK:
      throw malformed('a break (0xff) outside an indefinite-length item', at);
    default: {
      const info = initial & 0x1f;
      if (info >= 28) throw malformed(`reserved initial byte 0x${hex(initial)}`, at);
      throw new FieldcamError('CBOR_UNSUPPORTED', `simple value ${info} at offset ${at}`);
    }
  }
}

/** IEEE 754 binary16 (RFC 8949 Appendix D). */
function float16(half: number): number {
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  let value: number;
  if (exponent === 0) value = mantissa * 2 ** -24;
  else if (exponent === 0x1f) value = mantissa === 0 ? Infinity : NaN;
  else value = (mantissa + 1024) * 2 ** (exponent - 25);
  return half & 0x8000 ? -value : value;
}

/** The argument of an item (§3.1); up to 2^53 - 1. */
function argument(c: Cursor, info: number, at: number): number {
  if (info <= INFO.MAX_DIRECT) return info;
  const b = c.bytes;
  switch (info) {
    case INFO.ONE_BYTE:
      need(c, 1, at);
      return b[c.p++]!;
    case INFO.TWO_BYTES: {
      need(c, 2, at);
      const v = (b[c.p]! << 8) | b[c.p + 1]!;
      c.p += 2;
      return v;
    }
    case INFO.FOUR_BYTES: {
      need(c, 4, at);
      const v = uint32(b, c.p);
      c.p += 4;
      return v;
    }
    case INFO.EIGHT_BYTES: {
      need(c, 8, at);
      const high = uint32(b, c.p);
      const low = uint32(b, c.p + 4);
      c.p += 8;
      // 2^53 - 1 is the largest integer a number holds exactly: high word at most 0x1fffff.
      if (high > 0x1f_ffff) throw new FieldcamError('CBOR_UNSUPPORTED', `the argument at offset ${at} is beyond 2^53 - 1`);
      return high * TWO_32 + low;
    }
    default:
      throw malformed(`reserved additional information ${info}`, at); // 28-30
  }
}

function uint32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

/**
 * Opens an array (`per` = 1 item per entry) or map (2): checks the depth, and refuses a count beyond the item
 * limit or beyond what the remaining bytes could hold (each item takes at least one byte) before anything
 * is allocated for it.
 */
function enter(c: Cursor, depth: number, count: number, per: number, at: number): void {
  if (depth >= c.maxDepth) throw tooDeep(c, at);
  const what = per === 1 ? 'array' : 'map';
  if (count * per > c.maxItems - c.items) {
    throw new FieldcamError('CBOR_LIMIT', `the ${what} at offset ${at} declares ${count} entries, beyond the limit of ${c.maxItems} items`);
  }
  if (count * per > c.end - c.p) {
    throw new FieldcamError('CBOR_TRUNCATED', `the ${what} at offset ${at} declares ${count} entries but only ${c.end - c.p} byte(s) remain`);
  }
}

/** Consumes `n` string bytes and returns them as a view of the input. */
function span(c: Cursor, n: number, at: number): Uint8Array {
  if (n > c.maxStringBytes) throw new FieldcamError('CBOR_LIMIT', `the string at offset ${at} is ${n} bytes, beyond the limit of ${c.maxStringBytes}`);
  need(c, n, at);
  const from = c.p;
  c.p += n;
  return c.bytes.subarray(from, from + n);
}

function byte(c: Cursor): number {
  need(c, 1, c.p);
  return c.bytes[c.p++]!;
}

function need(c: Cursor, n: number, at: number): void {
  if (c.end - c.p < n) throw new FieldcamError('CBOR_TRUNCATED', `the data item at offset ${at} needs ${n - (c.end - c.p)} more byte(s)`);
}

function tooDeep(c: Cursor, at: number): FieldcamError {
  return new FieldcamError('CBOR_TOO_DEEP', `the item at offset ${at} nests deeper than ${c.maxDepth}`);
}

function malformed(what: string, at: number): FieldcamError {
  return new FieldcamError('CBOR_MALFORMED', `${what} at offset ${at} is not well-formed CBOR`);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
