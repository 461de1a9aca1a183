function pad(n: number, width: number): string {
  let s = String(n);
  while (s.length < width) s = '0' + s;
  return s;
}

/**
 * `x-amz-date` for epoch milliseconds: ISO 8601 basic format in UTC, `YYYYMMDDTHHMMSSZ` (kvs-reference.md
 * §10.2, producer-c `%Y%m%dT%H%M%SZ`). The first 8 characters are the credential-scope date.
 * RangeError outside the years 0000-9999, which the format cannot express.
 */
export function formatAmzDate(ms: number): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new RangeError(`ms must be a finite number, got ${String(ms)}`);
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new RangeError(`ms: ${ms} is outside the years 0000-9999`);
  return (
    pad(year, 4) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    'T' +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    'Z'
  );
}
