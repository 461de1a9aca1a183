// The SigV4 canonicalisation helpers, case by case (AWS SigV4 "Create a canonical request"; the smithy
// oracle in test/oracle/sigv4.test.ts checks the same rules on generated requests).
import { canonicalHeaders } from '../../../../firmware/core/sigv4/canonicalHeaders.ts';
import { canonicalPath } from '../../../../firmware/core/sigv4/canonicalPath.ts';
import { canonicalQuery } from '../../../../firmware/core/sigv4/canonicalQuery.ts';
import { formatAmzDate } from '../../../../firmware/core/sigv4/formatAmzDate.ts';
import { hexLower } from '../../../../firmware/core/sigv4/hexLower.ts';
import { trimAll } from '../../../../firmware/core/sigv4/trimAll.ts';
import { uriEncode } from '../../../../firmware/core/sigv4/uriEncode.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('SigV4 canonicalisation');

test('uriEncode keeps exactly the RFC 3986 unreserved set and encodes UTF-8 in uppercase hex', () => {
  assert.is(uriEncode('AZaz09-._~'), 'AZaz09-._~');
  assert.is(uriEncode(' !"#$%&\'()*+,/:;<=>?@[\\]^`{|}'), '%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D');
  assert.is(uriEncode('é€😀'), '%C3%A9%E2%82%AC%F0%9F%98%80');
  assert.is(uriEncode('\ud800'), '%EF%BF%BD'); // a lone surrogate is U+FFFD, as TextEncoder makes it
  assert.is(uriEncode('x'.repeat(10_000)).length, 10_000); // longer than one fromCharCode slice
});

test('canonicalPath normalises segments and encodes the wire path once more', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['/', '/'],
    ['//', '/'],
    ['/putMedia', '/putMedia'],
    ['/a b/', '/a%20b/'],
    ['/a%20b', '/a%2520b'], // already encoded on the wire: encoded again (non-S3 services)
    ['/a%2Fb/c', '/a%252Fb/c'], // an encoded slash is data, not a separator
    ['//a//b//', '/a/b/'],
    ['/./a/./b/.', '/a/b'],
    ['/a/b/../c', '/a/c'],
    ['/a/../..', '/'],
    ['/../a/', '/a/'],
    ['/~user/café', '/~user/caf%C3%A9'],
    ['/*', '/%2A'],
  ];
  for (const [path, canonical] of cases) assert.is(canonicalPath(path), canonical, path);
  assert.throws(() => canonicalPath(''), /must start with "\/"/);
});

test('canonicalQuery sorts by name then value and re-encodes every component', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['', ''],
    ['Action=ListUsers&Version=2010-05-08', 'Action=ListUsers&Version=2010-05-08'],
    ['b=2&a=1', 'a=1&b=2'],
    ['a=2&a=1&a=10', 'a=1&a=10&a=2'], // repeated names sorted by value
    ['B=1&a=1&A=1', 'A=1&B=1&a=1'], // code-point order: uppercase first
    ['a-b=1&a=2', 'a=2&a-b=1'], // sorted by name, not by the joined "name=value"
    ['flag&x=', 'flag=&x='], // no "=" and an empty value both sign as "name="
    ['&&a=1&&', 'a=1'], // empty parameters are dropped
    ['k=a b&k=%20', 'k=%20&k=a%20b'],
    ['k=%7e%2a%c3%a9', 'k=~%2A%C3%A9'], // lowercase escapes decoded and re-encoded in canonical form
    ['k=a+b', 'k=a%2Bb'], // "+" is a plus, not a space
    ['k=x=y', 'k=x%3Dy'], // only the first "=" separates
    ['k=100%&k=%zz&k=%4', 'k=%254&k=%25zz&k=100%25'], // a "%" that starts no escape is data
    ['k=%FF', 'k=%FF'], // escapes that are not UTF-8 survive as bytes
    ['é=日本', '%C3%A9=%E6%97%A5%E6%9C%AC'],
    ['=v', '=v'],
  ];
  for (const [query, canonical] of cases) assert.is(canonicalQuery(query), canonical, query);
});

test('trimAll trims SP/HTAB and collapses inner runs to one space', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['', ''],
    ['   ', ''],
    ['a', 'a'],
    ['a b', 'a b'],
    ['  a   b  ', 'a b'],
    ['\ta\t\tb\t', 'a b'],
    ['a\tb', 'a b'], // a single tab is whitespace too
    ['"a   b"', '"a b"'],
    ['a \t b c  d', 'a b c d'],
    ['\u00a0a\u00a0', '\u00a0a\u00a0'], // not HTTP whitespace
  ];
  for (const [value, trimmed] of cases) assert.is(trimAll(value), trimmed, JSON.stringify(value));
});

test('canonicalHeaders lowercases, merges repeated names in order, sorts and lists them', () => {
  const h = canonicalHeaders([
    ['Host', 'h'],
    ['X-B', ' 2 '],
    ['x-b', '1'],
    ['Content-Type', 'a  b'],
    ['X-B', ''],
  ]);
  assert.is(h.text, 'content-type:a b\nhost:h\nx-b:2,1,\n');
  assert.is(h.signedHeaders, 'content-type;host;x-b');
  assert.throws(() => canonicalHeaders([['host:', 'h']]), /not an HTTP token/);
  assert.throws(() => canonicalHeaders([['', 'h']]), /non-empty/);
  assert.throws(() => canonicalHeaders([['x', 'a\u0000b']]), /control character 0x0/);
  assert.throws(() => canonicalHeaders([['x', 'a\u007fb']]), /control character 0x7f/);
  assert.throws(() => canonicalHeaders([['x'] as unknown as [string, string]]), /pair/);
});

test('formatAmzDate writes ISO 8601 basic UTC; hexLower writes lowercase pairs', () => {
  assert.is(formatAmzDate(Date.UTC(2015, 7, 30, 12, 36, 0)), '20150830T123600Z');
  assert.is(formatAmzDate(Date.UTC(2024, 1, 29, 23, 59, 59, 999)), '20240229T235959Z'); // milliseconds are dropped
  assert.is(formatAmzDate(Date.UTC(2031, 0, 2, 3, 4, 5)), '20310102T030405Z');
  assert.throws(() => formatAmzDate(Date.UTC(10000, 0, 1)), /0000-9999/);
  assert.throws(() => formatAmzDate(Number.POSITIVE_INFINITY), /finite/);
  const scratch = new Uint8Array(8);
  assert.is(hexLower(new Uint8Array([0x00, 0x0f, 0xa5, 0xff, 0x12]), 1, 3, scratch), '0fa5ff');
  assert.throws(() => hexLower(new Uint8Array(5), 0, 5, scratch), /cannot hold 10/);
});

test.run();
