// SigV4Signer against an independent implementation: @smithy/signature-v4 (the AWS SDK v3 signer) with
// @aws-crypto/sha256-js, on hundreds of generated requests from a fixed seed. Both sides sign the same
// request at the same instant; the Authorization header must be identical byte for byte.
//
// Where the two take their input in different shapes, the oracle is configured to mean the same thing:
// - Signed header set: smithy never signs authorization, connection, expect, transfer-encoding,
//   user-agent, … unless asked; the device signs every header it sends (the embedded-C producer's
//   convention), so smithy gets `signableHeaders` = every header name in the request. smithy adds
//   x-amz-date and x-amz-security-token itself and signs both, as the device does; `applyChecksum: false`
//   keeps it from adding x-amz-content-sha256, which KVS does not use (kvs-reference.md §10.2).
// - Repeated headers: smithy takes a name → value record. A name given more than once (in any case) is
//   handed to smithy as one entry whose value is the trimmed values joined with "," in request order —
//   the SigV4 rule both sides implement. A header given once reaches smithy raw, odd whitespace and all.
// - Query: smithy takes decoded name → value(s); the device takes the raw query string. The oracle decodes
//   the raw string with decodeURIComponent (the generator makes only well-formed UTF-8 escapes); a
//   parameter without "=" is given to smithy with the empty value ("flag" → "flag="), which the SigV4
//   spec requires; smithy's own parser would drop it. "+" stays a literal plus on both sides.
// - Path: both normalise (empty, "." and ".." segments) and encode the wire path once more
//   (`uriEscapePath: true`, smithy's default for every service but S3).
// - Payload: for kinesisvideo the body is streamed and both use SHA-256("") (smithy: no body); for the
//   other services the body is a string given to smithy and its SHA-256 hex is passed to the device.
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { nodeHash } from '../../firmware/boards/node/nodeHash.ts';
import { EMPTY_PAYLOAD_SHA256, SigV4Signer, type SigV4Credentials } from '../../firmware/core/sigv4/SigV4Signer.ts';
import { assert, suite } from '../harness/index.ts';
import { xorshift32 as rng } from '../harness/support.ts';

const test = suite('SigV4Signer vs @smithy/signature-v4');

type Rng = () => number;
const pick = <T>(next: Rng, items: readonly T[]): T => items[next() % items.length]!;

const PATH_SEGMENTS = [
  'putMedia',
  'getDataEndpoint',
  'a b',
  'café',
  '日本語',
  '~user',
  'a%2Fb',
  '%2F',
  '%20x',
  '%41',
  'x.y',
  '.',
  '..',
  '',
  'A-Z_0-9',
  "!'()*",
  '+plus',
  '=',
  '@:',
  '😀',
  'seg%',
  '%zz',
  'a;b',
  'a,b',
  '$&',
  '%E2%82%AC',
  'UPPER',
  'tab\tin',
];

function genPath(next: Rng): string {
  const count = next() % 6;
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(pick(next, PATH_SEGMENTS));
  let path = '/' + parts.join('/');
  if (next() % 4 === 0) path += '/';
  if (next() % 6 === 0) path = '/' + path; // a leading double slash
  return path;
}

const QUERY_NAMES = ['Action', 'a', 'b', 'A', 'B', 'x-amz-meta', 'key with space', 'é', 'k~', 'k.', 'K_', '', 'Z', 'a-b', 'a+b', '日'];
const QUERY_VALUES = ['', 'v', 'V', 'a b', 'é', '=', '&', '+', '*', '!', '~', "'()", '/', '%', '2010-05-08', 'ListUsers', '😀', ',;:', 'x=y'];

/** One query component in raw form: sometimes as typed, sometimes percent-encoded (either hex case). */
function rawComponent(next: Rng, decoded: string): string {
  const mustEncode = /[&=#%+]/.test(decoded) || decoded.includes(' ');
  switch (mustEncode ? 1 + (next() % 2) : next() % 3) {
    case 0:
      return decoded; // unicode, "~", "*", "!" etc. as typed
    case 1:
      return encodeURIComponent(decoded).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    default:
      return encodeURIComponent(decoded).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
  }
}

interface GeneratedQuery {
  readonly raw: string;
  readonly record: Record<string, string | string[]>;
}

function genQuery(next: Rng): GeneratedQuery {
  const count = next() % 7;
  const parts: string[] = [];
  const record: Record<string, string | string[]> = {};
  for (let i = 0; i < count; i++) {
    const name = pick(next, QUERY_NAMES);
    const flag = name !== '' && next() % 6 === 0; // "name" with no "="
    const value = flag ? '' : pick(next, QUERY_VALUES);
    parts.push(flag ? rawComponent(next, name) : `${rawComponent(next, name)}=${rawComponent(next, value)}`);
    const seen = record[name];
    if (seen === undefined) record[name] = value;
    else if (typeof seen === 'string') record[name] = [seen, value];
    else seen.push(value);
    if (next() % 8 === 0) parts.push(''); // "&&"
  }
  return { raw: parts.join('&'), record };
}

const HEADER_NAMES = [
  'x-amzn-stream-name',
  'X-Amzn-Fragment-Timecode-Type',
  'content-type',
  'User-Agent',
  'connection',
  'Transfer-Encoding',
  'x-amzn-producer-start-timestamp',
  'My-Header',
  'accept',
  'expect',
  'x-amzn-fragment-acknowledgment-required',
  'x-custom',
  'Content-Length',
  'proxy-thing',
  'sec-thing',
  'x-amzn-trace-id',
  'cache-control',
  'From',
];
const HEADER_VALUES = [
  'a',
  '  a   b  ',
  '\ta\t\tb ',
  '',
  ' ',
  'application/json',
  '"quoted   value"',
  'café',
  '1',
  'ABSOLUTE',
  'keep-alive',
  'chunked',
  '100-continue',
  'AWS-SDK-KVS-CPP-CLIENT/3.4.2/1.5.3 GCC/12.2.0 Linux/6.6.51+rpt-rpi-v8 aarch64 CPPSDK',
  '1732012345.678',
  'a,b',
  '*/*',
  'x \t y',
];

function randomCase(next: Rng, name: string): string {
  switch (next() % 4) {
    case 0:
      return name.toLowerCase();
    case 1:
      return name.toUpperCase();
    default:
      return name;
  }
}

const normalise = (v: string): string => v.trim().replace(/\s+/g, ' ');

interface GeneratedHeaders {
  readonly list: [string, string][];
  readonly record: Record<string, string>;
}

function genHeaders(next: Rng, host: string): GeneratedHeaders {
  const list: [string, string][] = [[randomCase(next, 'Host'), host]];
  const count = next() % 7;
  for (let i = 0; i < count; i++) {
    const name = next() % 5 === 0 && list.length > 1 ? list[1 + (next() % (list.length - 1))]![0] : pick(next, HEADER_NAMES);
    list.push([randomCase(next, name), pick(next, HEADER_VALUES)]);
  }
  if (next() % 3 === 0) list.splice(next() % list.length, 0, list.splice(0, 1)[0]!); // host anywhere
  const groups = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of list) {
    const lower = name.toLowerCase();
    const g = groups.get(lower);
    if (g) g.values.push(value);
    else groups.set(lower, { name, values: [value] });
  }
  const record: Record<string, string> = {};
  for (const { name, values } of groups.values()) {
    record[name] = values.length === 1 ? values[0]! : values.map(normalise).join(',');
  }
  return { list, record };
}

const REGIONS = ['us-east-1', 'us-west-2', 'eu-central-1', 'ap-northeast-1', 'cn-north-1', 'us-gov-west-1', 'af-south-1'];
const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function genString(next: Rng, length: number, alphabet: string): string {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[next() % alphabet.length];
  return s;
}

function genCredentials(next: Rng): SigV4Credentials {
  const accessKeyId = (next() % 2 ? 'ASIA' : 'AKIA') + genString(next, 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
  const secretAccessKey = genString(next, 40, KEY_CHARS);
  return next() % 2 === 0
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken: genString(next, 100 + (next() % 700), KEY_CHARS + '=') };
}

async function smithySign(
  credentials: SigV4Credentials,
  region: string,
  service: string,
  nowMs: number,
  method: string,
  hostname: string,
  path: string,
  query: Record<string, string | string[]>,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ credentials, region, service, sha256: Sha256, uriEscapePath: true, applyChecksum: false });
  const signableHeaders = new Set(Object.keys(headers).map((n) => n.toLowerCase()));
  const signed = await signer.sign(
    { method, protocol: 'https:', hostname, path, query, headers: { ...headers }, ...(body === undefined ? {} : { body }) },
    { signingDate: new Date(nowMs), signableHeaders },
  );
  return signed.headers as Record<string, string>;
}

const CASES = 600;
const FROM = Date.UTC(2024, 0, 1);
const TO = Date.UTC(2036, 0, 1);

test(`${CASES} generated requests sign exactly as smithy does`, async () => {
  const next = rng(0x5167_4a11);
  let withToken = 0;
  let kvs = 0;
  let duplicates = 0;
  for (let c = 0; c < CASES; c++) {
    const region = pick(next, REGIONS);
    const service = next() % 4 === 0 ? pick(next, ['iam', 'execute-api', 'sts', 'kinesis']) : 'kinesisvideo';
    const nowMs = FROM + ((next() * 4096 + (next() % 4096)) % (TO - FROM));
    const credentials = genCredentials(next);
    const host = pick(next, [
      `s-${genString(next, 8, '0123456789abcdef')}.kinesisvideo.${region}.amazonaws.com`,
      `kinesisvideo.${region}.amazonaws.com`,
      '127.0.0.1:8443',
    ]);
    const method = pick(next, ['POST', 'GET', 'PUT', 'DELETE']);
    const path = genPath(next);
    const query = genQuery(next);
    const headers = genHeaders(next, host);
    const body = service === 'kinesisvideo' ? undefined : genString(next, next() % 64, KEY_CHARS + ' {}":,é');
    const payloadHash = body === undefined ? EMPTY_PAYLOAD_SHA256 : createHash('sha256').update(body, 'utf8').digest('hex');
    if (credentials.sessionToken) withToken++;
    if (service === 'kinesisvideo') kvs++;
    if (headers.list.length !== Object.keys(headers.record).length) duplicates++;

    const device = new SigV4Signer({ hash: nodeHash, region, service });
    const mine = device.sign({ method, path, query: query.raw, headers: headers.list, payloadHash }, credentials, nowMs);
    const theirs = await smithySign(credentials, region, service, nowMs, method, host, path, query.record, headers.record, body);
    const label = `case ${c}: ${method} ${path}?${query.raw}\n${mine.canonicalRequest}`;
    assert.is(mine.authorization, theirs['authorization'], label);
    assert.is(mine.amzDate, theirs['x-amz-date'], label);
    assert.is(credentials.sessionToken, theirs['x-amz-security-token'], label);
  }
  // The generator really covers what it claims to.
  assert.ok(withToken > CASES / 3 && withToken < (2 * CASES) / 3, `with token: ${withToken}`);
  assert.ok(kvs > CASES / 2, `kinesisvideo: ${kvs}`);
  assert.ok(duplicates > CASES / 10, `with repeated headers: ${duplicates}`);
});

test('one signer reused across days, secrets and requests agrees with smithy (signing-key cache)', async () => {
  const next = rng(77);
  const device = new SigV4Signer({ hash: nodeHash, region: 'us-west-2' });
  const secrets = [genCredentials(next), genCredentials(next)];
  for (let c = 0; c < 60; c++) {
    const credentials = secrets[next() % 2]!;
    const nowMs = Date.UTC(2025, 5, 1) + (next() % 3) * 86_400_000 + (next() % 86_400) * 1000;
    const headers = genHeaders(next, 's-1.kinesisvideo.us-west-2.amazonaws.com');
    const mine = device.sign({ method: 'POST', path: '/putMedia', headers: headers.list, payloadHash: EMPTY_PAYLOAD_SHA256 }, credentials, nowMs);
    const theirs = await smithySign(credentials, 'us-west-2', 'kinesisvideo', nowMs, 'POST', 'h', '/putMedia', {}, headers.record, undefined);
    assert.is(mine.authorization, theirs['authorization'], `request ${c}`);
  }
});

test('the PutMedia request as fieldcam sends it (embedded-C header set, session token signed)', async () => {
  const credentials = {
    accessKeyId: 'ASIAEXAMPLEEXAMPLE01',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//token+with/slashes==',
  };
  const nowMs = Date.UTC(2024, 10, 19, 10, 32, 25, 678);
  const headers: [string, string][] = [
    ['host', 's-b12345.kinesisvideo.us-west-2.amazonaws.com'],
    ['user-agent', 'fieldcam/0.1.0'],
    ['x-amzn-stream-name', 'demo-stream'],
    ['x-amzn-fragment-timecode-type', 'ABSOLUTE'],
    ['x-amzn-producer-start-timestamp', '1732012345.678'],
    ['x-amzn-fragment-acknowledgment-required', '1'],
    ['transfer-encoding', 'chunked'],
    ['connection', 'keep-alive'],
  ];
  const mine = new SigV4Signer({ hash: nodeHash, region: 'us-west-2' }).sign(
    { method: 'POST', path: '/putMedia', query: '', headers, payloadHash: EMPTY_PAYLOAD_SHA256 },
    credentials,
    nowMs,
  );
  const theirs = await smithySign(credentials, 'us-west-2', 'kinesisvideo', nowMs, 'POST', 'h', '/putMedia', {}, Object.fromEntries(headers), undefined);
  assert.is(mine.authorization, theirs['authorization']);
  assert.is(
    mine.signedHeaders,
    'connection;host;transfer-encoding;user-agent;x-amz-date;x-amz-security-token;x-amzn-fragment-acknowledgment-required;' +
      'x-amzn-fragment-timecode-type;x-amzn-producer-start-timestamp;x-amzn-stream-name',
  );
});

test.run();
