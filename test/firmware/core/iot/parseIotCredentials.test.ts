// The credentials provider's answers (kvs-reference.md §9.2): the 200 body parsed with limits, ISO-8601
// expiration to epoch ms, and every refusal mapped to its named error (AWS's words, AWS's statuses).
import { iotProviderError } from '../../../../firmware/core/iot/iotProviderError.ts';
import { MAX_CREDENTIALS_BODY, parseIotCredentials, parseIsoInstant } from '../../../../firmware/core/iot/parseIotCredentials.ts';
import { isFieldcamError } from '../../../../firmware/core/errors.ts';
import { encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { assert, suite } from '../../../harness/index.ts';

const test = suite('iot: parseIotCredentials and iotProviderError');

const GOOD = { accessKeyId: 'ASIAEXAMPLEKEY000001', secretAccessKey: 'secret/+=', sessionToken: 'token', expiration: '2024-01-01T12:00:00Z' };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isFieldcamError(err)) return err.code;
    throw err;
  }
  return 'none';
}

test('the documented answer → four fields, expiration in epoch ms', () => {
  const c = parseIotCredentials(encodeUtf8(JSON.stringify({ credentials: GOOD })));
  assert.is(c.accessKeyId, GOOD.accessKeyId);
  assert.is(c.secretAccessKey, GOOD.secretAccessKey);
  assert.is(c.sessionToken, 'token');
  assert.is(c.expirationMs, Date.UTC(2024, 0, 1, 12, 0, 0));
});

test('ISO-8601 instants: Z, fractions, offsets; impossible dates and other shapes refused', () => {
  assert.is(parseIsoInstant('2024-02-29T23:59:59Z'), Date.UTC(2024, 1, 29, 23, 59, 59));
  assert.is(parseIsoInstant('2024-01-01T12:00:00.250Z'), Date.UTC(2024, 0, 1, 12, 0, 0, 250));
  assert.is(parseIsoInstant('2024-01-01T14:00:00+02:00'), Date.UTC(2024, 0, 1, 12, 0, 0));
  assert.is(parseIsoInstant('2024-01-01T07:30:00-04:30'), Date.UTC(2024, 0, 1, 12, 0, 0));
  for (const bad of [
    '2023-02-29T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01 12:00:00Z',
    '2024-01-01T12:00:00',
    '1704110400',
    '',
    'Mon, 01 Jan 2024 12:00:00 GMT',
    '2024-01-01T12:00:00+25:00',
  ]) {
    assert.is(parseIsoInstant(bad), undefined, bad);
  }
});

test('malformed answers → IOT_BAD_RESPONSE (retryable), naming the field, never echoing secrets', () => {
  const cases: unknown[] = [
    'not json',
    [],
    {},
    { credentials: null },
    { credentials: { ...GOOD, accessKeyId: 'short' } },
    { credentials: { ...GOOD, accessKeyId: 'asiaexamplekey000001' } },
    { credentials: { ...GOOD, secretAccessKey: '' } },
    { credentials: { ...GOOD, secretAccessKey: 'x'.repeat(257) } },
    { credentials: { ...GOOD, sessionToken: 7 } },
    { credentials: { ...GOOD, sessionToken: 't'.repeat(8193) } },
    { credentials: { ...GOOD, expiration: 1704110400 } },
    { credentials: { ...GOOD, expiration: 'tomorrow' } },
  ];
  for (const c of cases) {
    const text = typeof c === 'string' ? c : JSON.stringify(c);
    assert.is(
      code(() => parseIotCredentials(encodeUtf8(text))),
      'IOT_BAD_RESPONSE',
      text.slice(0, 80),
    );
  }
  try {
    parseIotCredentials(encodeUtf8(JSON.stringify({ credentials: { ...GOOD, secretAccessKey: 'TOPSECRET', expiration: 'x' } })));
  } catch (err) {
    assert.ok(!String((err as Error).message).includes('TOPSECRET'), 'no secret in the message');
    assert.ok((err as { retryable: boolean }).retryable);
  }
  const huge = new Uint8Array(MAX_CREDENTIALS_BODY + 1).fill(32);
  assert.is(
    code(() => parseIotCredentials(huge)),
    'IOT_BAD_RESPONSE',
  );
});

test('refusals → named errors: certificate, thing, access, alias, role; 429/5xx retryable', () => {
  const r = (status: number, message: string, type?: string) =>
    iotProviderError({
      status,
      headers: type ? [['x-amzn-errortype', type]] : [],
      body: encodeUtf8(JSON.stringify({ message })),
    });
  const table: [number, string, string, boolean][] = [
    [403, 'Certificate is invalid on this endpoint', 'IOT_CERTIFICATE_REFUSED', false],
    [403, 'Invalid thing name passed', 'IOT_THING_REFUSED', false],
    [403, 'Access Denied', 'IOT_ACCESS_DENIED', false],
    [401, 'Unauthorized', 'IOT_ACCESS_DENIED', false],
    [404, 'Role alias does not exist', 'IOT_ROLE_ALIAS_NOT_FOUND', false],
    [400, 'Unable to assume the role, or the role to assume does not exist', 'IOT_ROLE_REFUSED', false],
    [400, 'The requested CredentialDurationSeconds exceeds the MaxSessionDuration set for the role', 'IOT_ROLE_REFUSED', false],
    [429, 'Rate exceeded', 'IOT_PROVIDER_UNAVAILABLE', true],
    [500, 'Internal Failure', 'IOT_PROVIDER_UNAVAILABLE', true],
    [503, 'Service Unavailable', 'IOT_PROVIDER_UNAVAILABLE', true],
    [405, 'Method Not Allowed', 'IOT_BAD_RESPONSE', true],
  ];
  for (const [status, message, expected, retryable] of table) {
    const err = r(status, message, 'AccessDeniedException');
    assert.is(err.code, expected, `${status} ${message}`);
    assert.is(err.retryable, retryable, expected);
    assert.ok(err.message.includes(message) && err.message.includes(String(status)), err.message);
    assert.ok(err.remedy.length > 20);
  }
  const notJson = iotProviderError({ status: 502, headers: [], body: encodeUtf8('<html>bad gateway</html>') });
  assert.is(notJson.code, 'IOT_PROVIDER_UNAVAILABLE');
  assert.ok(notJson.message.includes('bad gateway'));
});

test.run();
