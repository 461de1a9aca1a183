function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * A header value as SigV4 signs it (AWS SigV4 "Create a canonical request", Trimall): leading and trailing
 * whitespace removed, every inner run of whitespace collapsed to one space. Whitespace is the HTTP field
 * whitespace, SP and HTAB (RFC 9110 §5.6.3); values with other control characters are refused before this
 * is called, so no other character needs a rule.
 */
export function trimAll(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isSpace(value.charCodeAt(start))) start++;
  while (end > start && isSpace(value.charCodeAt(end - 1))) end--;
  let out = '';
  let from = start;
  for (let i = start; i < end; i++) {
    if (!isSpace(value.charCodeAt(i))) continue;
    // A run of whitespace [i, j): keep one space unless the run is a single SP already.
    let j = i + 1;
    while (j < end && isSpace(value.charCodeAt(j))) j++;
    if (j - i > 1 || value.charCodeAt(i) !== 0x20) {
      out += value.slice(from, i) + ' ';
      from = j;
    }
    i = j - 1;
  }
  return from === start ? value.slice(start, end) : out + value.slice(from, end);
}
