import type { HashPort } from '../../io/Hash.ts';
import { FieldcamError } from '../errors.ts';
import { encodeUtf8, utf8Length, writeUtf8 } from '../text/utf8.ts';
import { canonicalHeaders } from './canonicalHeaders.ts';
import { canonicalPath } from './canonicalPath.ts';
import { canonicalQuery } from './canonicalQuery.ts';
import { formatAmzDate } from './formatAmzDate.ts';
import { hexLower } from './hexLower.ts';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** hex(SHA-256("")): the payload hash of an empty or streamed body, PutMedia's (kvs-reference.md §10.2); device and cloud. */
export const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** The default clock floor: a board whose clock reads earlier than this has not been told the time. */
export const DEFAULT_CLOCK_FLOOR_MS = Date.UTC(2024, 0, 1);

/** Headers the signer adds itself; a request that already carries one is a programmer error. */
const GENERATED = Object.freeze(['x-amz-date', 'x-amz-security-token', 'authorization'] as const);
const SCOPE_TERMINATOR = 'aws4_request';
const HASH_BYTES = 32;

export interface SigV4SignerOptions {
  readonly hash: HashPort;
  /** Scope service name; default `kinesisvideo`. */
  readonly service?: string;
  readonly region: string;
  /** `sign` refuses with SIGV4_CLOCK_NOT_SET while `nowMs` is below this; default 2024-01-01T00:00:00Z. */
  readonly clockFloorMs?: number;
}

export interface SigV4Request {
  readonly method: string;
  /** The path as sent on the request line (already percent-encoded), starting with "/". */
  readonly path: string;
  /** The raw query string without "?"; '' or absent for none. */
  readonly query?: string;
  /** In insertion order, any case; repeated names are merged (values joined with ","). Must include host. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Lowercase hex SHA-256 of the body; EMPTY_PAYLOAD_SHA256 for the streamed PutMedia body. */
  readonly payloadHash: string;
}

export interface SigV4Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SigV4Signature {
  /** Headers to add to the request, in this order: x-amz-date, x-amz-security-token (with a token), authorization. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly amzDate: string;
  /** `<YYYYMMDD>/<region>/<service>/aws4_request`. */
  readonly scope: string;
  readonly signedHeaders: string;
  /** Holds the session token when there is one: redact it before logging. */
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
  readonly authorization: string;
}

function checkScopePart(name: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[a-z0-9-]+$/.test(value)) {
    throw new TypeError(`${name} must be a non-empty string of a-z, 0-9 and "-", got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkCredential(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`credentials.${name} must be a non-empty string`);
  return value;
}

/**
 * AWS Signature Version 4 with the Authorization header, as the device needs it (design.md §4,
 * kvs-reference.md §10): HMAC and SHA-256 come from the board's HashPort, time is an argument.
 *
 * Every request header given is signed, plus x-amz-date and, with temporary credentials,
 * x-amz-security-token — the embedded-C producer's convention; the service verifies whatever
 * SignedHeaders lists. The derived signing key (kDate → kRegion → kService → kSigning) is kept for the
 * last (secret, date): region and service are fixed per signer, so every signature on the same UTC day
 * with the same secret costs one SHA-256 and one HMAC.
 *
 * Allocation is per signature (strings, one UTF-8 copy of the canonical request), not per frame: a
 * PutMedia connection is signed once. HMAC outputs share one 64-byte scratch.
 */
export class SigV4Signer {
  readonly region: string;
  readonly service: string;
  readonly clockFloorMs: number;
  private readonly hash: HashPort;
  private readonly regionBytes: Uint8Array;
  private readonly serviceBytes: Uint8Array;
  private readonly terminatorBytes = encodeUtf8(SCOPE_TERMINATOR);
  /** Two 32-byte halves for the key chain and the hashes. */
  private readonly scratch = new Uint8Array(2 * HASH_BYTES);
  private readonly first = this.scratch.subarray(0, HASH_BYTES);
  private readonly second = this.scratch.subarray(HASH_BYTES);
  private readonly hexScratch = new Uint8Array(2 * HASH_BYTES);
  private readonly dateBytes = new Uint8Array(8);
  /** UTF-8 of the canonical request, then of the string to sign; grows to the largest request seen. */
  private text = new Uint8Array(512);
  private readonly signingKey = new Uint8Array(HASH_BYTES);
  private keySecret: string | undefined;
  private keyDate = '';

  constructor(options: SigV4SignerOptions) {
    const hash = options?.hash;
    if (!hash || typeof hash.sha256 !== 'function' || typeof hash.hmacSha256 !== 'function') {
      throw new TypeError('options.hash must be a HashPort');
    }
    this.hash = hash;
    this.region = checkScopePart('options.region', options.region);
    this.service = checkScopePart('options.service', options.service ?? 'kinesisvideo');
    const floor = options.clockFloorMs ?? DEFAULT_CLOCK_FLOOR_MS;
    if (typeof floor !== 'number' || !Number.isFinite(floor)) throw new TypeError('options.clockFloorMs must be a finite number');
    this.clockFloorMs = floor;
    this.regionBytes = encodeUtf8(this.region);
    this.serviceBytes = encodeUtf8(this.service);
  }

  /**
   * Signs `request` at `nowMs` (epoch ms, as the board believes it). Throws SIGV4_CLOCK_NOT_SET (retryable)
   * while the clock is below the floor; TypeError for malformed arguments, naming the one at fault.
   */
  sign(request: SigV4Request, credentials: SigV4Credentials, nowMs: number): SigV4Signature {
    if (typeof request !== 'object' || request === null) throw new TypeError('request must be an object');
    const method = request.method;
    if (typeof method !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) {
      throw new TypeError(`request.method must be an HTTP token, got ${JSON.stringify(method)}`);
    }
    const payloadHash = request.payloadHash;
    if (typeof payloadHash !== 'string' || !/^[0-9a-f]{64}$/.test(payloadHash)) {
      throw new TypeError('request.payloadHash must be 64 lowercase hex digits (SHA-256 of the body)');
    }
    if (!Array.isArray(request.headers)) throw new TypeError('request.headers must be an array of [name, value] pairs');
    if (typeof credentials !== 'object' || credentials === null) throw new TypeError('credentials must be an object');
    const accessKeyId = checkCredential('accessKeyId', credentials.accessKeyId);
    const secret = checkCredential('secretAccessKey', credentials.secretAccessKey);
    const token = credentials.sessionToken === undefined ? undefined : checkCredential('sessionToken', credentials.sessionToken);
    if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new TypeError('nowMs must be a finite number of epoch milliseconds');
    if (nowMs < this.clockFloorMs) {
      throw new FieldcamError(
        'SIGV4_CLOCK_NOT_SET',
        `the clock reads ${nowMs} ms since the epoch, before the signing floor ${formatAmzDate(this.clockFloorMs)}; refusing to sign`,
      );
    }

    let hasHost = false;
    for (const header of request.headers) {
      const name = Array.isArray(header) && typeof header[0] === 'string' ? header[0].toLowerCase() : '';
      if (name === 'host') hasHost = true;
      if ((GENERATED as readonly string[]).includes(name)) throw new TypeError(`request.headers: ${name} is added by the signer`);
    }
    if (!hasHost) throw new TypeError('request.headers must include host (it is always signed)');

    const amzDate = formatAmzDate(nowMs);
    const date = amzDate.slice(0, 8);
    const scope = `${date}/${this.region}/${this.service}/${SCOPE_TERMINATOR}`;
    const all: (readonly [string, string])[] = request.headers.slice();
    all.push(['x-amz-date', amzDate]);
    if (token !== undefined) all.push(['x-amz-security-token', token]);
    const headers = canonicalHeaders(all);
    const canonicalRequest =
      `${method}\n${canonicalPath(request.path)}\n${canonicalQuery(request.query ?? '')}\n` + `${headers.text}\n${headers.signedHeaders}\n${payloadHash}`;

    let n = this.toText(canonicalRequest);
    this.hash.sha256(this.text, 0, n, this.first, 0);
    const stringToSign = `${SIGV4_ALGORITHM}\n${amzDate}\n${scope}\n${hexLower(this.first, 0, HASH_BYTES, this.hexScratch)}`;

    const key = this.keyFor(secret, date);
    n = this.toText(stringToSign);
    this.hash.hmacSha256(key, this.text, 0, n, this.first, 0);
    const signature = hexLower(this.first, 0, HASH_BYTES, this.hexScratch);
    const authorization = `${SIGV4_ALGORITHM} Credential=${accessKeyId}/${scope}, SignedHeaders=${headers.signedHeaders}, Signature=${signature}`;

    const added: (readonly [string, string])[] = [['x-amz-date', amzDate]];
    if (token !== undefined) added.push(['x-amz-security-token', token]);
    added.push(['authorization', authorization]);
    return { headers: added, amzDate, scope, signedHeaders: headers.signedHeaders, canonicalRequest, stringToSign, signature, authorization };
  }

  /** kSigning for (secret, date), derived only when either changed since the last call. */
  private keyFor(secret: string, date: string): Uint8Array {
    if (secret === this.keySecret && date === this.keyDate) return this.signingKey;
    this.keySecret = undefined; // not valid until the chain below completes
    for (let i = 0; i < 8; i++) this.dateBytes[i] = date.charCodeAt(i);
    const kSecret = encodeUtf8('AWS4' + secret);
    const h = this.hash;
    h.hmacSha256(kSecret, this.dateBytes, 0, 8, this.first, 0); // kDate
    kSecret.fill(0);
    h.hmacSha256(this.first, this.regionBytes, 0, this.regionBytes.length, this.second, 0); // kRegion
    h.hmacSha256(this.second, this.serviceBytes, 0, this.serviceBytes.length, this.first, 0); // kService
    h.hmacSha256(this.first, this.terminatorBytes, 0, this.terminatorBytes.length, this.signingKey, 0); // kSigning
    this.keySecret = secret;
    this.keyDate = date;
    return this.signingKey;
  }

  /** Writes `s` as UTF-8 into the text scratch (growing it when needed) and returns the byte count. */
  private toText(s: string): number {
    const needed = utf8Length(s);
    if (needed > this.text.length) this.text = new Uint8Array(Math.max(needed, 2 * this.text.length));
    return writeUtf8(s, this.text, 0);
  }
}
