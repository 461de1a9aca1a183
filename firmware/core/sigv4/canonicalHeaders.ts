import { trimAll } from './trimAll.ts';

/** The CanonicalHeaders block (each line `name:value\n`) and the matching SignedHeaders list. */
export interface CanonicalHeaders {
  readonly text: string;
  readonly signedHeaders: string;
}

/** RFC 9110 §5.6.2 tchar. */
function isTokenChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || "!#$%&'*+-.^_`|~".indexOf(String.fromCharCode(c)) >= 0;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('request.headers: a header name must be a non-empty string');
  for (let i = 0; i < name.length; i++) {
    if (!isTokenChar(name.charCodeAt(i))) throw new TypeError(`request.headers: ${JSON.stringify(name)} is not an HTTP token (RFC 9110 §5.1)`);
  }
  return name;
}

function checkValue(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`request.headers: the value of ${name} must be a string`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // CR, LF, NUL and the other controls would split or corrupt the field line (RFC 9110 §5.5).
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) {
      throw new TypeError(`request.headers: the value of ${name} holds control character 0x${c.toString(16)}`);
    }
  }
  return value;
}

/**
 * Canonical headers of SigV4 (AWS SigV4 "Create a canonical request"): names lowercased, values trimmed
 * with inner whitespace collapsed (`trimAll`), repeated names merged into one line with their values
 * joined by "," in the order they were given, lines sorted by name. Every header given is signed.
 * TypeError for a name that is not a token or a value holding control characters.
 */
export function canonicalHeaders(headers: ReadonlyArray<readonly [string, string]>): CanonicalHeaders {
  const names: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i];
    if (!Array.isArray(header) || header.length !== 2) throw new TypeError(`request.headers[${i}] must be a [name, value] pair`);
    const name = checkName(header[0]).toLowerCase();
    const value = trimAll(checkValue(name, header[1]));
    const at = names.indexOf(name); // a request has a dozen headers: a linear search is the cheapest map
    if (at < 0) {
      names.push(name);
      values.push(value);
    } else {
      values[at] += ',' + value;
    }
  }
  const order = names.map((_, i) => i);
  order.sort((a, b) => (names[a]! < names[b]! ? -1 : 1)); // names are unique
  let text = '';
  let signedHeaders = '';
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    text += names[i]! + ':' + values[i]! + '\n';
    signedHeaders += (k === 0 ? '' : ';') + names[i]!;
  }
  return { text, signedHeaders };
}
