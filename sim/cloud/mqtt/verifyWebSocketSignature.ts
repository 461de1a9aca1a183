// SigV4 query-string authentication of MQTT over WebSockets, as AWS IoT Core takes it ("Signing MQTT over
// WebSocket requests" / "Connecting to AWS IoT using MQTT over the WebSocket protocol"): a GET of
// `/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=<key id>/<yyyymmdd>/<region>/iotdevicegateway/
// aws4_request&X-Amz-Date=…&X-Amz-Expires=…&X-Amz-SignedHeaders=host&X-Amz-Signature=…`, signed over the
// `host` header and the hash of an empty payload, with X-Amz-Security-Token appended AFTER signing (so it
// is not part of the canonical query string). The signature is recomputed with @smithy/signature-v4's
// presigner, the implementation the cloud's header authentication uses, and the credentials come from the
// cloud's registry: the static keys of the configuration, or temporary credentials it issued.
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MAX_SKEW_MS } from '../auth/createAuthenticator.ts';
import type { CloudContext } from '../types.ts';
import type { MqttPrincipal } from './MqttAuthorizer.ts';

/** The SigV4 service name of the AWS IoT data plane's WebSocket endpoint. */
export const WEBSOCKET_SERVICE = 'iotdevicegateway';
/** Longest X-Amz-Expires SigV4 allows for a presigned URL (7 days); AWS IoT's SDKs use 86400. */
export const MAX_EXPIRES_S = 7 * 24 * 3600;
/** Query strings longer than this are refused before parsing (a signed URL with a token is ~1.5 KiB). */
const MAX_QUERY_CHARS = 8192;

/** Why a WebSocket upgrade is refused: answered as HTTP 403 with this message. */
export class WebSocketAuthError extends Error {}

function parseLongDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

/** Decoded query parameters; '+' is a literal plus (SigV4 clients percent-encode everything else). */
function parseQuery(search: string): Map<string, string> {
  if (search.length > MAX_QUERY_CHARS) throw new WebSocketAuthError(`query string longer than ${MAX_QUERY_CHARS} characters`);
  const out = new Map<string, string>();
  for (const pair of search.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    try {
      const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      if (out.has(key)) throw new WebSocketAuthError(`query parameter ${key} appears twice`);
      out.set(key, eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1)));
    } catch (err) {
      if (err instanceof WebSocketAuthError) throw err;
      // Only the name: the value may be a session token or a signature, which never go into a message.
      throw new WebSocketAuthError(`query parameter '${(eq < 0 ? pair : pair.slice(0, eq)).slice(0, 64)}' is not valid percent-encoding`);
    }
  }
  return out;
}

function required(query: Map<string, string>, name: string): string {
  const value = query.get(name);
  if (value === undefined || value === '') throw new WebSocketAuthError(`${name} is missing from the query string`);
  return value;
}

/**
 * Verifies the signed URL of a WebSocket upgrade request; returns who signed it, or throws WebSocketAuthError
 * saying what is wrong (the message goes into the 403 answer and the cloud's log).
 */
export async function verifyWebSocketSignature(ctx: CloudContext, req: IncomingMessage): Promise<MqttPrincipal> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
  const algorithm = required(query, 'X-Amz-Algorithm');
  if (algorithm !== 'AWS4-HMAC-SHA256') throw new WebSocketAuthError(`X-Amz-Algorithm must be AWS4-HMAC-SHA256, got ${algorithm}`);
  const credential = required(query, 'X-Amz-Credential').split('/');
  if (credential.length !== 5 || credential[4] !== 'aws4_request') {
    throw new WebSocketAuthError('X-Amz-Credential must be <access key id>/<yyyymmdd>/<region>/iotdevicegateway/aws4_request');
  }
  const [accessKeyId, scopeDate, region, service] = credential as [string, string, string, string];
  if (service !== WEBSOCKET_SERVICE) throw new WebSocketAuthError(`Credential should be scoped to correct service: '${WEBSOCKET_SERVICE}', not '${service}'`);
  if (region !== ctx.config.region) throw new WebSocketAuthError(`Credential should be scoped to a valid region, not '${region}'`);
  const amzDate = required(query, 'X-Amz-Date');
  const signedAt = parseLongDate(amzDate);
  if (signedAt === undefined) throw new WebSocketAuthError(`X-Amz-Date '${amzDate}' is not YYYYMMDDTHHMMSSZ`);
  if (amzDate.slice(0, 8) !== scopeDate) throw new WebSocketAuthError(`the credential scope date ${scopeDate} is not the day of X-Amz-Date ${amzDate}`);
  const expiresText = required(query, 'X-Amz-Expires');
  const expires = /^\d{1,7}$/.test(expiresText) ? Number(expiresText) : NaN;
  if (!(expires >= 1 && expires <= MAX_EXPIRES_S)) throw new WebSocketAuthError(`X-Amz-Expires must be 1-${MAX_EXPIRES_S} seconds, got '${expiresText}'`);
  const now = ctx.now();
  if (signedAt > now + MAX_SKEW_MS)
    throw new WebSocketAuthError(`Signature not yet current: X-Amz-Date ${amzDate} is more than 5 minutes ahead of the server clock`);
  if (now > signedAt + expires * 1000) throw new WebSocketAuthError(`Signature expired: signed at ${amzDate}, valid for ${expires} s`);
  if (required(query, 'X-Amz-SignedHeaders') !== 'host') throw new WebSocketAuthError('X-Amz-SignedHeaders must be host');
  const signature = required(query, 'X-Amz-Signature');

  const token = query.get('X-Amz-Security-Token');
  const temporary = ctx.temporaryCredentials.get(accessKeyId);
  let secretAccessKey: string | undefined;
  if (temporary) {
    if (token !== temporary.sessionToken) throw new WebSocketAuthError('The security token included in the request is invalid.');
    const cutoff = ctx.faults.expireTokensBefore;
    if (now >= temporary.expiration || (cutoff !== undefined && temporary.issuedAt < cutoff)) {
      throw new WebSocketAuthError('The security token included in the request is expired');
    }
    secretAccessKey = temporary.secretAccessKey;
  } else {
    secretAccessKey = ctx.config.credentials.get(accessKeyId);
    if (secretAccessKey === undefined || token !== undefined) throw new WebSocketAuthError('The security token included in the request is invalid.');
  }

  // The canonical query string holds every parameter but the signature and the token appended after signing;
  // the presigner adds X-Amz-Algorithm/Credential/Date/Expires/SignedHeaders itself from the same values.
  const signedQuery: Record<string, string> = {};
  for (const [k, v] of query) if (k !== 'X-Amz-Signature' && k !== 'X-Amz-Security-Token') signedQuery[k] = v;
  const host = req.headers.host ?? '';
  const signer = new SignatureV4({ service, region, credentials: { accessKeyId, secretAccessKey }, sha256: Sha256, applyChecksum: false });
  const expected = await signer.presign(
    { method: 'GET', protocol: 'wss:', hostname: host.replace(/:\d+$/, ''), path: q < 0 ? url : url.slice(0, q), query: signedQuery, headers: { host } },
    { signingDate: new Date(signedAt), expiresIn: expires },
  );
  const computed = String(expected.query?.['X-Amz-Signature'] ?? '');
  const ok = computed.length === signature.length && timingSafeEqual(Buffer.from(computed, 'latin1'), Buffer.from(signature, 'latin1'));
  if (!ok) {
    throw new WebSocketAuthError(
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return temporary?.session ? { kind: 'sigv4', accessKeyId, session: temporary.session } : { kind: 'sigv4', accessKeyId };
}
