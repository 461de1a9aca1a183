/**
 * UTF-8 bytes to a string, or `undefined` when the bytes are not well-formed UTF-8 (RFC 3629 §4): overlong
 * forms, encoded surrogates (U+D800..U+DFFF), code points past U+10FFFF, stray or missing continuation
 * bytes. Unlike text/decodeUtf8 (which substitutes U+FFFD) nothing is repaired: CBOR text strings must be
 * valid UTF-8 (RFC 8949 §5.3.1) and MQTT closes the connection on ill-formed strings (MQTT 3.1.1 §1.5.3,
 * [MQTT-1.5.3-1]), so each caller turns `undefined` into its own error. U+0000 is valid UTF-8 and is
 * returned; MQTT refuses it separately ([MQTT-1.5.3-2]).
 */
export function decodeUtf8Strict(bytes: Uint8Array, offset: number, length: number): string | undefined {
  let out = '';
  const end = offset + length;
  let i = offset;
  while (i < end) {
    const b = bytes[i]!;
    if (b < 0x80) {
      // ASCII runs are the common case (keys, topics): take them in one step.
      let j = i + 1;
      while (j < end && bytes[j]! < 0x80) j++;
      out += asciiRun(bytes, i, j);
      i = j;
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
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}

const CHUNK = 1024;

function asciiRun(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let at = from; at < to; at += CHUNK) {
    const stop = Math.min(to, at + CHUNK);
    s += String.fromCharCode.apply(null, bytes.subarray(at, stop) as unknown as number[]);
  }
  return s;
}
