import { FieldcamError } from '../errors.ts';
import { decodeUtf8 } from '../text/utf8.ts';

/** Temporary credentials issued by the AWS IoT credentials provider (kvs-reference.md §9.2). */
export interface IotCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch milliseconds (server time) after which AWS refuses them. */
  readonly expirationMs: number;
}

/** Largest answer read: a session token is ~1-2 KB; anything past this is not the provider. */
export const MAX_CREDENTIALS_BODY = 16 * 1024;

// Field limits: access key ids are 16-128 of [A-Z0-9] (IAM AccessKey), secrets 40 in practice; session tokens
// have no documented maximum, so a generous cap keeps a hostile answer bounded.
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const MAX_SECRET = 256;
const MAX_TOKEN = 8192;
// RFC 3339 / ISO 8601 UTC instant; AWS writes YYYY-MM-DDTHH:mm:SSZ (kvs-reference.md §9.2), fractions allowed.
const INSTANT = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

function bad(message: string): never {
  throw new FieldcamError('IOT_BAD_RESPONSE', `credentials provider: ${message}`);
}

/** ISO-8601 / RFC 3339 instant → epoch ms, or undefined when it is not one (field ranges checked). */
export function parseIsoInstant(text: string): number | undefined {
  const m = INSTANT.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > days) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59));
  if (m[7]) ms += Math.floor(Number(`0.${m[7]}`) * 1000);
  const zone = m[8]!;
  if (zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return undefined;
    ms -= (zone[0] === '+' ? 1 : -1) * (zh * 60 + zm) * 60_000;
  }
  return ms;
}

function field(o: Record<string, unknown>, key: string, max: number): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) bad(`credentials.${key} must be a string of 1-${max} characters`);
  return v;
}

/**
 * The 200 answer `{"credentials":{"accessKeyId","secretAccessKey","sessionToken","expiration"}}`, bounded and
 * checked field by field. Throws FieldcamError IOT_BAD_RESPONSE naming what is wrong (never the secret values).
 */
export function parseIotCredentials(body: Uint8Array): IotCredentials {
  if (body.length > MAX_CREDENTIALS_BODY) bad(`the answer is ${body.length} bytes, more than ${MAX_CREDENTIALS_BODY}`);
  let raw: unknown;
  try {
    raw = JSON.parse(decodeUtf8(body));
  } catch {
    bad('the answer is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('the answer is not a JSON object');
  const c = (raw as Record<string, unknown>).credentials;
  if (typeof c !== 'object' || c === null || Array.isArray(c)) bad('the answer has no "credentials" object');
  const o = c as Record<string, unknown>;
  const accessKeyId = field(o, 'accessKeyId', 128);
  if (!ACCESS_KEY_ID.test(accessKeyId)) bad('credentials.accessKeyId must be 16-128 of [A-Z0-9]');
  const secretAccessKey = field(o, 'secretAccessKey', MAX_SECRET);
  const sessionToken = field(o, 'sessionToken', MAX_TOKEN);
  const expiration = field(o, 'expiration', 64);
  const expirationMs = parseIsoInstant(expiration);
  if (expirationMs === undefined) bad(`credentials.expiration "${expiration}" is not an ISO-8601 UTC instant`);
  return Object.freeze({ accessKeyId, secretAccessKey, sessionToken, expirationMs });
}
