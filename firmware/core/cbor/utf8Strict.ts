// Strings to UTF-8 (RFC 3629) for the CBOR and MQTT encoders, refusing lone surrogates (they have no UTF-8
// form, RFC 3629 §3) instead of substituting U+FFFD as text/utf8 does: a payload must say what was asked.
//
// Inside XS, `charCodeAt(i)` walks the string from its start (strings are stored as UTF-8), so an indexed
// loop is quadratic: ~1.7 s for 64 Ki characters. Long strings are therefore walked with the string
// iterator, which is linear but allocates a one-character string per step; short ones (topics, map keys)
// keep the indexed loop, which allocates nothing.

const SHORT = 64;

/** Bytes of `s` in UTF-8, or -1 when it holds a lone surrogate. */
export function utf8LengthStrict(s: string): number {
  let n = 0;
  if (s.length <= SHORT) {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdfff) {
        const d = c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (!(d >= 0xdc00 && d <= 0xdfff)) return -1;
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  }
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c < 0x10000) {
      if (c >= 0xd800 && c <= 0xdfff) return -1; // the iterator yields a lone surrogate on its own
      n += 3;
    } else n += 4;
  }
  return n;
}

/**
 * Writes `s`, already measured by utf8LengthStrict (no lone surrogates, room checked by the caller), into
 * `out` at `p` and returns the index after it.
 */
export function writeUtf8Strict(s: string, out: Uint8Array, p: number): number {
  if (s.length <= SHORT) {
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      p = put(c, out, p);
    }
    return p;
  }
  for (const ch of s) p = put(ch.codePointAt(0)!, out, p);
  return p;
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
