import { encodeUtf8 } from '../text/utf8.ts';
import { uriEncodeBytes } from './uriEncode.ts';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * A raw query component in canonical form: percent-decoded to bytes, then URI-encoded again. Working on
 * bytes means an escape that is not UTF-8 (`%FF`) survives unchanged, and a "%" that starts no escape is
 * itself encoded (`%25`). "+" is a literal plus (RFC 3986), encoded `%2B`, not a space.
 */
function canonicalComponent(raw: string): string {
  const bytes = encodeUtf8(raw);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x25 && i + 2 < bytes.length) {
      const hi = hexValue(bytes[i + 1]!);
      const lo = hexValue(bytes[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        bytes[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    bytes[n++] = b;
  }
  return uriEncodeBytes(bytes, 0, n);
}

/**
 * The CanonicalQueryString of SigV4 (AWS SigV4 "Create a canonical request") from a raw query string
 * without its leading "?": parameters split on "&" (empty ones dropped), name and value split at the first
 * "=" (a parameter without "=" has the empty value: `flag` → `flag=`), both re-encoded with
 * `canonicalComponent`, sorted by encoded name and then by encoded value (the encoded forms are ASCII, so
 * code-unit order is byte order), and joined as `name=value` with "&".
 */
export function canonicalQuery(query: string): string {
  if (typeof query !== 'string') throw new TypeError('request.query must be a string');
  if (query === '') return '';
  if (query.charCodeAt(0) === 0x3f) throw new TypeError('request.query is the raw query string without its leading "?"');
  const names: string[] = [];
  const values: string[] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    names.push(canonicalComponent(eq < 0 ? part : part.slice(0, eq)));
    values.push(eq < 0 ? '' : canonicalComponent(part.slice(eq + 1)));
  }
  const order = names.map((_, i) => i);
  order.sort((a, b) => {
    const na = names[a]!;
    const nb = names[b]!;
    if (na !== nb) return na < nb ? -1 : 1;
    const va = values[a]!;
    const vb = values[b]!;
    return va === vb ? 0 : va < vb ? -1 : 1;
  });
  let out = '';
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    out += (k === 0 ? '' : '&') + names[i]! + '=' + values[i]!;
  }
  return out;
}
