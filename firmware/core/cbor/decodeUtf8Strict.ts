/**
 * UTF-8 bytes to a string, or `undefined` when the bytes are not well-formed UTF-8 (RFC 3629 §4): overlong
 * forms, encoded surrogates (U+D800..U+DFFF), code points past U+10FFFF, stray or missing continuation
 * bytes. Unlike text/decodeUtf8 (which substitutes U+FFFD) nothing is repaired: CBOR text strings must be
 * valid UTF-8 (RFC 8949 §5.3.1) and MQTT closes the connection on ill-formed strings (MQTT 3.1.1 §1.5.3,
 * [MQTT-1.5.3-1]), so each caller turns `undefined` into its own error. U+0000 is valid UTF-8 and is
 * returned; MQTT refuses it separately ([MQTT-1.5.3-2]).
 *
 * UTF-16 code units are gathered in a reused scratch and turned into string pieces 1,024 at a time:
 * appending one character at a time copies the whole string on every step inside XS.
 */
export function decodeUtf8Strict(bytes: Uint8Array, offset: number, length: number): string | undefined {
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
      return undefined; // a continuation byte without a lead, C0/C1 (always overlong) or F5..FF
    }
    if (i + need >= end) return undefined; // the sequence runs past the string
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      UNITS[n++] = 0xd800 + (cp >> 10);
      UNITS[n++] = 0xdc00 + (cp & 0x3ff);
    } else UNITS[n++] = cp;
    i += need + 1;
  }
  return n === 0 ? out : out + units(n);
}

const UNITS = new Uint16Array(1024);

function units(n: number): string {
  return String.fromCharCode.apply(null, UNITS.subarray(0, n) as unknown as number[]);
}
