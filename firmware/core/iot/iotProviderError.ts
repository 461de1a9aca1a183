import { FieldcamError, type ErrorCode } from '../errors.ts';
import { headerValue, type HttpResult } from '../net/httpExchange.ts';
import { decodeUtf8 } from '../text/utf8.ts';

/**
 * A refusal of the credentials provider as a named error. AWS answers JSON `{"message": …}`
 * (kvs-reference.md §9.2); the messages are AWS's own words, matched loosely, the status decides the rest:
 * 403 certificate / thing / access, 404 role alias, 400 role, 429 and 5xx retryable.
 */
export function iotProviderError(result: HttpResult): FieldcamError {
  let message = '';
  try {
    const parsed = JSON.parse(decodeUtf8(result.body, 0, Math.min(result.body.length, 1024))) as { message?: unknown; Message?: unknown };
    message = String(parsed.message ?? parsed.Message ?? '');
  } catch {
    message = decodeUtf8(result.body, 0, Math.min(result.body.length, 200));
  }
  const type = (headerValue(result.headers, 'x-amzn-errortype') ?? '').split(':')[0]!;
  const status = result.status;
  let code: ErrorCode;
  if (status === 429 || status >= 500) code = 'IOT_PROVIDER_UNAVAILABLE';
  else if (/certificate is invalid/i.test(message)) code = 'IOT_CERTIFICATE_REFUSED';
  else if (/invalid thing name/i.test(message)) code = 'IOT_THING_REFUSED';
  else if (status === 403 || status === 401) code = 'IOT_ACCESS_DENIED';
  else if (status === 404) code = 'IOT_ROLE_ALIAS_NOT_FOUND';
  else if (status === 400) code = 'IOT_ROLE_REFUSED';
  else code = 'IOT_BAD_RESPONSE';
  return new FieldcamError(code, `credentials provider: HTTP ${status} ${type} ${message}`.replace(/ +/g, ' ').trim());
}
