// UTF-8 (RFC 3629) for core code: XS has no TextEncoder, and Matroska UTF-8 elements (TagName, TagString,
// Name, WritingApp) and KVS limits are counted in bytes, not UTF-16 code units.
// A lone surrogate cannot be encoded (RFC 3629 §3): it becomes U+FFFD, exactly as TextEncoder does.

const REPLACEMENT_LENGTH = 3; // U+FFFD = EF BF BD

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Number of bytes `encodeUtf8(s)` produces, without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (isHighSurrogate(c) && i + 1 < len && isLowSurrogate(s.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += REPLACEMENT_LENGTH; // the rest of the BMP, and lone surrogates as U+FFFD
  }
  return n;
}

/**
 * Writes `s` as UTF-8 into `target` at `offset` and returns the number of bytes written.
 * Throws RangeError (before writing anything) when the bytes do not fit.
 */
export function writeUtf8(s: string, target: Uint8Array, offset: number): number {
  const needed = utf8Length(s);
  if (!Number.isInteger(offset) || offset < 0 || offset + needed > target.length) {
    throw new RangeError(`offset: ${needed} UTF-8 bytes do not fit at ${offset} in ${target.length}`);
  }
  let p = offset;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      target[p++] = c;
    } else if (c < 0x800) {
      target[p++] = 0xc0 | (c >> 6);
      target[p++] = 0x80 | (c & 0x3f);
    } else if (isHighSurrogate(c) && i + 1 < len && isLowSurrogate(s.charCodeAt(i + 1))) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      target[p++] = 0xf0 | (c >> 18);
      target[p++] = 0x80 | ((c >> 12) & 0x3f);
      target[p++] = 0x80 | ((c >> 6) & 0x3f);
      target[p++] = 0x80 | (c & 0x3f);
    } else {
      if (isHighSurrogate(c) || isLowSurrogate(c)) c = 0xfffd;
      target[p++] = 0xe0 | (c >> 12);
      target[p++] = 0x80 | ((c >> 6) & 0x3f);
      target[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - offset;
}

/** `s` as a new UTF-8 byte array (allocates; for construction-time use). */
export function encodeUtf8(s: string): Uint8Array {
  const out = new Uint8Array(utf8Length(s));
  writeUtf8(s, out, 0);
  return out;
}
