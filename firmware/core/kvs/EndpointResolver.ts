import type { TlsOptions } from '../../io/Socket.ts';
import type { TimerHandle, TimerPort } from '../../io/Timer.ts';
import { FieldcamError, isFieldcamError } from '../errors.ts';
import type { HttpTarget } from '../net/httpExchange.ts';
import type { ServerClock } from '../net/ServerClock.ts';
import type { KvsControlClient } from './KvsControlClient.ts';

export interface EndpointResolverOptions {
  readonly control: KvsControlClient;
  readonly timers: TimerPort;
  readonly clock: ServerClock;
  readonly streamName: string;
  /** TLS for the data endpoint (CA bundle); undefined = plain HTTP (never on a device). */
  readonly dataTls?: TlsOptions;
  /** Create the stream when DescribeStream says it does not exist (as kvssink does), with the codec table's MediaType. */
  readonly createStream?: { readonly retentionHours: number; readonly mediaType?: string };
  /** Re-resolve the data endpoint after this long (GetDataEndpoint "every 45 minutes", kvs-reference.md §6.1). */
  readonly ttlMs?: number;
}

/** A new stream is CREATING for a few seconds on AWS: polled once a second, this many times at most. */
const ACTIVE_POLLS = 30;

/**
 * The stream's PutMedia data endpoint and retention (kvs-reference.md §13): DescribeStream (CreateStream when
 * allowed and missing, then polls until ACTIVE), GetDataEndpoint; the answer is kept for `ttlMs`. Lifecycle of
 * the stateful I/O objects (design.md §7): start() once, close() ends it — a resolution in progress then never
 * settles, no timer runs, and use after close throws.
 */
export class EndpointResolver {
  private readonly o: EndpointResolverOptions;
  private started = false;
  private closed = false;
  private resolvedAt = 0;
  private sleepTimer: TimerHandle | undefined;
  /** The data endpoint; undefined until the first resolution. */
  target: HttpTarget | undefined;
  /** The stream's DataRetentionInHours (0: fragments are released on RECEIVED, there is no PERSISTED). */
  retentionHours = 1;

  constructor(options: EndpointResolverOptions) {
    this.o = options;
  }

  start(): void {
    this.checkOpen();
    if (this.started) throw new RangeError('start() called twice');
    this.started = true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.sleepTimer) this.o.timers.clear(this.sleepTimer);
    this.sleepTimer = undefined;
  }

  /** True while the last resolution is younger than the TTL. */
  get fresh(): boolean {
    this.checkOpen();
    return this.target !== undefined && this.o.clock.monotonic() - this.resolvedAt <= (this.o.ttlMs ?? 45 * 60_000);
  }

  /** Resolves the stream and its data endpoint now; throws the control plane's coded errors. */
  async resolve(): Promise<HttpTarget> {
    this.checkOpen();
    if (!this.started) throw new RangeError('resolve() before start()');
    const name = this.o.streamName;
    const control = this.o.control;
    type Described = { StreamInfo?: { Status?: string; DataRetentionInHours?: number } };
    let info: Described['StreamInfo'];
    try {
      info = (await this.live(control.call<Described>('/describeStream', { StreamName: name }))).StreamInfo;
    } catch (err) {
      if (!isFieldcamError(err, 'UPLOAD_STREAM_NOT_FOUND') || !this.o.createStream) throw err;
      const { retentionHours, mediaType } = this.o.createStream;
      await this.live(
        control.call('/createStream', { StreamName: name, DataRetentionInHours: retentionHours, ...(mediaType ? { MediaType: mediaType } : {}) }),
      );
      info = (await this.live(control.call<Described>('/describeStream', { StreamName: name }))).StreamInfo;
    }
    for (let polls = 0; info?.Status !== 'ACTIVE'; polls++) {
      if (info?.Status === 'DELETING' || polls > ACTIVE_POLLS)
        throw new FieldcamError('UPLOAD_STREAM_NOT_ACTIVE', `stream ${name} is ${info?.Status ?? 'unknown'}`);
      await this.sleep(1000);
      info = (await this.live(control.call<Described>('/describeStream', { StreamName: name }))).StreamInfo;
    }
    const retentionHours = info.DataRetentionInHours ?? 1;
    const { DataEndpoint } = await this.live(control.call<{ DataEndpoint?: string }>('/getDataEndpoint', { StreamName: name, APIName: 'PUT_MEDIA' }));
    const m = /^(https?):\/\/([^/:]+)(?::(\d+))?\/?$/.exec(DataEndpoint ?? '');
    if (!m) throw new FieldcamError('UPLOAD_BAD_RESPONSE', `GetDataEndpoint returned '${String(DataEndpoint)}'`);
    const tls = m[1] === 'https';
    this.retentionHours = retentionHours;
    this.target = { host: m[2]!, port: m[3] ? Number(m[3]) : tls ? 443 : 80, ...(tls ? { tls: { ...this.o.dataTls } } : {}) };
    this.resolvedAt = this.o.clock.monotonic();
    return this.target;
  }

  private checkOpen(): void {
    if (this.closed) throw new RangeError('the EndpointResolver is closed');
  }

  /** A control-plane answer that arrives after close() is not acted on: the resolution never settles. */
  private async live<T>(call: Promise<T>): Promise<T> {
    const value = await call;
    if (this.closed) return new Promise<T>(() => {});
    return value;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepTimer = this.o.timers.set(ms, () => {
        this.sleepTimer = undefined;
        resolve();
      });
    });
  }
}
