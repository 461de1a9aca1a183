// UTF-8 (RFC 3629) for core code, both ways, in one place: XS has no TextEncoder or TextDecoder, Matroska
// UTF-8 elements (TagName, TagString, Name, WritingApp) and KVS limits are counted in bytes, and CBOR and MQTT
// carry UTF-8 strings.
//
// Measuring and decoding take a `fatal` switch, like TextDecoder's. Lenient (the default) repairs: a lone
// surrogate is encoded as U+FFFD, as TextEncoder does (it has no UTF-8 form, RFC 3629 §3), and a byte that
// does not start a well-formed sequence decodes to U+FFFD (one per byte, where TextDecoder replaces a
// maximal subpart once). Fatal repairs nothing: CBOR text strings must be
// valid UTF-8 (RFC 8949 §5.3.1) and MQTT closes the connection on ill-formed strings (MQTT 3.1.1 §1.5.3,
// [MQTT-1.5.3-1]), so a payload must say what was asked; each caller turns the refusal into its own error.
//
// Inside XS, `charCodeAt(i)` walks the string from its start (strings are stored as UTF-8), so an indexed loop
// is quadratic: ~1.7 s for 64 Ki characters. Long strings are therefore walked with the string iterator, which
// is linear but allocates a one-character string per step; short ones (topics, map keys, header values) keep
// the indexed loop, which allocates nothing. Likewise decoding gathers UTF-16 code units in a reused scratch
// and makes string pieces 1,024 at a time: appending one character at a time copies the whole string on every
// step inside XS.

const SHORT = 64;
const REPLACEMENT = 0xfffd; // U+FFFD, 3 bytes: EF BF BD

function isSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdfff;
}

/**
 * Bytes of `s` in UTF-8, without allocating. Lenient: a lone surrogate counts as U+FFFD (3 bytes). Fatal:
 * -1 when `s` holds a lone surrogate.
 */
export function utf8Length(s: string, fatal = false): number {
  let n = 0;
  const len = s.length;
  if (len <= SHORT) {
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (!isSurrogate(c)) n += 3;
      else if (c <= 0xdbff && i + 1 < len && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
        n += 4;
        i++;
      } else if (fatal) return -1;
      else n += 3; // U+FFFD
    }
    return n;
  }
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0x10000) n += 4;
    else if (!isSurrogate(c)) n += 3;
    else if (fatal)
      return -1; // the iterator yields a lone surrogate on its own
    else n += 3; // U+FFFD
  }
  return n;
}

/**
 * Writes `s` as UTF-8 into `target` at `offset` and returns the number of bytes written. Throws RangeError
 * (before writing anything) when the bytes do not fit, or, when `fatal`, when `s` holds a lone surrogate.
 */
export function writeUtf8(s: string, target: Uint8Array, offset: number, fatal = false): number {
  const needed = utf8Length(s, fatal);
  if (needed < 0) throw new RangeError('s: a lone surrogate has no UTF-8 form');
  if (!Number.isInteger(offset) || offset < 0 || offset + needed > target.length) {
    throw new RangeError(`offset: ${needed} UTF-8 bytes do not fit at ${offset} in ${target.length}`);
  }
  return writeMeasuredUtf8(s, target, offset) - offset;
}

/**
 * Writes `s`, already measured by utf8Length (room checked by the caller), into `out` at `p` and returns the
 * index after it; a lone surrogate (which a fatal measure has refused) becomes U+FFFD.
 */
export function writeMeasuredUtf8(s: string, out: Uint8Array, p: number): number {
  const len = s.length;
  if (len <= SHORT) {
    for (let i = 0; i < len; i++) {
      let c = s.charCodeAt(i);
      if (isSurrogate(c)) {
        const d = c <= 0xdbff && i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else c = REPLACEMENT;
      }
      p = put(c, out, p);
    }
    return p;
  }
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    p = put(isSurrogate(c) ? REPLACEMENT : c, out, p);
  }
  return p;
}

/** `s` as a new UTF-8 byte array (allocates; for construction-time use). Lone surrogates become U+FFFD. */
export function encodeUtf8(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s));
  writeMeasuredUtf8(s, out, 0);
  return out;
}

function put(c: number, out: Uint8Array, p: number): number {
  if (c < 0x80) {
    out[p] = c;
    return p + 1;
  }
  if (c < 0x800) {
    out[p] = 0xc0 | (c >> 6);
    out[p + 1] = 0x80 | (c & 0x3f);
    return p + 2;
  }
  if (c < 0x10000) {
    out[p] = 0xe0 | (c >> 12);
    out[p + 1] = 0x80 | ((c >> 6) & 0x3f);
    out[p + 2] = 0x80 | (c & 0x3f);
    return p + 3;
  }
  out[p] = 0xf0 | (c >> 18);
  out[p + 1] = 0x80 | ((c >> 12) & 0x3f);
  out[p + 2] = 0x80 | ((c >> 6) & 0x3f);
  out[p + 3] = 0x80 | (c & 0x3f);
  return p + 4;
}

/**
 * UTF-8 bytes to a string. Well-formed means RFC 3629 §4: no overlong forms, no encoded surrogates
 * (U+D800..U+DFFF), nothing past U+10FFFF, no stray or missing continuation bytes. Lenient (the default):
 * an ill-formed sequence yields U+FFFD for its lead byte and decoding resumes at the next byte. Fatal:
 * `undefined` for any ill-formed input. U+0000 is valid UTF-8 and is returned (MQTT refuses it separately,
 * [MQTT-1.5.3-2]).
 */
export function decodeUtf8(bytes: Uint8Array, offset?: number, length?: number, fatal?: false): string;
export function decodeUtf8(bytes: Uint8Array, offset: number, length: number, fatal: boolean): string | undefined;
export function decodeUtf8(bytes: Uint8Array, offset = 0, length = bytes.length - offset, fatal = false): string | undefined {
  let out = '';
  let n = 0; // code units waiting in UNITS
  const end = offset + length;
  let i = offset;
  while (i < end) {
    if (n >= UNITS.length - 1) {
      out += units(n); // room for a surrogate pair is kept
      n = 0;
    }
    const b = bytes[i]!;
    if (b < 0x80) {
      UNITS[n++] = b;
      i++;
      continue;
    }
    const cp = sequence(bytes, i, end, b);
    if (cp < 0) {
      if (fatal) return undefined;
      UNITS[n++] = REPLACEMENT;
      i++;
    } else if (cp >= 0x10000) {
      const v = cp - 0x10000;
      UNITS[n++] = 0xd800 + (v >> 10);
      UNITS[n++] = 0xdc00 + (v & 0x3ff);
      i += 4;
    } else {
      UNITS[n++] = cp;
      i += cp < 0x800 ? 2 : 3;
    }
  }
  return n === 0 ? out : out + units(n);
}

/** The code point of the multi-byte sequence led by `b` at `i`, or -1 when it is not well-formed. */
function sequence(bytes: Uint8Array, i: number, end: number, b: number): number {
  let need: number;
  let cp: number;
  let min: number;
  if (b >= 0xc2 && b <= 0xdf) {
    need = 1;
    cp = b & 0x1f;
    min = 0x80;
  } else if (b >= 0xe0 && b <= 0xef) {
    need = 2;
    cp = b & 0x0f;
    min = 0x800;
  } else if (b >= 0xf0 && b <= 0xf4) {
    need = 3;
    cp = b & 0x07;
    min = 0x10000;
  } else {
    return -1; // a continuation byte without a lead, C0/C1 (always overlong) or F5..FF
  }
  if (i + need >= end) return -1; // the sequence runs past the range
  for (let k = 1; k <= need; k++) {
    const c = bytes[i + k]!;
    if ((c & 0xc0) !== 0x80) return -1;
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || isSurrogate(cp)) return -1;
  return cp;
}

/**
 * Code units turned into a string per String.fromCharCode call. Each becomes an argument on the XS stack, so the
 * chunk stays well inside the smallest board's stack (esp32-cam: 1,024 slots, with the control channel's calls
 * below it: 1,024 overflowed it); 128 still makes a long string a handful of concatenations, not one per character.
 */
const UNITS = new Uint16Array(128);

function units(n: number): string {
  return String.fromCharCode.apply(null, UNITS.subarray(0, n) as unknown as number[]);
}
