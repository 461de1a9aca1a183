import { parseHttpDate } from '../../../../firmware/core/http/parseHttpDate.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('parseHttpDate');

const NOV_6_1994 = Date.UTC(1994, 10, 6, 8, 49, 37); // the RFC 9110 §5.6.7 example instant

test('the three forms of RFC 9110 §5.6.7 name the same instant', () => {
  assert.is(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), NOV_6_1994);
  assert.is(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), NOV_6_1994);
  assert.is(parseHttpDate('Sun Nov  6 08:49:37 1994'), NOV_6_1994);
});

test('IMF-fixdate: a real server Date header, every month, and calendar edges', () => {
  assert.is(parseHttpDate('Wed, 20 Nov 2024 10:39:05 GMT'), Date.UTC(2024, 10, 20, 10, 39, 5));
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  months.forEach((m, i) => void assert.is(parseHttpDate(`Mon, 01 ${m} 2024 00:00:00 GMT`), Date.UTC(2024, i, 1), m));
  assert.is(parseHttpDate('Thu, 29 Feb 2024 23:59:59 GMT'), Date.UTC(2024, 1, 29, 23, 59, 59));
  assert.is(parseHttpDate('Tue, 29 Feb 2000 00:00:00 GMT'), Date.UTC(2000, 1, 29));
  assert.is(parseHttpDate('Thu, 01 Jan 1970 00:00:00 GMT'), 0);
  assert.is(parseHttpDate('Fri, 31 Dec 9999 23:59:59 GMT'), Date.UTC(9999, 11, 31, 23, 59, 59));
  // Years below 100 are not shifted into the 1900s (Date.UTC's legacy rule).
  assert.is(parseHttpDate('Sat, 01 Jan 0000 00:00:00 GMT'), -62167219200000);
  assert.is(parseHttpDate('Mon, 01 Jan 0001 00:00:00 GMT'), -62135596800000);
  // A leap second (second 60) is the first second of the next minute.
  assert.is(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT'), Date.UTC(2017, 0, 1));
});

test('the day name is not cross-checked against the date (robustness: the time is what matters)', () => {
  assert.is(parseHttpDate('Mon, 06 Nov 1994 08:49:37 GMT'), NOV_6_1994);
});

test('RFC 850: two-digit years more than 50 years ahead of the reference are in the previous century', () => {
  const at = (yy: string) => parseHttpDate(`Monday, 01-Jan-${yy} 00:00:00 GMT`);
  assert.is(at('75'), Date.UTC(2075, 0, 1)); // default reference year 2025
  assert.is(at('76'), Date.UTC(1976, 0, 1));
  assert.is(at('00'), Date.UTC(2000, 0, 1));
  const ref = Date.UTC(2080, 5, 1);
  assert.is(parseHttpDate('Friday, 01-Jan-30 00:00:00 GMT', ref), Date.UTC(2130, 0, 1));
  assert.is(parseHttpDate('Friday, 01-Jan-31 00:00:00 GMT', ref), Date.UTC(2031, 0, 1));
  assert.is(parseHttpDate('Friday, 01-Jan-29 00:00:00 GMT', ref), Date.UTC(2129, 0, 1));
  assert.is(parseHttpDate('Friday, 01-Jan-80 00:00:00 GMT', ref), Date.UTC(2080, 0, 1));
  assert.is(parseHttpDate('Friday, 01-Jan-94 00:00:00 GMT', 0), Date.UTC(1994, 0, 1)); // a board clock at 1970
  for (const day of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday']) {
    assert.is(parseHttpDate(`${day}, 06-Nov-94 08:49:37 GMT`), NOV_6_1994, day);
  }
});

test('asctime: a space-padded or two-digit day', () => {
  assert.is(parseHttpDate('Wed Nov 16 08:49:37 1994'), Date.UTC(1994, 10, 16, 8, 49, 37));
  assert.is(parseHttpDate('Sun Nov 06 08:49:37 1994'), NOV_6_1994);
});

test('anything else is undefined: garbage, wrong case, wrong zone, impossible dates, loose spacing', () => {
  for (const value of [
    '',
    'now',
    '0',
    '784111777',
    '1994-11-06T08:49:37Z',
    'Sun, 06 Nov 1994 08:49:37',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 06 Nov 1994 08:49:37 gmt',
    'sun, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 nov 1994 08:49:37 GMT',
    'Sun,  6 Nov 1994 08:49:37 GMT',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    ' Sun, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMT ',
    'Sun, 06 Nov 94 08:49:37 GMT',
    'Sun, 06 Nov 1994 8:49:37 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:00 GMT',
    'Sun, 06 Nov 1994 08:49:61 GMT',
    'Sun, 00 Nov 1994 08:49:37 GMT',
    'Sun, 31 Nov 1994 08:49:37 GMT',
    'Thu, 29 Feb 2023 00:00:00 GMT',
    'Mon, 29 Feb 1900 00:00:00 GMT',
    'Sun, 06 Foo 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08-49-37 GMT',
    'Sun, +6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 19a4 08:49:37 GMT',
    'Xyz, 06 Nov 1994 08:49:37 GMT',
    'Sun; 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMT\r\n',
    'Sunday, 06-Nov-1994 08:49:37 GMT',
    'Sun, 06-Nov-94 08:49:37 GMT',
    'Sunday, 06 Nov 94 08:49:37 GMT',
    'Funday, 06-Nov-94 08:49:37 GMT',
    'Sunday, 06-Nov-94 08:49:37 UTC',
    'Sunday,06-Nov-94 08:49:37 GMT',
    'Sun Nov 6 08:49:37 1994',
    'Sun Nov  6 08:49:37 94',
    'Sun Nov  6 08:49:37 1994 GMT',
    'Sun Nov  0 08:49:37 1994',
    'Sun Nov 31 08:49:37 1994',
    'Sunday Nov  6 08:49:37 1994',
    'Sun  Nov 6 08:49:37 1994',
    '\u0000'.repeat(29),
    'Sun, 06 Nov 1994 08:49:37 GMT'.replace('9', '\uff19'),
  ]) {
    assert.is(parseHttpDate(value), undefined, JSON.stringify(value));
  }
});

test.run();
