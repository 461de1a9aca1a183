// POST /putMedia as kvs-reference.md §4.8 specifies it: validate the headers, authenticate (the streamed
// body is signed as the SHA-256 of the empty string), check the stream, the throttle fault, the PutMedia
// rate and the one-connection-per-stream rule; then answer 200 with a chunked JSON response BEFORE reading
// the body, and stream one ACK per response chunk while PutMediaIngest parses the body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorizeStream } from '../../auth/authorizeStream.ts';
import { EMPTY_PAYLOAD_SHA256 } from '../../../../firmware/core/sigv4/SigV4Signer.ts';
import { CloudError, type CloudContext, type Route, type StreamRecord } from '../../types.ts';
import { PATTERNS } from '../InputValidator.ts';
import { ACK_ERROR, formatAck, type Ack } from './Ack.ts';
import { fragmentStoreFor } from './fragmentStoreFor.ts';
import { type IngestStats, PutMediaIngest, type TimecodeType } from './PutMediaIngest.ts';

/** PutMedia requests per second per stream (kvs-reference.md §4.7, [h]). */
const PUT_MEDIA_TPS = 5;
/** Kept per running cloud for `putMediaConnections()` (tests, `fieldcam cloud` status). */
const HISTORY = 64;

export interface PutMediaConnection {
  readonly stream: string;
  readonly startedAt: number;
  endedAt: number | undefined;
  /** end (body terminator), unparseable, idle, max-duration, dropped (fault), client-closed, handed-over. */
  reason: string | undefined;
  readonly stats: IngestStats;
}

interface CloudMediaState {
  /** The connection that owns each stream (by ARN). */
  readonly active: Map<string, PutMediaConnection>;
  /** The previous owner during a hand-over, and the timer that ends its grace. */
  readonly handingOver: Map<string, { readonly connection: PutMediaConnection; readonly timer: NodeJS.Timeout }>;
  /** How to close an open connection (flush its ACKs, end it). */
  readonly closers: WeakMap<PutMediaConnection, (reason: string) => void>;
  readonly history: PutMediaConnection[];
  readonly calls: Map<string, number[]>;
}

const states = new WeakMap<CloudContext, CloudMediaState>();

function state(ctx: CloudContext): CloudMediaState {
  let s = states.get(ctx);
  if (!s) states.set(ctx, (s = { active: new Map(), handingOver: new Map(), closers: new WeakMap(), history: [], calls: new Map() }));
  return s;
}

/** Open and recent PutMedia connections of a running cloud, with their counters (newest last). */
export function putMediaConnections(ctx: CloudContext): { active: PutMediaConnection[]; recent: PutMediaConnection[] } {
  const s = state(ctx);
  return { active: [...[...s.handingOver.values()].map((h) => h.connection), ...s.active.values()], recent: [...s.history] };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function invalid(message: string): CloudError {
  return new CloudError(400, 'InvalidArgumentException', message);
}

interface PutMediaRequest {
  readonly name: string | undefined;
  readonly arn: string | undefined;
  readonly timecodeType: TimecodeType;
  readonly producerStartMs: number | undefined;
}

/** The request headers of §4.2, or 400 InvalidArgumentException naming what is wrong. */
function parseHeaders(req: IncomingMessage): PutMediaRequest {
  const name = header(req, 'x-amzn-stream-name');
  const arn = header(req, 'x-amzn-stream-arn');
  if ((name === undefined) === (arn === undefined)) {
    throw invalid('Exactly one of the x-amzn-stream-name and x-amzn-stream-arn headers must be given.');
  }
  if (name !== undefined && (name.length < 1 || name.length > 256 || !PATTERNS.streamName.test(name))) {
    throw invalid(`x-amzn-stream-name '${name}' must be 1-256 characters of [a-zA-Z0-9_.-].`);
  }
  if (arn !== undefined && (arn.length > 1024 || !PATTERNS.streamArn.test(arn))) throw invalid(`x-amzn-stream-arn '${arn}' is not a stream ARN.`);
  const timecodeType = header(req, 'x-amzn-fragment-timecode-type');
  if (timecodeType !== 'ABSOLUTE' && timecodeType !== 'RELATIVE') {
    throw invalid(`x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE, got '${timecodeType ?? ''}'.`);
  }
  const start = header(req, 'x-amzn-producer-start-timestamp');
  let producerStartMs: number | undefined;
  if (start !== undefined) {
    // Epoch seconds with a fraction, e.g. 1732012345.678 (§4.2).
    if (!/^\d{1,12}(\.\d{1,9})?$/.test(start)) throw invalid(`x-amzn-producer-start-timestamp '${start}' is not epoch seconds.`);
    producerStartMs = Math.round(Number(start) * 1000);
  }
  if (timecodeType === 'RELATIVE' && producerStartMs === undefined) {
    throw invalid('x-amzn-producer-start-timestamp is required with RELATIVE fragment timecodes.');
  }
  if (!/(^|,)\s*chunked\s*$/i.test(header(req, 'transfer-encoding') ?? '')) {
    throw invalid('The PutMedia body must be sent with transfer-encoding: chunked.');
  }
  return { name, arn, timecodeType, producerStartMs };
}

function findStream(ctx: CloudContext, r: PutMediaRequest): StreamRecord {
  const stream = r.arn !== undefined ? ctx.streams.getByArn(r.arn) : ctx.streams.get(r.name!);
  if (!stream || stream.Status !== 'ACTIVE') {
    throw new CloudError(404, 'ResourceNotFoundException', 'The requested stream is not found or not active.');
  }
  return stream;
}

/** 5 PutMedia calls per second per stream; a refused call is not counted (§4.7). */
function admit(ctx: CloudContext, stream: StreamRecord): void {
  if (ctx.config.enforceTps === false) return;
  const calls = state(ctx).calls;
  // The quota is per second of the cloud's time: under config.timeScale a device's second is shorter.
  const now = performance.now() * (ctx.config.timeScale ?? 1);
  const recent = (calls.get(stream.StreamARN) ?? []).filter((t) => now - t < 1000);
  if (recent.length >= PUT_MEDIA_TPS) {
    throw new CloudError(400, 'ClientLimitExceededException', `More than ${PUT_MEDIA_TPS} PutMedia requests per second on stream ${stream.StreamName}.`);
  }
  recent.push(now);
  calls.set(stream.StreamARN, recent);
}

/**
 * ACKs in order, one response chunk each, optionally delayed by `faults.ackDelayMs` (every ACK is held that
 * long from when it was produced, and never overtakes an earlier one). When the response's buffer is full
 * (the client does not read its ACKs) `backpressure(true)` asks the caller to stop reading the body, and
 * `backpressure(false)` to go on once it drained: a client that sends without reading cannot make the
 * cloud queue ACKs without end.
 */
class AckWriter {
  private readonly queue: { text: string; dueAt: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastDue = 0;
  private readonly res: ServerResponse;
  private readonly delay: () => number;
  private readonly backpressure: (full: boolean) => void;
  private full = false;
  private onDrained: (() => void) | undefined;

  constructor(res: ServerResponse, delay: () => number, backpressure: (full: boolean) => void) {
    this.res = res;
    this.delay = delay;
    this.backpressure = backpressure;
  }

  send(ack: Ack): void {
    const now = Date.now();
    this.lastDue = Math.max(now + this.delay(), this.lastDue);
    this.queue.push({ text: formatAck(ack), dueAt: this.lastDue });
    this.flush();
  }

  /** Calls `done` once every queued ACK is written. */
  whenDrained(done: () => void): void {
    this.onDrained = done;
    this.flush();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
    this.onDrained = undefined;
  }

  private flush(): void {
    if (this.timer) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0]!.dueAt <= now) {
      const text = this.queue.shift()!.text;
      if (this.res.writableEnded || this.res.destroyed || this.res.write(text) || this.full) continue;
      this.full = true;
      this.backpressure(true);
      this.res.once('drain', () => {
        this.full = false;
        this.backpressure(false);
      });
    }
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.queue[0]!.dueAt - now);
    } else if (this.onDrained) {
      const done = this.onDrained;
      this.onDrained = undefined;
      done();
    }
  }
}

/**
 * A new PutMedia on a stream that has one open is a hand-over, not a refusal. The producer SDKs rotate their
 * token by opening the next connection a few seconds before closing the previous one (kvs-reference.md
 * §4.7: 45-minute connections, token rotation; §16 Q12/E8: "newest throttled" in the guide vs "fragments
 * interleave" in the API reference), so KVS must accept that overlap. The rule here: the new connection
 * owns the stream at once; the previous one is still read, acknowledged and stored for a grace of the
 * longest fragment (config.maxFragmentMs, §6.2), enough to finish the fragment it had open, then its
 * response is ended and it is closed. A third connection while two are open is refused with
 * ConnectionLimitExceededException. Fragments keep one FragmentNumber order per stream.
 */
function handOver(ctx: CloudContext, stream: StreamRecord, previous: PutMediaConnection): void {
  const s = state(ctx);
  const graceMs = ctx.config.maxFragmentMs / (ctx.config.timeScale ?? 1);
  const timer = setTimeout(() => s.closers.get(previous)?.('handed-over'), graceMs);
  timer.unref();
  s.handingOver.set(stream.StreamARN, { connection: previous, timer });
  ctx.log('put-media-hand-over', { stream: stream.StreamName, graceMs: ctx.config.maxFragmentMs });
}

async function putMedia(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const request = parseHeaders(req);
  await ctx.authenticate(req, EMPTY_PAYLOAD_SHA256);
  authorizeStream(ctx, req, 'PutMedia', { name: request.name, arn: request.arn });
  const stream = findStream(ctx, request);
  const faults = ctx.faults;
  if (faults.throttle !== undefined && faults.throttle > 0) {
    faults.throttle--;
    throw new CloudError(400, 'ClientLimitExceededException', 'Rate exceeded (throttle fault).');
  }
  admit(ctx, stream);
  const s = state(ctx);
  if (s.handingOver.has(stream.StreamARN)) {
    // Two open already (an owner and the one it took over from): the newest is refused (§4.7, §4.6).
    throw new CloudError(400, 'ConnectionLimitExceededException', `Stream ${stream.StreamName} already has a PutMedia connection.`);
  }

  const store = fragmentStoreFor(ctx, stream);
  const retained = stream.DataRetentionInHours > 0;
  let finished = false;
  const acks = new AckWriter(
    res,
    () => faults.ackDelayMs ?? 0,
    (full) => {
      if (full) req.pause();
      else if (!finished) req.resume();
    },
  );
  const ingest = new PutMediaIngest({
    timecodeType: request.timecodeType,
    ...(request.producerStartMs !== undefined ? { producerStartMs: request.producerStartMs } : {}),
    now: () => ctx.now(),
    maxFragmentMs: ctx.config.maxFragmentMs,
    maxFutureMs: ctx.config.maxFutureMs,
    idleAckMs: ctx.config.idleAckMs,
    idleCloseMs: ctx.config.idleCloseMs,
    maxConnectionMs: ctx.config.maxConnectionMs,
    nextFragmentNumber: () => store.nextFragmentNumber(ctx.now()),
    onAck: (ack) => acks.send(ack),
    ...(retained
      ? {
          persist: (fragment) => {
            if (ctx.streams.getByArn(stream.StreamARN) === undefined) return ACK_ERROR.STREAM_DELETED;
            // Written on the thread pool, queued per stream: the event loop (other streams) never waits.
            return store.append(fragment).then(() => undefined);
          },
        }
      : {}),
    injectError: () => {
      const fault = faults.errorAck;
      if (!fault || fault.remaining <= 0) return undefined;
      fault.remaining--;
      if (fault.remaining <= 0) faults.errorAck = undefined;
      return fault.errorId;
    },
    log: (event, fields) => ctx.log(`put-media-${event}`, { stream: stream.StreamName, ...fields }),
  });
  const connection: PutMediaConnection = { stream: stream.StreamName, startedAt: ctx.now(), endedAt: undefined, reason: undefined, stats: ingest.stats };
  const previous = s.active.get(stream.StreamARN);
  if (previous) handOver(ctx, stream, previous);
  s.active.set(stream.StreamARN, connection);

  // The status line and headers go out before any body byte is read (§4.4). Node answers
  // `expect: 100-continue` itself unless the server listens for 'checkContinue'; then it is ours to send.
  const sent100 = (res as unknown as { _sent100?: boolean })._sent100 === true;
  if (/100-continue/i.test(header(req, 'expect') ?? '') && !sent100) res.writeContinue();
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  let timer: NodeJS.Timeout | undefined;
  const release = (reason: string): void => {
    if (connection.reason === undefined) connection.reason = reason;
    if (connection.endedAt !== undefined) return;
    connection.endedAt = ctx.now();
    clearTimeout(timer);
    if (s.active.get(stream.StreamARN) === connection) s.active.delete(stream.StreamARN);
    const handing = s.handingOver.get(stream.StreamARN);
    if (handing?.connection === connection) {
      clearTimeout(handing.timer);
      s.handingOver.delete(stream.StreamARN);
    }
    s.history.push(connection);
    if (s.history.length > HISTORY) s.history.shift();
    ctx.log('put-media', {
      stream: stream.StreamName,
      reason: connection.reason,
      ms: connection.endedAt - connection.startedAt,
      bytes: ingest.stats.bytes,
      fragments: ingest.stats.fragments,
      persisted: ingest.stats.persisted,
      errors: ingest.stats.errors,
      acks: ingest.stats.acks,
    });
  };
  /** Ends the response after the queued ACKs; `close` also ends the connection (the body may still be coming). */
  const finish = (reason: string, close: boolean): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    connection.reason ??= reason;
    // Fragments still being written get their PERSISTED (or ERROR) before the response ends (§4.8 item 9).
    void ingest.settled().then(() =>
      acks.whenDrained(() => {
        if (close) {
          req.pause();
          res.end(() => {
            req.socket.end();
            setTimeout(() => req.socket.destroy(), 1000).unref();
          });
        } else {
          res.end();
        }
        release(reason);
      }),
    );
  };
  // The ingest measures in ctx.now(), which runs config.timeScale times faster than setTimeout's clock: the
  // idle ACK, idle close and connection limit must come after their duration in the device's time too.
  const schedule = (): void => {
    clearTimeout(timer);
    if (finished) return;
    timer = setTimeout(
      guarded(() => {
        if (ingest.tick()) finish(ingest.closeReason ?? 'closed', true);
        else schedule();
      }),
      Math.max(0, (ingest.nextTickAt() - ctx.now()) / (ctx.config.timeScale ?? 1)),
    );
  };

  /**
   * Listeners run after the route handler returned, outside the server's error handling: a bug must end this
   * connection (logged, ERROR 5000), never the whole cloud.
   */
  const guarded =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        ctx.log('internal-error', { path: '/putMedia', stream: stream.StreamName, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
        if (!finished) {
          ingest.abort();
          acks.send({ EventType: 'ERROR', ErrorId: ACK_ERROR.INTERNAL_ERROR });
          finish('internal-error', true);
        }
      }
    };

  s.closers.set(connection, (reason) => {
    if (finished) return;
    ingest.abort();
    finish(reason, true);
  });
  schedule();
  let received = 0;
  req.on(
    'data',
    guarded((chunk: Buffer) => {
      if (finished) return;
      const limit = faults.dropAfterBytes;
      if (limit !== undefined && received + chunk.length > limit) {
        // Fault: the connection breaks mid-body; complete fragments are kept, the open one is lost.
        ingest.push(chunk.subarray(0, Math.max(0, limit - received)));
        faults.dropAfterBytes = undefined;
        ingest.abort();
        finished = true;
        acks.cancel();
        connection.reason = 'dropped';
        req.socket.destroy();
        release('dropped');
        return;
      }
      received += chunk.length;
      ingest.push(chunk);
      if (!ingest.open) finish('unparseable', true);
    }),
  );
  req.on(
    'end',
    guarded(() => {
      if (finished) return;
      ingest.end();
      finish(ingest.failed ? 'unparseable' : 'end', ingest.failed);
    }),
  );
  // A client that goes away mid-body: Node reports it as an 'error' on the request; 'close' below cleans up.
  req.on('error', () => {});
  res.on('close', () => {
    if (!finished) {
      finished = true;
      ingest.abort();
      acks.cancel();
    }
    release('client-closed');
  });
}

export const putMediaRoute: Route = Object.freeze({ method: 'POST', path: '/putMedia', handler: putMedia } as const);
