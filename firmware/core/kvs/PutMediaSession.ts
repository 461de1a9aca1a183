import type { AckScanPort } from '../../io/AckScan.ts';
import type { HashPort } from '../../io/Hash.ts';
import type { SocketFactory, TlsOptions } from '../../io/Socket.ts';
import type { TimerHandle, TimerPort } from '../../io/Timer.ts';
import { FieldcamError, isFieldcamError, type ErrorCode } from '../errors.ts';
import { MAX_NALS_PER_FRAME, type Frame } from '../media/Frame.ts';
import { ViewList } from '../media/ViewList.ts';
import type { FragmentMetadata } from '../mkv/FragmentMetadata.ts';
import type { MkvBlockPort } from '../mkv/MkvBlockPort.ts';
import { MkvWriter } from '../mkv/MkvWriter.ts';
import { EMPTY_PAYLOAD_SHA256, SigV4Signer } from '../sigv4/SigV4Signer.ts';
import type { AckEvent } from './AckParser.ts';
import { actionForAckError } from './actionForAckError.ts';
import { Backoff } from '../net/Backoff.ts';
import { serviceError, type KvsControlClient, type KvsCredentials } from './KvsControlClient.ts';
import { hostHeader } from '../net/hostHeader.ts';
import type { NetDeadlines } from '../net/PhaseDeadline.ts';
import { ConnectionSupervisor } from './ConnectionSupervisor.ts';
import { EndpointResolver } from './EndpointResolver.ts';
import type { FragmentSource, ReplayCount } from './FragmentSource.ts';
import { InFlightSet } from './InFlightSet.ts';
import { LatencyStats } from './LatencyStats.ts';
import { PutMediaConnection } from './PutMediaConnection.ts';
import type { ServerClock } from '../net/ServerClock.ts';

/** Fragments sent on one connection and not yet acknowledged, tracked for ACK matching and staleness. */
const IN_FLIGHT = 256;
/**
 * Fragments sent ahead of the service's RECEIVED. Beyond this the next fragment waits in the queue instead of
 * in socket and kernel buffers, where a slow link would hide a backlog no policy can see: held there, it can be
 * dropped whole for latency, and BUFFERING never lags a long queue of bytes. Three fragments cover the
 * bandwidth-delay product of any uplink a camera uses (≥ 3 s of video in flight).
 */
const SEND_AHEAD_FRAGMENTS = 3;

export interface PutMediaSessionOptions {
  /** Where fragments come from (PoolFragmentSource: the RAM pool; a spool); the session never sees where bytes live. */
  readonly source: FragmentSource;
  readonly control: KvsControlClient;
  readonly sockets: SocketFactory;
  readonly timers: TimerPort;
  readonly hash: HashPort;
  readonly clock: ServerClock;
  readonly region: string;
  readonly streamName: string;
  readonly credentials: () => KvsCredentials | undefined;
  /** TLS for the data endpoint (CA bundle); undefined = plain HTTP (never on a device). */
  readonly dataTls?: TlsOptions;
  /**
   * Create the stream when DescribeStream says it does not exist (as kvssink does), with the MediaType of what it
   * will carry (the codec table's kvsMediaType, e.g. "video/h265"); absent: no MediaType.
   */
  readonly createStream?: { readonly retentionHours: number; readonly mediaType?: string };
  readonly maxFragmentMs: number;
  readonly endOfFragment?: boolean;
  readonly metadata?: FragmentMetadata;
  /** SegmentUID for every connection's header (16 bytes); pinned only for reproducible uploads in tests. */
  readonly segmentUid?: Uint8Array;
  /** The board's native SimpleBlock writer (MkvBlockPort); absent: the Matroska writer's TypeScript path. */
  readonly blockPort?: MkvBlockPort;
  /** The board's ACK framing walk (AckScanPort); absent: AckParser's TypeScript walk. */
  readonly ackScan?: AckScanPort;
  /** Per-phase connection deadlines (TCP, TLS, response head, first ACK); default NET_DEADLINE_DEFAULTS. */
  readonly deadlines?: NetDeadlines;
  /**
   * No BUFFERING ACK this long after sending a fragment, AND no progress on the connection (bytes leaving —
   * the socket drained after backpressure — or any ACK arriving) for as long → reset (kvs-reference.md §7.1:
   * 30 s). A slow link that keeps moving bytes is never stale.
   */
  readonly stalenessMs?: number;
  /**
   * Latency pressure (live cameras): when the un-sent backlog spans more than this (newest queued frame minus
   * the oldest un-sent one), whole oldest un-sent fragments are dropped (reason `latency`) so the newest video
   * keeps arriving on a link that cannot carry the camera. Undefined: never (a file waits instead).
   */
  readonly maxLatencyMs?: number;
  /** Rotate the connection before the service's 45-minute cap (§4.7). */
  readonly rotateMs?: number;
  /** Re-resolve the data endpoint after this long (GetDataEndpoint "every 45 minutes", §6.1). */
  readonly endpointTtlMs?: number;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** How long `stop()` waits for the last PERSISTED acknowledgement. */
  readonly stopTimeoutMs?: number;
  readonly random: () => number;
  readonly userAgent: string;
  readonly onEvent?: (event: SessionEvent) => void;
  /** Tags for one fragment only, from its first frame (an event clip's: EventGate.tagsFor); after `metadata`'s. */
  readonly fragmentTags?: (start: Frame) => Uint8Array | undefined;
  /** A fragment was opened on the wire with the metadata's current items (one call per fragment, not per frame). */
  readonly onFragmentStart?: (timecode: number) => void;
  /** Instrumentation: a frame's chunk was handed to the socket (capture-to-wire latency). */
  readonly onFrameSent?: (frame: Frame) => void;
}

export type SessionEvent =
  | { readonly type: 'resolving' | 'connecting' | 'connected' | 'rotating' | 'draining' | 'paused' }
  | { readonly type: 'ack'; readonly ack: AckEvent }
  | { readonly type: 'retry'; readonly code: ErrorCode; readonly message: string; readonly delayMs: number }
  | { readonly type: 'dropped'; readonly code: ErrorCode; readonly message: string; readonly frames: number }
  | { readonly type: 'failed'; readonly code: ErrorCode; readonly message: string };

export interface SessionStats {
  connections: number;
  fragmentsSent: number;
  fragmentsReplayed: number;
  fragmentsBuffering: number;
  fragmentsReceived: number;
  fragmentsPersisted: number;
  fragmentsRejected: number;
  /**
   * Fragments acknowledged RECEIVED whose PERSISTED was lost with the connection: not sent again (KVS has all
   * their bytes and would store a second copy; docs/reliability.md), released on reconnect.
   */
  fragmentsReceivedUnconfirmed: number;
  /**
   * Replayed fragments that had been sent whole (the next fragment had started on the wire) without a
   * RECEIVED: the service may hold them already, so each may be stored twice (docs/reliability.md). The
   * upper bound of duplicates the device can cause.
   */
  fragmentsResentWhole: number;
  /** Whole un-sent fragments dropped for latency pressure (their frames count in the pool's `latency` drops). */
  fragmentsDroppedLatency: number;
  framesSent: number;
  /** Audio packets (Frame.track > 0) handed to the connection, replays included. */
  audioPacketsSent: number;
  /** Frames released by a PERSISTED (or, with retention 0, RECEIVED) acknowledgement. */
  framesPersisted: number;
  bytesSent: number;
  idleAcks: number;
  errors: Record<string, number>;
  readonly latency: LatencyStats;
}

type State = 'idle' | 'resolving' | 'connecting' | 'streaming' | 'draining' | 'waiting' | 'paused' | 'stopped' | 'failed';
/**
 * The state compared on the per-frame path, as a module constant: this XS build copies a string literal into a new
 * chunk each time one is evaluated, a comparison included (docs/performance.md, "The upload side of the hot path").
 */
const STREAMING: State = 'streaming';

/**
 * The producer side of PutMedia (kvs-reference.md §4, §7): streams every fragment its FragmentSource holds as
 * Matroska over one long-lived chunked request, releases fragments when they are PERSISTED (RECEIVED when
 * retention is 0), and survives everything else: reconnects with jittered backoff and replays every
 * un-acknowledged fragment with its original timecodes, resets stale connections and rotates before the
 * 45-minute cap (ConnectionSupervisor), re-resolves the endpoint (EndpointResolver), corrects its clock from the
 * service's Date header. The only terminal states are a fatal auth/config error and `stop()`.
 */
export class PutMediaSession {
  readonly stats: SessionStats;
  private readonly o: PutMediaSessionOptions;
  private readonly source: FragmentSource;
  private readonly signer: SigV4Signer;
  private readonly backoff: Backoff;
  private readonly resolver: EndpointResolver;
  private readonly flights = new InFlightSet(IN_FLIGHT);
  private readonly supervisor: ConnectionSupervisor;
  /** One HTTP chunk: its size line, a frame's Matroska ranges (with the fragment's Tags and Cluster), the CRLF. */
  private readonly mkv = new ViewList(2 + 8 + 2 * MAX_NALS_PER_FRAME);
  private readonly replayCount: ReplayCount = { fragments: 0, whole: 0 };
  /** Bound once: the source calls it for every fragment it releases (no closure per acknowledgement). */
  private readonly landed = (startTimecode: number): void => this.onLanded(startTimecode);
  private readonly landing = { persisted: true, now: 0 };
  private writer: MkvWriter | undefined;
  private state: State = 'idle';
  private conn: PutMediaConnection | undefined;
  private fragmentOpen = false;
  private headerSent = false;
  private skipUntilFragment = false;
  private retryTimer: TimerHandle | undefined;
  private stopping = false;
  private closed = false;
  private inputEnded = false;
  private stopWaiters: ((err: FieldcamError | undefined) => void)[] = [];
  /** Streaming stopped by command: close the last fragment, wait for its PERSISTED, then hold no connection. */
  private pausing = false;
  private pauseWaiters: (() => void)[] = [];
  private failure: FieldcamError | undefined;
  private stopDeadline = 0;
  /** Clock offset already applied to the source's timestamps (only before the first frame is sent). */
  private rebasedOffset = 0;
  /** Start timecode of the newest fragment acknowledged RECEIVED (retention > 0) on this connection. */
  private receivedThrough = -1;

  constructor(options: PutMediaSessionOptions) {
    this.o = options;
    this.source = options.source;
    this.signer = new SigV4Signer({ hash: options.hash, service: 'kinesisvideo', region: options.region });
    this.backoff = new Backoff({ initialMs: options.backoff?.initialMs ?? 500, maxMs: options.backoff?.maxMs ?? 30_000, random: options.random });
    this.resolver = new EndpointResolver({
      control: options.control,
      timers: options.timers,
      clock: options.clock,
      streamName: options.streamName,
      ...(options.dataTls ? { dataTls: options.dataTls } : {}),
      ...(options.createStream ? { createStream: options.createStream } : {}),
      ...(options.endpointTtlMs !== undefined ? { ttlMs: options.endpointTtlMs } : {}),
    });
    this.supervisor = new ConnectionSupervisor({
      timers: options.timers,
      clock: options.clock,
      flights: this.flights,
      stalenessMs: options.stalenessMs ?? 30_000,
      rotateMs: options.rotateMs ?? 40 * 60_000,
      events: {
        onTick: (now) => this.onTick(now),
        onStale: (ms) => this.onStale(ms),
        onHealthy: () => this.relieveLatency(),
        onRotate: () => {
          this.emit({ type: 'rotating' });
          this.drain();
        },
      },
    });
    this.stats = {
      connections: 0,
      fragmentsSent: 0,
      fragmentsReplayed: 0,
      fragmentsBuffering: 0,
      fragmentsReceived: 0,
      fragmentsPersisted: 0,
      fragmentsRejected: 0,
      fragmentsReceivedUnconfirmed: 0,
      fragmentsResentWhole: 0,
      fragmentsDroppedLatency: 0,
      framesSent: 0,
      audioPacketsSent: 0,
      framesPersisted: 0,
      bytesSent: 0,
      idleAcks: 0,
      errors: {},
      latency: new LatencyStats(),
    };
  }

  /**
   * Starts resolving and streaming (the constructor connects nothing); frames queued before the connection is
   * up are kept and sent. Lifecycle as every network object (design.md §7): start() once; `stop()` is the
   * orderly end, `close()` the immediate one; nothing runs after either settled, and use after close throws.
   */
  start(): void {
    this.checkOpen();
    if (this.state !== 'idle') throw new RangeError('start() called twice');
    this.resolver.start();
    this.flights.start();
    this.supervisor.start();
    void this.resolveAndConnect();
  }

  /** The source holds new frames: send what the connection can take. */
  framesQueued(): void {
    this.checkOpen();
    this.drain();
  }

  /**
   * Ends the session now: the connection is dropped, timers cleared, held fragments stay in the source (not
   * acknowledged). A pending `stop()` rejects with UPLOAD_LAST_ACK_MISSING when something was still held.
   * Idempotent; afterwards start/stop/framesQueued throw and no callback runs.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const held = this.source.heldFrames;
    this.finishStop(
      held > 0 && this.stopWaiters.length > 0
        ? new FieldcamError('UPLOAD_LAST_ACK_MISSING', `closed with ${held} frame(s) not acknowledged as PERSISTED`)
        : undefined,
    );
  }

  private checkOpen(): void {
    if (this.closed) throw new RangeError('the PutMediaSession is closed');
  }

  /** No more input will come: send the rest, close the last fragment, wait for its PERSISTED. */
  stop(): Promise<void> {
    this.checkOpen();
    this.inputEnded = true;
    this.stopping = true;
    this.stopDeadline = this.o.clock.monotonic() + (this.o.stopTimeoutMs ?? 30_000);
    return new Promise((resolve, reject) => {
      this.stopWaiters.push((err) => (err ? reject(err) : resolve()));
      if (this.state === 'failed') this.settle(this.failure);
      else this.drain();
    });
  }

  /**
   * Streaming stopped by command (the input stopped queueing frames): sends what is queued, closes the last
   * fragment with the end-of-fragment tag, waits for its PERSISTED, then closes the connection and stays idle
   * until `resume()`. Resolves once nothing is held (or when resumed or stopped first).
   */
  pause(): Promise<void> {
    this.pausing = true;
    return new Promise((resolve) => {
      this.pauseWaiters.push(resolve);
      if (this.state === 'paused' || this.settled) this.settlePause();
      else this.drain();
    });
  }

  /** Streaming again: a new connection (a new segment); the next fragment starts at the next key frame. */
  resume(): void {
    if (!this.pausing) return;
    this.pausing = false;
    this.settlePause();
    if (this.state === 'paused') void this.resolveAndConnect();
    // draining: the orderly close reconnects; any other state is already on its way to a connection
  }

  private enterPaused(): void {
    this.setState('paused');
    this.settlePause();
  }

  private settlePause(): void {
    const waiters = this.pauseWaiters.splice(0);
    for (const w of waiters) w();
  }

  /** Stopped or failed: nothing may be started any more (read through a getter: awaits change the state). */
  private get settled(): boolean {
    return this.state === 'stopped' || this.state === 'failed';
  }

  get connected(): boolean {
    return this.state === STREAMING;
  }

  // ── resolving the stream and its data endpoint ──

  private async resolveAndConnect(): Promise<void> {
    if (this.settled) return;
    if (this.pausing && !this.stopping && this.source.heldFrames === 0) {
      this.conn = undefined;
      this.enterPaused(); // nothing to deliver: no connection while stopped
      return;
    }
    try {
      if (!this.resolver.fresh) {
        this.setState('resolving');
        await this.resolver.resolve();
        // stop() may have settled the session while the control plane answered: connect nothing then.
        if (this.settled) return;
      }
      // The control plane told us the real time. If the board clock was off and nothing has been sent yet,
      // move the frames captured so far (and the frames to come) to true producer timestamps.
      const offset = this.o.clock.offsetMs;
      if (offset !== this.rebasedOffset && this.stats.framesSent === 0) {
        this.source.rebase(offset - this.rebasedOffset);
        this.rebasedOffset = offset;
      }
      this.connect();
    } catch (err) {
      if (this.closed) return;
      this.onFailure(err);
    }
  }

  // ── the PutMedia connection ──

  private connect(): void {
    const credentials = this.o.credentials();
    if (!credentials) throw new FieldcamError('UPLOAD_NO_CREDENTIALS', 'no credentials yet');
    const target = this.resolver.target!;
    const nowMs = this.o.clock.now();
    const headers: [string, string][] = [
      ['host', hostHeader(target)],
      ['user-agent', this.o.userAgent],
      ['x-amzn-stream-name', this.o.streamName],
      ['x-amzn-fragment-timecode-type', 'ABSOLUTE'],
      ['x-amzn-producer-start-timestamp', (nowMs / 1000).toFixed(3)],
      ['x-amzn-fragment-acknowledgment-required', '1'],
      ['transfer-encoding', 'chunked'],
      ['connection', 'keep-alive'],
    ];
    const signed = this.signer.sign({ method: 'POST', path: '/putMedia', query: '', headers, payloadHash: EMPTY_PAYLOAD_SHA256 }, credentials, nowMs);
    for (const h of signed.headers) headers.push([h[0], h[1]]);
    this.setState('connecting');
    this.stats.connections++;
    this.releaseReceived();
    this.flights.clear();
    this.fragmentOpen = false;
    this.headerSent = false;
    this.skipUntilFragment = false;
    // Every connection is a new Matroska segment, and every held frame is sent again (replay) with its
    // original timecodes.
    const replayed = this.replayCount;
    replayed.fragments = replayed.whole = 0;
    this.source.replay(replayed);
    this.stats.fragmentsReplayed += replayed.fragments;
    this.stats.fragmentsResentWhole += replayed.whole;
    const conn: PutMediaConnection = new PutMediaConnection(
      {
        sockets: this.o.sockets,
        timers: this.o.timers,
        ...(this.o.deadlines ? { deadlines: this.o.deadlines } : {}),
        ...(this.o.ackScan ? { ackScan: this.o.ackScan } : {}),
      },
      target,
      headers,
      {
        onReady: () => {
          if (this.conn !== conn) return;
          this.supervisor.opened();
          this.setState('streaming');
          this.drain();
        },
        onAck: (ack) => this.conn === conn && this.onAck(ack),
        onAckError: (err) => this.count(err.code),
        onRefused: (result) => this.conn === conn && this.onFailure(serviceError('PutMedia', result)),
        onClosed: (err) => this.conn === conn && this.onClosed(err),
        onWritable: () => {
          if (this.conn !== conn) return;
          this.supervisor.progress(); // bytes left: the link is slow, not dead
          this.drain();
        },
      },
    );
    this.conn = conn;
    conn.start();
  }

  private drain(): void {
    const conn = this.conn;
    if (this.state !== STREAMING || !conn) {
      this.maybeSettle();
      return;
    }
    const source = this.source;
    if (!this.writer && source.ready) {
      const audio = source.audioTracks?.();
      this.writer = new MkvWriter({
        track: source.trackSpec(),
        maxFragmentMs: this.o.maxFragmentMs,
        ...(audio && audio.length > 0 ? { audio, missingTrack: 'allow' as const } : {}),
        ...(this.o.segmentUid ? { segmentUid: this.o.segmentUid } : {}),
        ...(this.o.blockPort ? { blockPort: this.o.blockPort } : {}),
      });
    }
    const writer = this.writer;
    if (!writer) {
      // Paused before the first frame: nothing was sent on this connection, so there is nothing to acknowledge.
      if (this.pausing && !this.stopping && source.heldFrames === 0) {
        this.conn = undefined;
        conn.close();
        this.enterPaused();
      }
      return;
    }
    if (!this.headerSent) {
      conn.beginChunk(this.mkv);
      writer.header(this.mkv); // EBML + Segment + Info + Tracks at the start of every connection (§4.3)
      conn.writeChunk(this.mkv);
      this.headerSent = true;
    }
    const flights = this.flights;
    const supervisor = this.supervisor;
    for (let frame = source.nextUnsent(); frame && conn.writable > 0 && this.state === STREAMING; frame = source.nextUnsent()) {
      if (
        frame.fragmentStart &&
        this.fragmentOpen &&
        (supervisor.rotating || flights.full || flights.unreceived() >= SEND_AHEAD_FRAGMENTS || this.cannotFollow(frame, writer))
      )
        break;
      conn.beginChunk(this.mkv);
      if (frame.fragmentStart) {
        if (this.fragmentOpen) this.checkTracks(writer);
        if (this.fragmentOpen && this.o.endOfFragment) writer.endFragment(this.mkv);
        writer.startFragment(frame.pts, this.mkv, this.o.metadata, this.o.fragmentTags?.(frame));
        this.o.metadata?.fragmentDone();
        this.o.onFragmentStart?.(frame.pts);
        this.fragmentOpen = true;
        this.skipUntilFragment = false;
        flights.add(frame.pts, this.o.clock.monotonic());
        this.stats.fragmentsSent++;
        conn.fragmentSent();
      } else if (this.skipUntilFragment) {
        source.markSent(frame);
        continue;
      }
      if (frame.track !== 0) {
        this.sendAudio(conn, writer, frame);
        continue;
      }
      try {
        writer.block(frame, this.mkv);
      } catch (err) {
        // A local Matroska/KVS rule refused the frame (e.g. a GOP longer than the fragment limit): the rest of
        // this fragment cannot be sent validly; skip to the next key frame. Bytes already sent stay valid.
        if (!isFieldcamError(err)) throw err;
        this.count(err.code);
        this.emit({ type: 'dropped', code: err.code, message: err.message, frames: 1 });
        source.markSent(frame);
        this.skipUntilFragment = true;
        continue;
      }
      conn.writeChunk(this.mkv);
      source.markSent(frame);
      this.stats.framesSent++;
      this.o.onFrameSent?.(frame);
    }
    this.stats.bytesSent = conn.bytesSent;
    this.maybeFinish();
  }

  /**
   * An audio packet (Frame.track > 0) in its own chunk. A local rule refusing it (the fragment was closed on the wire
   * by a stop, a timecode out of range) drops that packet only: the video of the fragment stays valid.
   */
  private sendAudio(conn: PutMediaConnection, writer: MkvWriter, frame: Frame): void {
    try {
      writer.audioFrame(frame, this.mkv);
    } catch (err) {
      if (!isFieldcamError(err)) throw err;
      this.mkv.clear();
      this.count(err.code);
      this.source.markSent(frame);
      return;
    }
    conn.writeChunk(this.mkv);
    this.source.markSent(frame);
    this.stats.audioPacketsSent++;
  }

  /**
   * The fragment closing on the wire lacks a track (its audio never came, every packet refused): it is already sent,
   * so it goes; KVS drops it with ACK 4011 (UPLOAD_FRAGMENT_REJECTED). Counted here, named, never a reconnect loop.
   */
  private checkTracks(writer: MkvWriter): void {
    const missing = writer.missingTrack();
    if (missing < 0) return;
    this.count('MKV_TRACK_MISSING_IN_FRAGMENT');
    this.emit({
      type: 'dropped',
      code: 'MKV_TRACK_MISSING_IN_FRAGMENT',
      message: `the fragment at ${writer.fragmentTimecode} ms has no block of audio track ${2 + missing}; KVS refuses it (ACK 4011)`,
      frames: 0,
    });
  }

  /**
   * A fragment that cannot follow this connection's goes on a new one (KVS orders fragments within a connection only,
   * ERROR 4004): the source says so (an earlier boot's spooled video, FragmentSource.needsNewConnection), or it starts
   * before the end of the last frame sent (a reboot whose clock began inside the last spooled frame), which MkvWriter
   * refuses. Without the second test that refusal ended every connection at the same frame: a reconnect loop. Only
   * a source with a new-connection rule (the spool) hands over video that can go back in time; the pool's cannot,
   * and maybeFinish skips the test for it.
   */
  private cannotFollow(next: Frame, writer: MkvWriter): boolean {
    const source = this.source;
    if (source.needsNewConnection === undefined) return false;
    return source.needsNewConnection(next) || next.pts < writer.nextFragmentFrom;
  }

  /** At stop (all sent) or rotation (fragment boundary): close the body and let the service flush ACKs. */
  private maybeFinish(): void {
    // This runs after every drain, i.e. per frame: nothing below can end the connection unless one of these holds.
    if (!this.stopping && !this.pausing && !this.supervisor.rotating && this.source.needsNewConnection === undefined) return;
    const conn = this.conn;
    if (!conn || this.state !== STREAMING) return;
    const next = this.source.nextUnsent(); // once
    const allSent = next === undefined;
    const atBoundary = allSent || next.fragmentStart;
    // A fragment that cannot follow this connection's (cannotFollow) ends it, as a rotation.
    const newSegment = !allSent && next.fragmentStart && this.fragmentOpen && this.writer !== undefined && this.cannotFollow(next, this.writer);
    if ((this.stopping && this.inputEnded && allSent) || (this.supervisor.rotating && atBoundary) || (this.pausing && allSent) || newSegment) {
      if (this.fragmentOpen && this.writer) {
        this.checkTracks(this.writer);
        conn.beginChunk(this.mkv);
        this.writer.endFragment(this.mkv); // the last fragment can be acknowledged now
        conn.writeChunk(this.mkv);
        this.fragmentOpen = false;
      }
      conn.finish();
      this.setState('draining');
    }
  }

  // ── acknowledgements ──

  private onAck(ack: AckEvent): void {
    this.emit({ type: 'ack', ack });
    const now = this.o.clock.monotonic();
    this.supervisor.progress();
    switch (ack.eventType) {
      case 'BUFFERING':
        this.stats.fragmentsBuffering++;
        this.flights.markBuffered(ack.fragmentTimecode);
        break;
      case 'RECEIVED':
        this.stats.fragmentsReceived++;
        this.flights.markReceived(ack.fragmentTimecode);
        if (this.resolver.retentionHours === 0) this.release(ack.fragmentTimecode, now);
        else if (ack.fragmentTimecode > this.receivedThrough) this.receivedThrough = ack.fragmentTimecode;
        break;
      case 'PERSISTED':
        this.stats.fragmentsPersisted++;
        this.backoff.reset();
        this.release(ack.fragmentTimecode, now);
        break;
      case 'IDLE':
        this.stats.idleAcks++;
        break;
      case 'ERROR': {
        const action = actionForAckError(ack.errorId);
        const message = `ACK ERROR ${ack.errorId} for fragment ${ack.fragmentTimecode}`;
        if (action.kind === 'drop') {
          this.count(action.code);
          this.stats.fragmentsRejected++;
          const frames = this.release(ack.fragmentTimecode, now, false);
          this.emit({ type: 'dropped', code: action.code, message, frames });
        } else if (action.kind === 'restart') {
          this.restart(new FieldcamError(action.code, message));
        } else {
          this.onFailure(new FieldcamError(action.code, message));
        }
        break;
      }
    }
    this.drain();
  }

  /** Frees every held fragment up to and including the one starting at `timecode`. Returns frames freed. */
  private release(timecode: number, now: number, persisted = true): number {
    this.landing.persisted = persisted;
    this.landing.now = now;
    const frames = this.source.release(timecode, this.landed);
    if (persisted) this.stats.framesPersisted += frames;
    this.maybeSettle();
    return frames;
  }

  /** A fragment left the source: it is no longer in flight; its round trip counts when it was acknowledged. */
  private onLanded(startTimecode: number): void {
    const sentAt = this.flights.land(startTimecode);
    if (this.landing.persisted && sentAt >= 0) this.stats.latency.add(this.landing.now - sentAt);
  }

  // ── failure, retry, staleness, rotation ──

  private onClosed(err: FieldcamError | undefined): void {
    if (this.state === 'draining' && !err) {
      // Orderly end after our last chunk (stop or rotation).
      this.conn = undefined;
      if (this.stopping && this.source.heldFrames === 0) {
        this.finishStop(undefined);
        return;
      }
      this.supervisor.rotating = false;
      if (this.pausing && this.source.heldFrames === 0) {
        this.enterPaused();
        return;
      }
      this.scheduleRetry(0, 'UPLOAD_NETWORK', this.pausing ? 'fragments not acknowledged before the pause' : 'connection rotated');
      return;
    }
    if (err && !err.retryable)
      this.onFailure(err); // e.g. the data endpoint's certificate cannot be verified
    else this.restart(err ?? new FieldcamError('UPLOAD_NETWORK', 'PutMedia connection closed'));
  }

  private restart(err: FieldcamError): void {
    this.count(err.code);
    this.conn?.close();
    this.conn = undefined;
    this.scheduleRetry(this.backoff.next(), err.code, err.message);
  }

  private onFailure(err: unknown): void {
    const e = isFieldcamError(err) ? err : new FieldcamError('UPLOAD_NETWORK', String(err));
    if (e.retryable) {
      this.restart(e);
      return;
    }
    this.count(e.code);
    this.conn?.close();
    this.conn = undefined;
    this.failure = e;
    this.setState('failed');
    this.emit({ type: 'failed', code: e.code, message: e.message });
    this.settle(e);
  }

  private scheduleRetry(delayMs: number, code: ErrorCode, message: string): void {
    if (this.settled) return;
    this.setState('waiting');
    if (delayMs > 0) this.emit({ type: 'retry', code, message, delayMs });
    if (this.retryTimer) this.o.timers.clear(this.retryTimer);
    this.retryTimer = this.o.timers.set(delayMs, () => {
      this.retryTimer = undefined;
      void this.resolveAndConnect();
    });
  }

  /** The supervisor's tick: a stop that has waited long enough ends first, whatever the connection is doing. */
  private onTick(now: number): boolean {
    if (this.stopping && now > this.stopDeadline) {
      this.finishStop(new FieldcamError('UPLOAD_LAST_ACK_MISSING', `stopped with ${this.source.heldFrames} frame(s) not acknowledged as PERSISTED`));
      return false;
    }
    return true;
  }

  private onStale(stalenessMs: number): void {
    this.emit({ type: 'retry', code: 'UPLOAD_STALE', message: `no BUFFERING ACK for ${stalenessMs} ms`, delayMs: 0 });
    this.count('UPLOAD_STALE');
    this.conn?.close();
    this.conn = undefined;
    this.scheduleRetry(0, 'UPLOAD_STALE', 'stale connection');
  }

  /**
   * Before a new connection: fragments the service acknowledged RECEIVED on the last one have all their bytes
   * at KVS, which persists what it received whether or not the connection survives (a persistence failure is
   * an ERROR ACK, which the old connection would have carried before RECEIVED's PERSISTED). Sending them again
   * would store them twice (issue 11 item 8), so they are released here, counted, not replayed. Fragments sent
   * but not RECEIVED are replayed: the service may lack their last bytes.
   */
  private releaseReceived(): void {
    if (this.receivedThrough < 0) return;
    const through = this.receivedThrough;
    this.receivedThrough = -1;
    this.landing.persisted = false; // no round trip to measure: the PERSISTED never came
    const before = this.stats.fragmentsReceivedUnconfirmed;
    let fragments = 0;
    this.stats.framesPersisted += this.source.release(through, (pts) => {
      this.flights.land(pts);
      fragments++;
    });
    this.stats.fragmentsReceivedUnconfirmed = before + fragments;
  }

  /**
   * Latency pressure: while whole un-sent fragments start more than maxLatencyMs before the newest held frame,
   * the oldest of them is dropped (never one partly sent, never the open one), so the link spends itself on
   * recent video. Not while stopping: then everything held is delivered. Not in a connection's first
   * maxLatencyMs either: what was queued while there was no connection (boot, an outage) is a backlog the pool
   * was sized to hold, not a sign of a slow link; a link that has had that long and is still that far behind
   * cannot carry the camera.
   */
  private relieveLatency(): void {
    const bound = this.o.maxLatencyMs;
    const source = this.source;
    if (bound === undefined || this.stopping || source.heldFrames === 0) return;
    if (this.o.clock.monotonic() - this.supervisor.openedAt < bound) return;
    const before = source.newestPts() - bound;
    let dropped = 0;
    let frames = 0;
    for (let n = source.dropOldestUnsent('latency', before); n > 0; n = source.dropOldestUnsent('latency', before)) {
      dropped++;
      frames += n;
    }
    if (dropped === 0) return;
    this.stats.fragmentsDroppedLatency += dropped;
    this.count('UPLOAD_LATENCY_PRESSURE');
    this.emit({
      type: 'dropped',
      code: 'UPLOAD_LATENCY_PRESSURE',
      message: `${dropped} whole un-sent fragment(s) more than ${bound} ms older than the newest frame`,
      frames,
    });
  }

  private maybeSettle(): void {
    if (this.stopping && this.inputEnded && this.source.heldFrames === 0 && this.state !== 'failed') {
      this.finishStop(undefined);
    }
  }

  private finishStop(err: FieldcamError | undefined): void {
    if (this.state === 'stopped') return;
    if (err) this.count(err.code);
    this.conn?.close();
    this.conn = undefined;
    this.setState('stopped');
    this.settle(err);
  }

  private settle(err: FieldcamError | undefined): void {
    this.supervisor.close();
    this.resolver.close();
    this.flights.close();
    if (this.retryTimer) this.o.timers.clear(this.retryTimer);
    this.retryTimer = undefined;
    const waiters = this.stopWaiters.splice(0);
    for (const w of waiters) w(err);
    this.settlePause();
  }

  private count(code: string): void {
    this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
  }

  private setState(state: State): void {
    this.state = state;
    if (!this.settled) this.supervisor.watch(state === 'streaming' || state === 'draining' ? state : 'none');
    if (state === 'resolving' || state === 'connecting' || state === 'draining' || state === 'paused') this.emit({ type: state });
    if (state === 'streaming') this.emit({ type: 'connected' });
  }

  private emit(event: SessionEvent): void {
    if (this.closed) return;
    this.o.onEvent?.(event);
  }
}
