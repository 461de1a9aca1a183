import type { SocketFactory, TlsOptions } from '../../io/Socket.ts';
import type { TimerHandle, TimerPort } from '../../io/Timer.ts';
import { FieldcamError, isFieldcamError, type ErrorCode } from '../errors.ts';
import { parseHttpDate } from '../http/parseHttpDate.ts';
import { Backoff } from '../net/Backoff.ts';
import { headerValue, httpExchange } from '../net/httpExchange.ts';
import { hostHeader } from '../net/hostHeader.ts';
import type { NetDeadlines } from '../net/PhaseDeadline.ts';
import type { ServerClock } from '../net/ServerClock.ts';
import type { SigV4Credentials } from '../sigv4/SigV4Signer.ts';
import { iotProviderError } from './iotProviderError.ts';
import { ROLE_ALIAS, THING_NAME } from './iotNames.ts';
import { parseIotCredentials, type IotCredentials } from './parseIotCredentials.ts';

export interface IotCredentialsClientOptions {
  readonly sockets: SocketFactory;
  readonly timers: TimerPort;
  /** Expiry is server time: the provider's Date header corrects this clock before expiry is judged. */
  readonly clock: ServerClock;
  /** `endpoints.credentialProvider` (iot:CredentialProvider), with the CA and the device certificate and key. */
  readonly target: { readonly host: string; readonly port: number; readonly tls: TlsOptions & { readonly cert: string; readonly key: string } };
  readonly roleAlias: string;
  readonly thingName: string;
  readonly userAgent: string;
  readonly random: () => number;
  /** Bound of one whole fetch; default the sum of its phase deadlines (httpExchange). */
  readonly timeoutMs?: number;
  /** Per-phase deadlines of each fetch (TCP, TLS, response head); default NET_DEADLINE_DEFAULTS. */
  readonly deadlines?: NetDeadlines;
  /** Retry delays after a retryable failure (equal-jitter exponential); default 1 s .. 60 s. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Credentials expiring within this margin are never handed out (default 60 s, kvssink's grace is 38 s). */
  readonly safetyMarginMs?: number;
  readonly onEvent?: (event: IotCredentialsEvent) => void;
}

export type IotCredentialsEvent =
  | { readonly type: 'credentials'; readonly expirationMs: number; readonly refreshInMs: number }
  | { readonly type: 'retry'; readonly code: ErrorCode; readonly message: string; readonly delayMs: number }
  | { readonly type: 'failed'; readonly code: ErrorCode; readonly message: string };

/** Refresh this long before expiry at the latest (or at 80% of the lifetime, whichever comes first). */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
const REFRESH_AT_FRACTION = 0.8;
const EMPTY = new Uint8Array(0);

/**
 * When to fetch again after credentials living `lifetimeMs` arrived: at 80% of the lifetime or 5 minutes
 * before expiry, whichever is first, but never before half the lifetime (short-lived credentials).
 */
export function refreshDelayMs(lifetimeMs: number): number {
  const delay = Math.min(lifetimeMs * REFRESH_AT_FRACTION, lifetimeMs - REFRESH_BEFORE_EXPIRY_MS);
  return Math.max(Math.round(delay), Math.round(lifetimeMs / 2), 0);
}

/**
 * Temporary AWS credentials from the AWS IoT credentials provider (kvs-reference.md §9, design.md §4):
 * `GET /role-aliases/<alias>/credentials` over mTLS with the device certificate and `x-amzn-iot-thingname`,
 * fetched at `start()`, refreshed ahead of expiry, retried with jittered backoff while the provider is
 * unreachable. `current` is the signers' credentials callback: it returns undefined — never credentials that
 * are expired or expire within the safety margin — so PutMediaSession buffers frames (UPLOAD_NO_CREDENTIALS,
 * retried) instead of signing requests AWS would refuse. A refusal that retrying cannot fix (revoked
 * certificate, wrong thing, missing policy or alias) is reported once as a 'failed' event and ends the client.
 */
export class IotCredentialsClient {
  private readonly o: IotCredentialsClientOptions;
  private readonly backoff: Backoff;
  private readonly margin: number;
  private readonly path: string;
  private credentials: IotCredentials | undefined;
  private keys: SigV4Credentials | undefined;
  private timer: TimerHandle | undefined;
  private fetching = false;
  private closed = false;
  private started = false;
  private failure: FieldcamError | undefined;
  private refreshWaiters: { resolve: (expirationMs: number) => void; reject: (err: FieldcamError) => void }[] = [];
  /** Successful fetches and failed attempts (telemetry). */
  fetches = 0;
  failures = 0;

  constructor(options: IotCredentialsClientOptions) {
    if (!THING_NAME.test(options.thingName)) throw new RangeError(`thingName: "${options.thingName}" is not 1-128 of [a-zA-Z0-9:_-]`);
    if (!ROLE_ALIAS.test(options.roleAlias)) throw new RangeError(`roleAlias: "${options.roleAlias}" is not 1-128 of [\\w=,@-]`);
    this.o = options;
    this.margin = options.safetyMarginMs ?? 60_000;
    this.backoff = new Backoff({ initialMs: options.backoff?.initialMs ?? 1000, maxMs: options.backoff?.maxMs ?? 60_000, random: options.random });
    this.path = `/role-aliases/${options.roleAlias}/credentials`;
  }

  /** Fetches the first credentials; later fetches schedule themselves. */
  start(): void {
    if (this.closed) throw new Error('IotCredentialsClient is closed');
    if (this.started) return;
    this.started = true;
    this.fetchNow();
  }

  /**
   * The credentials to sign with now, or undefined when there are none that stay valid for the safety margin.
   * An arrow property so it can be handed to the signers as it is.
   */
  readonly current = (): SigV4Credentials | undefined => {
    const c = this.credentials;
    if (c && c.expirationMs - this.o.clock.now() > this.margin) return this.keys;
    // Nothing usable and nothing on the way (the wall clock jumped past a scheduled refresh): fetch now.
    if (this.started && !this.closed && !this.failure && !this.fetching && this.backoff.attempts === 0) {
      if (this.timer !== undefined) this.o.timers.clear(this.timer);
      this.timer = undefined;
      this.fetchNow();
    }
    return undefined;
  };

  /**
   * Fetches new credentials now (a control channel `reload-credentials`): resolves with their expiration, or
   * rejects with the failure of that attempt (a retryable one is still retried on the usual schedule).
   */
  refresh(): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed || !this.started) return Promise.reject(new FieldcamError('IOT_PROVIDER_UNAVAILABLE', 'the credentials client is not running'));
    return new Promise((resolve, reject) => {
      this.refreshWaiters.push({ resolve, reject });
      if (this.fetching) return; // the fetch under way answers
      if (this.timer !== undefined) this.o.timers.clear(this.timer);
      this.timer = undefined;
      this.fetchNow();
    });
  }

  /** Epoch ms (server time) when the held credentials expire; undefined before the first fetch. */
  get expirationMs(): number | undefined {
    return this.credentials?.expirationMs;
  }

  /** The refusal that ended the client, if any. */
  get error(): FieldcamError | undefined {
    return this.failure;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.o.timers.clear(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.o.timers.clear(this.timer);
    this.timer = this.o.timers.set(ms, () => {
      this.timer = undefined;
      this.fetchNow();
    });
  }

  private fetchNow(): void {
    if (this.fetching || this.closed) return;
    this.fetching = true;
    this.fetch().then(
      (c) => this.settle(c, undefined),
      (err: unknown) => this.settle(undefined, asIotError(err)),
    );
  }

  private async fetch(): Promise<IotCredentials> {
    const o = this.o;
    const headers: [string, string][] = [
      ['host', hostHeader(o.target)],
      ['x-amzn-iot-thingname', o.thingName],
      ['user-agent', o.userAgent],
      ['accept', 'application/json'],
      ['connection', 'close'],
    ];
    const result = await httpExchange(o, o.target, { method: 'GET', path: this.path, headers }, EMPTY, o.timeoutMs);
    const date = headerValue(result.headers, 'date');
    const serverMs = date === undefined ? undefined : parseHttpDate(date);
    if (serverMs !== undefined) o.clock.observe(serverMs); // before expiry is judged: boards boot with no RTC
    if (result.status !== 200) throw iotProviderError(result);
    return parseIotCredentials(result.body);
  }

  private settle(c: IotCredentials | undefined, err: FieldcamError | undefined): void {
    this.fetching = false;
    if (this.closed) return;
    const waiters = this.refreshWaiters.length > 0 ? this.refreshWaiters.splice(0) : undefined;
    if (c) {
      const lifetime = c.expirationMs - this.o.clock.now();
      if (lifetime > this.margin) {
        this.fetches++;
        this.backoff.reset();
        this.credentials = c;
        this.keys = Object.freeze({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken });
        const refreshInMs = refreshDelayMs(lifetime);
        this.schedule(refreshInMs);
        this.o.onEvent?.({ type: 'credentials', expirationMs: c.expirationMs, refreshInMs });
        if (waiters) for (const w of waiters) w.resolve(c.expirationMs);
        return;
      }
      err = new FieldcamError(
        'IOT_BAD_RESPONSE',
        `credentials provider: the credentials expire in ${Math.round(lifetime / 1000)} s, within the ${this.margin / 1000} s safety margin`,
      );
    }
    this.failures++;
    if (waiters) for (const w of waiters) w.reject(err!);
    if (!err!.retryable) {
      this.failure = err;
      this.o.onEvent?.({ type: 'failed', code: err!.code, message: err!.message });
      return;
    }
    const delayMs = this.backoff.next();
    this.schedule(delayMs);
    this.o.onEvent?.({ type: 'retry', code: err!.code, message: err!.message, delayMs });
  }
}

/** httpExchange's transport errors in the iot area: an unverifiable server certificate is not retried. */
function asIotError(err: unknown): FieldcamError {
  if (isFieldcamError(err)) {
    // A phase deadline keeps its name (where the attempt stood); it is retried like any network failure.
    if (err.code.startsWith('IOT_') || err.code.startsWith('NET_') || err.code === 'HTTP_HEAD_TIMEOUT') return err;
    if (err.code === 'UPLOAD_TLS_VERIFY') return new FieldcamError('IOT_TLS_VERIFY', err.message);
    return new FieldcamError('IOT_PROVIDER_UNAVAILABLE', err.message);
  }
  return new FieldcamError('IOT_PROVIDER_UNAVAILABLE', String(err));
}
