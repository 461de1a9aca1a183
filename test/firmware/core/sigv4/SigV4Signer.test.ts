// SigV4Signer with a pure-JS hash (softHash.ts), against values AWS publishes:
// - the IAM ListUsers example of the AWS General Reference, "Signature Version 4 signing process"
//   (Task 1 canonical request, Task 2 string to sign, Task 4 the Authorization header with
//   Signature=5d672d79…; https://docs.aws.amazon.com/general/latest/gr/sigv4-add-signature-to-request.html,
//   archived 2016-03-30 at web-archive.nli.org.il);
// - cases of the AWS SigV4 test suite (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html:
//   AKIDEXAMPLE, us-east-1, service "service", 20150830T123600Z).
import { isFieldcamError } from '../../../../firmware/core/errors.ts';
import { DEFAULT_CLOCK_FLOOR_MS, EMPTY_PAYLOAD_SHA256, SigV4Signer, type SigV4Credentials } from '../../../../firmware/core/sigv4/SigV4Signer.ts';
import { assert, suite } from '../../../harness/index.ts';
import { countingHash, softHash } from './softHash.ts';

const test = suite('SigV4Signer');

const EXAMPLE: SigV4Credentials = Object.freeze({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' });
const AT_2015_08_30 = Date.UTC(2015, 7, 30, 12, 36, 0);
const OLD_FLOOR = Date.UTC(2015, 0, 1); // the published examples predate the default floor

test('signs the published IAM ListUsers example', () => {
  const signer = new SigV4Signer({ hash: softHash, service: 'iam', region: 'us-east-1', clockFloorMs: OLD_FLOOR });
  const signed = signer.sign(
    {
      method: 'GET',
      path: '/',
      query: 'Action=ListUsers&Version=2010-05-08',
      headers: [
        ['Host', 'iam.amazonaws.com'],
        ['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8'],
      ],
      payloadHash: EMPTY_PAYLOAD_SHA256,
    },
    EXAMPLE,
    AT_2015_08_30,
  );
  assert.is(
    signed.canonicalRequest,
    [
      'GET',
      '/',
      'Action=ListUsers&Version=2010-05-08',
      'content-type:application/x-www-form-urlencoded; charset=utf-8',
      'host:iam.amazonaws.com',
      'x-amz-date:20150830T123600Z',
      '',
      'content-type;host;x-amz-date',
      EMPTY_PAYLOAD_SHA256,
    ].join('\n'),
  );
  assert.is(
    signed.stringToSign,
    ['AWS4-HMAC-SHA256', '20150830T123600Z', '20150830/us-east-1/iam/aws4_request', 'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59'].join(
      '\n',
    ),
  );
  assert.is(signed.signature, '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  assert.is(
    signed.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, ' +
      'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
  );
  assert.equal(signed.headers, [
    ['x-amz-date', '20150830T123600Z'],
    ['authorization', signed.authorization],
  ]);
  assert.is(signed.scope, '20150830/us-east-1/iam/aws4_request');
  assert.is(signed.signedHeaders, 'content-type;host;x-amz-date');
});

function suiteSigner(): SigV4Signer {
  return new SigV4Signer({ hash: softHash, service: 'service', region: 'us-east-1', clockFloorMs: OLD_FLOOR });
}

function suiteSign(method: string, path: string, extra: [string, string][] = [], query = '') {
  return suiteSigner().sign(
    { method, path, query, headers: [['Host', 'example.amazonaws.com'], ...extra], payloadHash: EMPTY_PAYLOAD_SHA256 },
    EXAMPLE,
    AT_2015_08_30,
  );
}

test('matches the AWS SigV4 test suite: vanilla requests and path normalisation', () => {
  const cases: readonly (readonly [string, string, string])[] = [
    ['GET', '/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'], // get-vanilla
    ['POST', '/', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'], // post-vanilla
    ['GET', '/example space/', '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741'], // get-space
    ['GET', '//example//', '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84'], // get-slashes
    ['GET', '/./example', 'ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5'], // get-slash-pointless-dot
  ];
  for (const [method, path, signature] of cases) {
    const signed = suiteSign(method, path);
    assert.is(signed.signature, signature, `${method} ${path}`);
    assert.is(signed.signedHeaders, 'host;x-amz-date');
  }
  assert.ok(suiteSign('GET', '/example space/').canonicalRequest.startsWith('GET\n/example%20space/\n\n'));
  assert.ok(suiteSign('GET', '//example//').canonicalRequest.startsWith('GET\n/example/\n\n'));
});

test('matches the AWS SigV4 test suite: repeated, ordered and padded header values', () => {
  // get-header-key-duplicate
  const duplicate = suiteSign('GET', '/', [
    ['My-Header1', 'value2'],
    ['My-Header1', 'value2'],
    ['My-Header1', 'value1'],
  ]);
  assert.is(duplicate.signature, 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea');
  assert.ok(duplicate.canonicalRequest.includes('\nmy-header1:value2,value2,value1\n'));
  // get-header-value-order: values keep the order they were sent in
  const order = suiteSign('GET', '/', [
    ['My-Header1', 'value4'],
    ['My-Header1', 'value1'],
    ['My-Header1', 'value3'],
    ['My-Header1', 'value2'],
  ]);
  assert.ok(order.canonicalRequest.includes('\nmy-header1:value4,value1,value3,value2\n'));
  // get-header-value-trim: outer whitespace removed, inner runs collapsed, quotes do not protect them
  const trim = suiteSign('GET', '/', [
    ['My-Header1', ' value1'],
    ['My-Header2', ' "a   b   c"'],
  ]);
  assert.is(
    trim.canonicalRequest,
    [
      'GET',
      '/',
      '',
      'host:example.amazonaws.com',
      'my-header1:value1',
      'my-header2:"a b c"',
      'x-amz-date:20150830T123600Z',
      '',
      'host;my-header1;my-header2;x-amz-date',
      EMPTY_PAYLOAD_SHA256,
    ].join('\n'),
  );
});

test('canonicalises header names, case-variant duplicates, tabs and empty values', () => {
  const signed = suiteSign('POST', '/putMedia', [
    ['X-Amzn-Stream-Name', '\t demo-stream \t'],
    ['x-amzn-stream-name', 'second'],
    ['ACCEPT', ''],
    ['user-agent', 'fieldcam/0.1  (armv6;\t\tPi Zero)'],
    ['x-a', '1'],
    ['x', '2'],
  ]);
  assert.is(
    signed.canonicalRequest.split('\n').slice(3, 10).join('\n'),
    [
      'accept:',
      'host:example.amazonaws.com',
      'user-agent:fieldcam/0.1 (armv6; Pi Zero)',
      'x:2',
      'x-a:1',
      'x-amz-date:20150830T123600Z',
      'x-amzn-stream-name:demo-stream,second',
    ].join('\n'),
  );
  assert.is(signed.signedHeaders, 'accept;host;user-agent;x;x-a;x-amz-date;x-amzn-stream-name');
});

test('a session token is added and signed (embedded-C convention)', () => {
  const signer = new SigV4Signer({ hash: softHash, region: 'us-west-2' });
  const signed = signer.sign(
    { method: 'POST', path: '/putMedia', headers: [['host', 's-1.kinesisvideo.us-west-2.amazonaws.com']], payloadHash: EMPTY_PAYLOAD_SHA256 },
    { ...EXAMPLE, sessionToken: 'token/with+chars==' },
    Date.UTC(2024, 5, 1),
  );
  assert.equal(
    signed.headers.map((h) => h[0]),
    ['x-amz-date', 'x-amz-security-token', 'authorization'],
  );
  assert.is(signed.headers[1]![1], 'token/with+chars==');
  assert.is(signed.signedHeaders, 'host;x-amz-date;x-amz-security-token');
  assert.ok(signed.canonicalRequest.includes('\nx-amz-security-token:token/with+chars==\n'));
  assert.ok(signed.authorization.startsWith('AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240601/us-west-2/kinesisvideo/aws4_request, '));
});

test('the signing key is derived once per secret and day', () => {
  const hash = countingHash();
  const signer = new SigV4Signer({ hash, region: 'us-west-2' });
  const request = { method: 'POST', path: '/putMedia', headers: [['host', 'h']] as [string, string][], payloadHash: EMPTY_PAYLOAD_SHA256 };
  const other = { accessKeyId: 'AKIDOTHER', secretAccessKey: 'another-secret' };
  const day = Date.UTC(2025, 2, 14);
  const steps: readonly (readonly [string, SigV4Credentials, number, number])[] = [
    ['first signature: full chain', EXAMPLE, day + 1000, 5],
    ['same day, same secret: cached', EXAMPLE, day + 86_399_000, 1],
    ['next UTC day', EXAMPLE, day + 86_400_000, 5],
    ['same day again', EXAMPLE, day + 90_000_000, 1],
    ['another secret', other, day + 90_000_000, 5],
    ['back to the first secret: only one key is kept', EXAMPLE, day + 90_000_000, 5],
  ];
  for (const [label, credentials, nowMs, hmacs] of steps) {
    const before = hash.hmacCalls;
    const sha = hash.sha256Calls;
    const signed = signer.sign(request, credentials, nowMs);
    assert.is(hash.hmacCalls - before, hmacs, label);
    assert.is(hash.sha256Calls - sha, 1, label);
    // A cached key signs exactly as a fresh signer does.
    assert.is(signed.signature, new SigV4Signer({ hash: softHash, region: 'us-west-2' }).sign(request, credentials, nowMs).signature, label);
  }
});

test('refuses to sign before the clock floor with the retryable SIGV4_CLOCK_NOT_SET', () => {
  const signer = new SigV4Signer({ hash: softHash, region: 'us-west-2' });
  assert.is(signer.clockFloorMs, Date.UTC(2024, 0, 1));
  assert.is(DEFAULT_CLOCK_FLOOR_MS, Date.UTC(2024, 0, 1));
  const request = { method: 'POST', path: '/putMedia', headers: [['host', 'h']] as [string, string][], payloadHash: EMPTY_PAYLOAD_SHA256 };
  let caught: unknown;
  try {
    signer.sign(request, EXAMPLE, 0); // a board that booted without an RTC: 1970-01-01
  } catch (err) {
    caught = err;
  }
  assert.ok(isFieldcamError(caught, 'SIGV4_CLOCK_NOT_SET'));
  assert.is(caught.retryable, true);
  assert.throws(() => signer.sign(request, EXAMPLE, DEFAULT_CLOCK_FLOOR_MS - 1), 'SIGV4_CLOCK_NOT_SET');
  assert.is(signer.sign(request, EXAMPLE, DEFAULT_CLOCK_FLOOR_MS).amzDate, '20240101T000000Z');
  const custom = new SigV4Signer({ hash: softHash, region: 'us-west-2', clockFloorMs: Date.UTC(2030, 0, 1) });
  assert.throws(() => custom.sign(request, EXAMPLE, Date.UTC(2029, 11, 31)), 'SIGV4_CLOCK_NOT_SET');
});

test('programmer errors are TypeErrors naming the argument', () => {
  const signer = new SigV4Signer({ hash: softHash, region: 'us-west-2' });
  const now = Date.UTC(2024, 5, 1);
  const base = { method: 'POST', path: '/putMedia', query: '', headers: [['host', 'h']] as [string, string][], payloadHash: EMPTY_PAYLOAD_SHA256 };
  const cases: readonly (readonly [() => unknown, RegExp])[] = [
    [() => signer.sign({ ...base, headers: [['content-type', 'x']] }, EXAMPLE, now), /include host/],
    [
      () =>
        signer.sign(
          {
            ...base,
            headers: [
              ['host', 'h'],
              ['X-Amz-Date', '20240101T000000Z'],
            ],
          },
          EXAMPLE,
          now,
        ),
      /x-amz-date is added by the signer/,
    ],
    [
      () =>
        signer.sign(
          {
            ...base,
            headers: [
              ['host', 'h'],
              ['Authorization', 'x'],
            ],
          },
          EXAMPLE,
          now,
        ),
      /authorization is added/,
    ],
    [
      () =>
        signer.sign(
          {
            ...base,
            headers: [
              ['host', 'h'],
              ['x-amz-security-token', 't'],
            ],
          },
          EXAMPLE,
          now,
        ),
      /x-amz-security-token is added/,
    ],
    [
      () =>
        signer.sign(
          {
            ...base,
            headers: [
              ['host', 'h'],
              ['bad name', 'x'],
            ],
          },
          EXAMPLE,
          now,
        ),
      /not an HTTP token/,
    ],
    [
      () =>
        signer.sign(
          {
            ...base,
            headers: [
              ['host', 'h'],
              ['x-a', 'line\r\nx-injected: 1'],
            ],
          },
          EXAMPLE,
          now,
        ),
      /control character 0xd/,
    ],
    [() => signer.sign({ ...base, payloadHash: 'E3B0' }, EXAMPLE, now), /payloadHash/],
    [() => signer.sign({ ...base, path: 'putMedia' }, EXAMPLE, now), /request\.path must start with "\/"/],
    [() => signer.sign({ ...base, query: '?a=1' }, EXAMPLE, now), /without its leading "\?"/],
    [() => signer.sign({ ...base, method: 'PO ST' }, EXAMPLE, now), /request\.method/],
    [() => signer.sign(base, { accessKeyId: '', secretAccessKey: 's' }, now), /credentials\.accessKeyId/],
    [() => signer.sign(base, { accessKeyId: 'a', secretAccessKey: 's', sessionToken: '' }, now), /credentials\.sessionToken/],
    [() => signer.sign(base, EXAMPLE, Number.NaN), /nowMs/],
    [() => new SigV4Signer({ hash: softHash, region: 'US East 1' }), /options\.region/],
    [() => new SigV4Signer({ hash: softHash, region: 'us-east-1', service: '' }), /options\.service/],
  ];
  for (const [fn, message] of cases) {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof TypeError, `${String(message)}: expected a TypeError, got ${String(caught)}`);
    assert.ok(message.test(caught.message), `${String(message)} does not match "${caught.message}"`);
  }
});

test.run();
