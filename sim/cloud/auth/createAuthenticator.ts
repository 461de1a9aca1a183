// SigV4 verification for the local cloud (kvs-reference.md §10). The signature is recomputed with
// @smithy/signature-v4 — an implementation independent of the device's signer — over exactly the headers the
// request lists in SignedHeaders, so both producer conventions pass: producer-c leaves x-amz-security-token
// out of SignedHeaders, the embedded-C SDK signs it (and also connection, transfer-encoding, user-agent).
import { Sha256 } from '@aws-crypto/sha256-js';
import { getCanonicalHeaders, SignatureV4 } from '@smithy/signature-v4';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { fingerprintSecret } from '../../../host/shared/fingerprintSecret.ts';
import { CloudError, type CallerIdentity, type Faults } from '../types.ts';
import type { CredentialResolver } from './CredentialRegistry.ts';
import { parseAuthorization } from './parseAuthorization.ts';

/** How far x-amz-date may be from the server clock, either way (AWS: 5 minutes). */
export const MAX_SKEW_MS = 5 * 60_000;
/** The SigV4 scope service of every KVS API, control plane and media alike (the default). */
export const SERVICE = 'kinesisvideo';
/**
 * IAM is a global service signed for us-east-1 whatever region the client is in (IAM User Guide, "Signing
 * AWS API requests": global services use us-east-1); the cloud's own region is accepted too, because SDK
 * clients with an endpoint override sign for their configured region.
 */
const GLOBAL_SIGNING_REGION: Readonly<Record<string, string>> = Object.freeze({ iam: 'us-east-1' });

/** Who signed each request being served, for `authorize` (kept only as long as the request object lives). */
const callers = new WeakMap<IncomingMessage, CallerIdentity>();

/** The identity `authenticate` established for `req`, or undefined if it was never authenticated. */
export function callerOf(req: IncomingMessage): CallerIdentity | undefined {
  return callers.get(req);
}

type SignableRequest = Parameters<SignatureV4['presign']>[0];

export interface AuthenticatorOptions {
  readonly region: string;
  readonly credentials: CredentialResolver;
  readonly faults: Faults;
  /** Server time, epoch ms, including the clock-skew fault. */
  now(): number;
  log(event: string, fields?: Record<string, unknown>): void;
}

/** smithy's signer, with its canonical request made visible for the mismatch log. */
class VerifyingSigner extends SignatureV4 {
  canonicalRequest(request: SignableRequest, headers: Parameters<typeof getCanonicalHeaders>[0]['headers'], payloadHash: string): string {
    return this.createCanonicalRequest(request, headers, payloadHash);
  }
}

/**
 * The canonical request as the mismatch log shows it: a signed x-amz-security-token header or an
 * X-Amz-Security-Token query parameter carries a whole session token, which is a secret like the key
 * (whoever holds it and the key id acts as the caller): its value is replaced by its fingerprint.
 */
export function redactCanonicalRequest(canonical: string): string {
  return canonical
    .replace(/^(x-amz-security-token:)(.*)$/gm, (_, name: string, value: string) => name + fingerprintSecret(value))
    .replace(/(^|&)(X-Amz-Security-Token=)([^&\n]*)/gm, (_, lead: string, name: string, value: string) => lead + name + fingerprintSecret(safeDecode(value)));
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** `20240102T030405Z`, the SigV4 long date, for messages. */
function longDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function parseLongDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A request header as SigV4 canonicalises it: repeated headers joined by commas (Node would join with ', '). */
function header(req: IncomingMessage, name: string): string | undefined {
  return req.headersDistinct[name]?.join(',');
}

/**
 * The query of a request target as a map of decoded values. Not URLSearchParams: it reads '+' as a space,
 * while SigV4 clients percent-encode everything but unreserved characters, so '+' is a literal plus.
 */
function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of search.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      throw new CloudError(403, 'IncompleteSignatureException', `The query parameter '${pair}' is not valid percent-encoding.`);
    }
    const prev = query[key];
    query[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return query;
}

function invalidSignature(message: string): CloudError {
  return new CloudError(403, 'InvalidSignatureException', message);
}

const INVALID_TOKEN = 'The security token included in the request is invalid.';

export function createAuthenticator(options: AuthenticatorOptions): (req: IncomingMessage, payloadHash: string, service?: string) => Promise<CallerIdentity> {
  return async function authenticate(req, payloadHash, service = SERVICE) {
    const authorization = header(req, 'authorization');
    if (!authorization) throw new CloudError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const auth = parseAuthorization(authorization);

    if (auth.service !== service) throw invalidSignature(`Credential should be scoped to correct service: '${service}'. `);
    if (auth.region !== options.region && auth.region !== GLOBAL_SIGNING_REGION[service]) {
      throw invalidSignature(`Credential should be scoped to a valid region, not '${auth.region}'. `);
    }

    const amzDate = header(req, 'x-amz-date');
    if (!amzDate) {
      throw new CloudError(403, 'IncompleteSignatureException', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    const signedAt = parseLongDate(amzDate);
    if (signedAt === undefined) {
      throw new CloudError(403, 'IncompleteSignatureException', `X-Amz-Date '${amzDate}' is not an ISO-8601 basic date-time (YYYYMMDDTHHMMSSZ).`);
    }
    if (amzDate.slice(0, 8) !== auth.scopeDate) {
      throw invalidSignature(
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
      );
    }
    const now = options.now();
    if (signedAt < now - MAX_SKEW_MS) {
      throw invalidSignature(`Signature expired: ${amzDate} is now earlier than ${longDate(now - MAX_SKEW_MS)} (${longDate(now)} - 5 min.)`);
    }
    if (signedAt > now + MAX_SKEW_MS) {
      throw invalidSignature(`Signature not yet current: ${amzDate} is still later than ${longDate(now + MAX_SKEW_MS)} (${longDate(now)} + 5 min.)`);
    }

    const credentials = options.credentials.resolve(auth.accessKeyId);
    if (!credentials) throw new CloudError(403, 'UnrecognizedClientException', INVALID_TOKEN);
    const token = header(req, 'x-amz-security-token');
    const temporary = credentials.temporary;
    if (temporary) {
      if (token !== temporary.sessionToken) throw new CloudError(403, 'UnrecognizedClientException', INVALID_TOKEN);
      const cutoff = options.faults.expireTokensBefore;
      if (now >= temporary.expiration || (cutoff !== undefined && temporary.issuedAt < cutoff)) {
        throw new CloudError(403, 'ExpiredTokenException', 'The security token included in the request is expired');
      }
    } else if (token !== undefined) {
      // A session token with a long-term key id: AWS refuses the pair.
      throw new CloudError(403, 'UnrecognizedClientException', INVALID_TOKEN);
    }

    if (!auth.signedHeaders.includes('host')) {
      throw invalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    const signed = new Set(auth.signedHeaders);
    const headers: Record<string, string> = {};
    for (const name of auth.signedHeaders) {
      const value = header(req, name);
      if (value !== undefined) headers[name] = value;
    }
    // The payload hash the client signed over: the body's (or the empty string's, for a streamed body), unless
    // it signed x-amz-content-sha256: UNSIGNED-PAYLOAD, as the SDK does for streaming bodies.
    const claimed = signed.has('x-amz-content-sha256') ? headers['x-amz-content-sha256'] : undefined;
    const hash = claimed === 'UNSIGNED-PAYLOAD' ? claimed : payloadHash;
    headers['x-amz-content-sha256'] = hash;
    // smithy's signer adds x-amz-date itself and never signs connection/user-agent/transfer-encoding unless
    // told to: make it sign exactly the listed names, nothing more, nothing less.
    const unsignable = new Set(['x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token'].filter((h) => !signed.has(h)));

    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const query = q >= 0 ? parseQuery(rawUrl.slice(q + 1)) : {};
    const request: SignableRequest = {
      method: req.method ?? 'GET',
      protocol: 'https:',
      hostname: (headers.host ?? '').replace(/:\d+$/, ''),
      path: q >= 0 ? rawUrl.slice(0, q) : rawUrl,
      query,
      headers,
    };
    const signer = new VerifyingSigner({
      service,
      region: auth.region,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      sha256: Sha256,
      applyChecksum: false,
    });
    const expected = await signer.sign(request, { signingDate: new Date(signedAt), signableHeaders: signed, unsignableHeaders: unsignable });
    const computed = String(expected.headers.authorization ?? '');
    const expectedSignature = /Signature=([0-9a-f]{64})$/.exec(computed)?.[1] ?? '';
    const expectedSignedHeaders = /SignedHeaders=([^,]*),/.exec(computed)?.[1];
    const ok =
      expectedSignedHeaders === auth.signedHeaders.join(';') &&
      expectedSignature.length === auth.signature.length &&
      timingSafeEqual(Buffer.from(expectedSignature, 'latin1'), Buffer.from(auth.signature, 'latin1'));
    if (!ok) {
      const canonicalHeaders = getCanonicalHeaders(expected, unsignable, signed);
      options.log('sigv4-mismatch', {
        accessKeyId: auth.accessKeyId,
        signedHeaders: auth.signedHeaders.join(';'),
        expectedCanonicalRequest: redactCanonicalRequest(signer.canonicalRequest(expected, canonicalHeaders, hash)),
      });
      throw invalidSignature(
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
    const identity: CallerIdentity = temporary
      ? { accessKeyId: auth.accessKeyId, sessionToken: temporary.sessionToken, ...(temporary.session ? { session: temporary.session } : {}) }
      : { accessKeyId: auth.accessKeyId };
    callers.set(req, identity);
    return identity;
  };
}
