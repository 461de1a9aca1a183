/**
 * UTF-8 bytes to a string (XS has no TextDecoder). Malformed sequences become U+FFFD. Used for small
 * protocol bodies (JSON responses), never for media.
 */
export function decodeUtf8(bytes: Uint8Array, offset = 0, length = bytes.length - offset): string {
  let out = '';
  const end = offset + length;
  for (let i = offset; i < end; ) {
    const b = bytes[i]!;
    let cp = 0xfffd;
    let n = 1;
    if (b < 0x80) cp = b;
    else if (b >= 0xc2 && b <= 0xf4) {
      const need = b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3;
      let v = b & (0x3f >> need);
      let ok = i + need < end; // the continuation bytes lie inside the range
      for (let k = 1; ok && k <= need; k++) {
        const c = bytes[i + k];
        if (c === undefined || (c & 0xc0) !== 0x80) ok = false;
        else v = (v << 6) | (c & 0x3f);
      }
      const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
      if (ok && v >= min && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff)) {
        cp = v;
        n = need + 1;
      }
    }
    out += String.fromCodePoint(cp);
    i += n;
  }
  return out;
}
