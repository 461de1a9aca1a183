// Octet classes of HTTP/1.1 syntax, shared by the request writer and the response parser.
// tchar: RFC 9110 §5.6.2. Field values: RFC 9110 §5.5 (field-vchar = VCHAR / obs-text, plus SP and HTAB
// inside). CR, LF and NUL are never allowed in a field value; other controls are refused too.

export const HTAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SP = 0x20;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;

// "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR_PUNCTUATION = "!#$%&'*+-.^_`|~";
const TCHAR = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (let i = 0; i < TCHAR_PUNCTUATION.length; i++) TCHAR[TCHAR_PUNCTUATION.charCodeAt(i)] = 1;

/** A token character (RFC 9110 §5.6.2): the alphabet of methods, field names and transfer codings. */
export function isTchar(c: number): boolean {
  return c < 0x80 && TCHAR[c] === 1;
}

/** An octet allowed inside a field value or reason phrase: HTAB, SP, VCHAR or obs-text (0x80-0xFF). */
export function isFieldOctet(c: number): boolean {
  return c === HTAB || (c >= SP && c !== 0x7f);
}

/** SP or HTAB: optional whitespace (OWS, RFC 9110 §5.6.3). */
export function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

/** The value of a hex digit, or -1 (HEXDIG is case-insensitive, RFC 5234 B.1). */
export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Octets `start..end` of `bytes` as a string, one char per octet (ISO-8859-1), so obs-text survives
 * unchanged; ASCII letters lowered when `lower`. Allocates: for head strings only.
 */
export function latin1(bytes: Uint8Array, start: number, end: number, lower: boolean): string {
  let s = '';
  for (let i = start; i < end; i++) {
    let c = bytes[i]!;
    if (lower && c >= 0x41 && c <= 0x5a) c |= 0x20;
    s += String.fromCharCode(c);
  }
  return s;
}
