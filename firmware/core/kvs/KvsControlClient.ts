import type { HashPort } from '../../io/Hash.ts';
import type { SocketFactory } from '../../io/Socket.ts';
import type { TimerPort } from '../../io/Timer.ts';
import { FieldcamError, type ErrorCode } from '../errors.ts';
import { parseHttpDate } from '../http/parseHttpDate.ts';
import { hexLower } from '../sigv4/hexLower.ts';
import { SigV4Signer } from '../sigv4/SigV4Signer.ts';
import { decodeUtf8 } from '../text/utf8.ts';
import { encodeUtf8 } from '../text/utf8.ts';
import { headerValue, httpExchange, type HttpResult, type HttpTarget } from '../net/httpExchange.ts';
import { hostHeader } from '../net/hostHeader.ts';
import type { NetDeadlines } from '../net/PhaseDeadline.ts';
import type { ServerClock } from '../net/ServerClock.ts';

export interface KvsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface KvsControlClientOptions {
  readonly sockets: SocketFactory;
  readonly timers: TimerPort;
  readonly hash: HashPort;
  readonly clock: ServerClock;
  readonly region: string;
  readonly target: HttpTarget;
  readonly credentials: () => KvsCredentials | undefined;
  readonly userAgent: string;
  /** Bound of one whole call; default the sum of its phase deadlines (httpExchange). */
  readonly timeoutMs?: number;
  /** Per-phase deadlines of each call (TCP, TLS, response head); default NET_DEADLINE_DEFAULTS. */
  readonly deadlines?: NetDeadlines;
}

/**
 * The KVS control-plane calls a producer needs (DescribeStream, CreateStream, GetDataEndpoint;
 * kvs-reference.md §13): POST <path> with a JSON body signed with SigV4 over the body's SHA-256. Every
 * response's Date header corrects the shared clock; errors become upload error codes whose `retryable`
 * flag drives the caller's retry decision.
 */
export class KvsControlClient {
  private readonly options: KvsControlClientOptions;
  private readonly signer: SigV4Signer;
  private readonly digest = new Uint8Array(32);
  private readonly hex = new Uint8Array(64);

  constructor(options: KvsControlClientOptions) {
    this.options = options;
    this.signer = new SigV4Signer({ hash: options.hash, service: 'kinesisvideo', region: options.region });
  }

  async call<T>(path: string, input: Readonly<Record<string, unknown>>): Promise<T> {
    const o = this.options;
    const credentials = o.credentials();
    if (!credentials) throw new FieldcamError('UPLOAD_NO_CREDENTIALS', `no credentials for ${path}`);
    const body = encodeUtf8(JSON.stringify(input));
    o.hash.sha256(body, 0, body.length, this.digest, 0);
    const headers: [string, string][] = [
      ['host', hostHeader(o.target)],
      ['content-type', 'application/json'],
      ['content-length', String(body.length)],
      ['user-agent', o.userAgent],
      ['connection', 'close'],
    ];
    if (o.clock.now() < this.signer.clockFloorMs) await this.learnServerTime(path);
    const signed = this.signer.sign(
      { method: 'POST', path, query: '', headers, payloadHash: hexLower(this.digest, 0, 32, this.hex) },
      credentials,
      o.clock.now(),
    );
    for (const h of signed.headers) headers.push([h[0], h[1]]);
    const result = await httpExchange(o, o.target, { method: 'POST', path, headers }, body, o.timeoutMs);
    const date = headerValue(result.headers, 'date');
    const serverMs = date === undefined ? undefined : parseHttpDate(date);
    if (serverMs !== undefined) o.clock.observe(serverMs, result.status === 403);
    if (result.status >= 200 && result.status < 300) {
      try {
        return JSON.parse(decodeUtf8(result.body)) as T;
      } catch {
        throw new FieldcamError('UPLOAD_BAD_RESPONSE', `${path}: the response body is not JSON`);
      }
    }
    throw serviceError(path, result);
  }

  /**
   * The board clock is below the signing floor (no RTC, no NTP yet): send the request unsigned. The service
   * refuses it, but its answer carries a `Date` header, which sets the clock (user-needs.md row 5).
   */
  private async learnServerTime(path: string): Promise<void> {
    const o = this.options;
    const headers: [string, string][] = [
      ['host', hostHeader(o.target)],
      ['user-agent', o.userAgent],
      ['content-length', '0'],
      ['connection', 'close'],
    ];
    const probe = await httpExchange(o, o.target, { method: 'POST', path, headers }, new Uint8Array(0), o.timeoutMs);
    const date = headerValue(probe.headers, 'date');
    const serverMs = date === undefined ? undefined : parseHttpDate(date);
    if (serverMs === undefined) {
      throw new FieldcamError('SIGV4_CLOCK_NOT_SET', `the clock is not set and ${o.target.host} sent no usable Date header`);
    }
    o.clock.observe(serverMs, true);
  }
}

/** Maps an AWS JSON error response (status, x-amzn-ErrorType, {"message"}) to an upload error code. */
export function serviceError(what: string, result: HttpResult): FieldcamError {
  const type = (headerValue(result.headers, 'x-amzn-errortype') ?? '').split(':')[0]!;
  let message = '';
  try {
    const parsed = JSON.parse(decodeUtf8(result.body)) as { message?: unknown; Message?: unknown };
    message = String(parsed.message ?? parsed.Message ?? '');
  } catch {
    message = decodeUtf8(result.body, 0, Math.min(result.body.length, 200));
  }
  let code: ErrorCode;
  if (result.status === 403 || result.status === 401) {
    if (/signature expired|not yet current|request time/i.test(message)) code = 'UPLOAD_CLOCK_SKEW';
    else if (/scoped to a valid region/i.test(message)) code = 'UPLOAD_REGION_MISMATCH';
    else if (type === 'ExpiredTokenException' || /expired/i.test(message)) code = 'UPLOAD_NO_CREDENTIALS';
    else code = 'UPLOAD_AUTH_FAILED';
  } else if (result.status === 404 || type === 'ResourceNotFoundException') code = 'UPLOAD_STREAM_NOT_FOUND';
  else if (type === 'ClientLimitExceededException' || type === 'ConnectionLimitExceededException' || result.status === 429) code = 'UPLOAD_THROTTLED';
  else if (result.status >= 500) code = 'UPLOAD_SERVICE_ERROR';
  else code = 'UPLOAD_CONFIG';
  return new FieldcamError(code, `${what}: HTTP ${result.status} ${type || ''} ${message}`.trim());
}
