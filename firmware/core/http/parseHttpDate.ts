// HTTP-date (RFC 9110 §5.6.7): the preferred IMF-fixdate and the two obsolete forms a recipient must
// still accept. Names are case-sensitive and every form has fixed positions, so the parse is positional.
//   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
//   rfc850-date  Sunday, 06-Nov-94 08:49:37 GMT
//   asctime-date Sun Nov  6 08:49:37 1994
// Date.parse is not used: its handling of non-ISO strings is implementation-defined (V8 and XS differ).

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const DAY_NAMES_LONG = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** 400 Gregorian years are exactly 146097 days: shifting by them keeps Date.UTC away from its 0-99 → 1900s rule. */
const FOUR_CENTURIES_MS = 146097 * 86400000;

/** The year two-digit RFC 850 years are read against when no reference time is given. */
const DEFAULT_REFERENCE_YEAR = 2025;

/**
 * Epoch milliseconds of an HTTP-date, or undefined when `value` is not one (or names an impossible date).
 * `referenceMs` (epoch ms) anchors the two-digit years of the RFC 850 form: a year that would be more
 * than 50 years after it is the most recent past year with those digits (§5.6.7), so every year lands in
 * (reference - 50, reference + 50]. It defaults to a fixed year, not the board clock, because this parse
 * exists to correct a clock that may be decades off at boot.
 */
export function parseHttpDate(value: string, referenceMs?: number): number | undefined {
  const comma = value.indexOf(',');
  if (comma === 3) return imfFixdate(value);
  if (comma > 3) return rfc850(value, comma, referenceMs);
  return asctime(value);
}

/** day-name "," SP day SP month SP year SP time-of-day SP "GMT" — 29 characters. */
function imfFixdate(v: string): number | undefined {
  if (v.length !== 29 || !DAY_NAMES.includes(v.slice(0, 3)) || v[4] !== ' ' || v[7] !== ' ' || v[11] !== ' ' || v[16] !== ' ' || v.slice(25) !== ' GMT') {
    return undefined;
  }
  return build(digits(v, 12, 4), month(v, 8), digits(v, 5, 2), v, 17);
}

/** day-name-l "," SP day "-" month "-" 2DIGIT SP time-of-day SP "GMT". */
function rfc850(v: string, comma: number, referenceMs: number | undefined): number | undefined {
  const p = comma + 2;
  if (
    v.length !== p + 22 ||
    !DAY_NAMES_LONG.includes(v.slice(0, comma)) ||
    v[comma + 1] !== ' ' ||
    v[p + 2] !== '-' ||
    v[p + 6] !== '-' ||
    v[p + 9] !== ' ' ||
    v.slice(p + 18) !== ' GMT'
  ) {
    return undefined;
  }
  const yy = digits(v, p + 7, 2);
  if (yy < 0) return undefined;
  const given = referenceMs === undefined ? Number.NaN : new Date(referenceMs).getUTCFullYear();
  const reference = Number.isNaN(given) ? DEFAULT_REFERENCE_YEAR : given;
  let year = reference - (reference % 100) + yy;
  // The window is (reference - 50, reference + 50]: later is the previous century, earlier the next.
  if (year > reference + 50) year -= 100;
  else if (year <= reference - 50) year += 100;
  return build(year, month(v, p + 3), digits(v, p, 2), v, p + 10);
}

/** day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP year — 24 characters. */
function asctime(v: string): number | undefined {
  if (v.length !== 24 || !DAY_NAMES.includes(v.slice(0, 3)) || v[3] !== ' ' || v[7] !== ' ' || v[10] !== ' ' || v[19] !== ' ') return undefined;
  const day = v[8] === ' ' ? digits(v, 9, 1) : digits(v, 8, 2);
  return build(digits(v, 20, 4), month(v, 4), day, v, 11);
}

/** hour ":" minute ":" second at `t`, then the calendar checks; -1 fields from `digits`/`month` fail here. */
function build(year: number, monthIndex: number, day: number, v: string, t: number): number | undefined {
  if (v[t + 2] !== ':' || v[t + 5] !== ':') return undefined;
  const hour = digits(v, t, 2);
  const minute = digits(v, t + 3, 2);
  const second = digits(v, t + 6, 2);
  if (year < 0 || monthIndex < 0 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  if (day > daysInMonth(year, monthIndex)) return undefined;
  // second 60 is a leap second (§5.6.7); Date.UTC carries it into the next minute.
  return Date.UTC(year + 400, monthIndex, day, hour, minute, second) - FOUR_CENTURIES_MS;
}

function daysInMonth(year: number, monthIndex: number): number {
  if (monthIndex === 1) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return monthIndex === 3 || monthIndex === 5 || monthIndex === 8 || monthIndex === 10 ? 30 : 31;
}

function month(v: string, at: number): number {
  return MONTHS.indexOf(v.slice(at, at + 3));
}

/** The decimal value of `count` ASCII digits at `at`, or -1. */
function digits(v: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = v.charCodeAt(i) - 0x30;
    if (!(c >= 0 && c <= 9)) return -1;
    n = n * 10 + c;
  }
  return n;
}
