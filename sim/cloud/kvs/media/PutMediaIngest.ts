// One PutMedia request body, as KVS ingests it (kvs-reference.md §4.4-§4.8): incremental Matroska parsing,
// fragment boundaries, the per-fragment validation rules with their ACK ErrorIds, timestamps, fragment
// numbers, and the time-driven IDLE / idle-close / connection-duration duties. Transport-agnostic: bytes
// come in through push()/end(), time through an injected clock and tick(), ACKs leave through a callback.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { END_OF_FRAGMENT_TAG_NAME } from '../../../../firmware/core/mkv/MkvWriter.ts';
import { UNKNOWN_SIZE } from '../../../../host/shared/mkv/EbmlReader.ts';
import { METADATA_LIMITS, MKV_LIMITS } from '../../../../firmware/core/mkv/mkvLimits.ts';
import { ACK_ERROR, type Ack, type AckEventType } from './Ack.ts';
import { ByteWindow } from './ByteWindow.ts';
import type { FragmentToStore } from './FragmentStore.ts';
import { checkFragmentTags, type FragmentTag } from './checkFragmentTags.ts';
import { encodeTags } from './encodeTags.ts';
import { MkvBodyParser, type MkvBodyEvents, type MkvHeader, MkvUnparseable } from './MkvBodyParser.ts';

export type TimecodeType = 'ABSOLUTE' | 'RELATIVE';

export interface PutMediaIngestOptions {
  readonly timecodeType: TimecodeType;
  /** x-amzn-producer-start-timestamp in epoch ms; required for RELATIVE. */
  readonly producerStartMs?: number;
  /** Server clock, epoch ms. */
  readonly now: () => number;
  /** ERROR 4002 above this fragment duration (config.maxFragmentMs). */
  readonly maxFragmentMs: number;
  /** ERROR 4007 when a producer timestamp is further than this ahead of the server clock. */
  readonly maxFutureMs: number;
  /** ERROR 4001 above this fragment size (default 50 MB, kvs-reference.md §6.2). */
  readonly maxFragmentBytes?: number;
  /** ERROR 4009 above this many bytes of metadata Tags before one fragment (default INGEST_LIMITS.tagsBytes). */
  readonly maxTagsBytes?: number;
  /** ERROR 4006 (and the end of the ingest) when the stream header passes this (default INGEST_LIMITS.headerBytes). */
  readonly maxHeaderBytes?: number;
  readonly idleAckMs: number;
  readonly idleCloseMs: number;
  readonly maxConnectionMs: number;
  /** The stream's next FragmentNumber: decimal, strictly increasing. */
  readonly nextFragmentNumber: () => string;
  readonly onAck: (ack: Ack) => void;
  /**
   * Stores a complete fragment (then PERSISTED); absent when the stream has no retention. Returning an ErrorId
   * answers that instead (4507: the stream was deleted meanwhile); throwing answers ERROR 5001.
   */
  readonly persist?: (fragment: IngestedFragment) => number | void | Promise<number | void>;
  /**
   * ERROR 4002 for a fragment shorter than this that is not the last of its body (default
   * INGEST_LIMITS.minFragmentMs). 0 turns the rule off.
   */
  readonly minFragmentMs?: number;
  /** An ErrorId to answer instead of accepting a complete fragment (fault injection), or undefined. */
  readonly injectError?: () => number | undefined;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

/** A fragment ingested from a PutMedia body: what the store keeps, plus its block count. */
export interface IngestedFragment extends FragmentToStore {
  readonly blocks: number;
}

export interface IngestStats {
  bytes: number;
  fragments: number;
  received: number;
  persisted: number;
  errors: Record<string, number>;
  acks: Record<AckEventType, number>;
  endOfFragmentTags: number;
}

interface Fragment {
  /** Offset of the Cluster (of the first metadata Tags until the Cluster starts). */
  start: number;
  readonly serverMs: number;
  /** Its metadata items (at most maxItems + 1 are kept: enough for ERROR 4009). */
  readonly tags: FragmentTag[];
  /** Copies of its metadata Tags elements as received, stored before the Cluster, and their total size. */
  readonly prefix: Uint8Array[];
  prefixBytes: number;
  /** Why its metadata is refused before its Cluster even starts (ERROR 4009 at its Timecode). */
  tagsProblem: string | undefined;
  /** The Cluster's header length and data size (UNKNOWN_SIZE for a live Cluster). */
  clusterHeaderLength: number;
  clusterSize: number;
  /** Where the Cluster Timecode element lies (absolute offset, length), and the absolute timecode stored. */
  timecodeAt: number;
  timecodeLength: number;
  storedTimecode: number;
  number: string | undefined;
  timecode: number | undefined;
  producerMs: number;
  error: number;
  blocks: number;
  /** Latest block end and the smallest gap between block starts, both ms from the Cluster timecode. */
  endMs: number;
  lastBlockMs: number;
  minGapMs: number;
  durationsKnown: boolean;
  readonly tracksSeen: Set<number>;
}

/** KVS: at most 3 tracks (kvs-reference.md §6.2, ACK 4012). */
const MAX_TRACKS = 3;

/** What one connection may make the ingest hold, besides a fragment (≤ 50 MB, §6.2, ERROR 4001). */
export const INGEST_LIMITS = Object.freeze({
  /**
   * Metadata Tags before one fragment: 10 items (§6.3) of a 128-byte name and a 256-byte value with their
   * element headers stay under 5 kB; 64 KiB leaves room for Targets and 8-octet sizes. Beyond: ERROR 4009.
   */
  tagsBytes: 64 * 1024,
  /**
   * Everything before the first Cluster (EBML header, Info, Tracks): at most 3 tracks (§6.2) with at most
   * 1 MiB of CodecPrivate each and 32/128-character names (§6.4, §5.2). Beyond 4 MiB: ERROR 4006, the end.
   */
  headerBytes: 4 * 1024 * 1024,
  /**
   * Minimum fragment duration, 1 s [h] (§6.2). kvs-reference.md gives it no numeric ErrorId (§16 Q2, Q19:
   * the quota page names MIN_FRAGMENT_DURATION_REACHED beside MAX_FRAGMENT_DURATION_REACHED), so it is
   * answered with 4002, the fragment-duration error. The last fragment of a body is exempt: producers end a
   * session with whatever the last fragment holds (§5.4, EoFr "at the end of the session").
   */
  minFragmentMs: 1000,
  /**
   * At most 5 fragments per second per stream [h] (§6.2), counted in producer time (5 fragment starts
   * within any 1000 ms): a producer catching up after an outage sends its backlog faster than real time,
   * which the quota is not about. No numeric ErrorId exists either (§16 Q3): 4002 as well.
   */
  fragmentsPerSecond: 5,
} as const);

const PHASE = Object.freeze({ OPEN: 0, FAILED: 1, CLOSED: 2 } as const);
type Phase = (typeof PHASE)[keyof typeof PHASE];

/**
 * The state machine of one PutMedia body. Per fragment it acknowledges BUFFERING once the Cluster's Timecode
 * is read (a few bytes after the fragment's first byte; the ACK needs that timecode), RECEIVED when the
 * Cluster ends (next Cluster, a level-1 Tags such as the end-of-fragment tag, or the end of the body), then
 * PERSISTED once `persist` stored it; or ERROR with the §4.5 ErrorId, after which the next fragment is
 * processed normally. Metadata Tags belong to the Cluster that follows them. Bytes that cannot be parsed as
 * this connection's one Matroska Segment (EBML errors, a second Segment or EBML header, Info or Tracks after
 * the first fragment) end the ingest: ERROR 4006 and `failed`, since nothing after them can be attributed
 * to fragments reliably.
 */
export class PutMediaIngest {
  readonly stats: IngestStats = {
    bytes: 0,
    fragments: 0,
    received: 0,
    persisted: 0,
    errors: {},
    endOfFragmentTags: 0,
    acks: { BUFFERING: 0, RECEIVED: 0, PERSISTED: 0, ERROR: 0, IDLE: 0 },
  };

  /** Why `tick()` asked to close: the connection-duration limit (after ERROR 4003) or no bytes for idleCloseMs. */
  closeReason: 'max-duration' | 'idle' | undefined;

  private readonly o: PutMediaIngestOptions;
  private readonly maxFragmentBytes: number;
  private readonly maxTagsBytes: number;
  private readonly maxHeaderBytes: number;
  private readonly window = new ByteWindow();
  private readonly parser: MkvBodyParser;
  private phase: Phase = PHASE.OPEN;
  private readonly startedAt: number;
  private lastByteAt: number;
  private lastIdleAt = -Infinity;
  private arrivalMs = 0;

  private mkvHeader: MkvHeader | undefined;
  private current: Fragment | undefined;
  private pending: Fragment | undefined;
  /** A level-1 Tags being read; `oversize` once it (with the fragment's earlier Tags) passed maxTagsBytes. */
  private tagsAt: { offset: number; serverMs: number; oversize: boolean } | undefined;
  private lastTimecode = -1;
  /** Producer timestamps of the latest accepted fragments (at most fragmentsPerSecond). */
  private readonly recentStarts: number[] = [];
  /** A complete fragment shorter than minFragmentMs: stored if the body ends next, ERROR 4002 if a Cluster follows. */
  private short: { readonly f: Fragment; readonly fragment: IngestedFragment } | undefined;
  private readonly minFragmentMs: number;
  /** Fragments handed to an asynchronous `persist` and not yet answered; who waits for none. */
  private inflight = 0;
  private settledWaiters: (() => void)[] = [];

  constructor(options: PutMediaIngestOptions) {
    if (options.timecodeType !== 'ABSOLUTE' && options.timecodeType !== 'RELATIVE') {
      throw new RangeError(`timecodeType must be ABSOLUTE or RELATIVE, got ${String(options.timecodeType)}`);
    }
    if (options.timecodeType === 'RELATIVE' && !Number.isFinite(options.producerStartMs)) {
      throw new RangeError('producerStartMs is required for RELATIVE timecodes');
    }
    this.o = options;
    this.maxFragmentBytes = options.maxFragmentBytes ?? MKV_LIMITS.fragmentBytesCeiling;
    this.maxTagsBytes = options.maxTagsBytes ?? INGEST_LIMITS.tagsBytes;
    this.maxHeaderBytes = options.maxHeaderBytes ?? INGEST_LIMITS.headerBytes;
    this.minFragmentMs = options.minFragmentMs ?? INGEST_LIMITS.minFragmentMs;
    const events: MkvBodyEvents = {
      header: (h) => {
        this.mkvHeader = h;
      },
      tagsStart: (offset) => this.onTagsStart(offset),
      tags: (items, _count, end) => this.onTags(items, end),
      clusterStart: (offset, headerLength, size) => this.onClusterStart(offset, headerLength, size),
      clusterTimecode: (timecode, offset, length) => this.onClusterTimecode(timecode, offset, length),
      block: (track, relative, duration) => this.onBlock(track, relative, duration),
      blockInvalid: (why) => this.fragmentError(this.current!, ACK_ERROR.INVALID_MKV_DATA, why),
      clusterEnd: (end) => this.onClusterEnd(end),
    };
    this.parser = new MkvBodyParser(events, this.window);
    this.startedAt = options.now();
    this.lastByteAt = this.startedAt;
  }

  /** False once the body was unparseable, the connection timed out, or it ended: stop feeding and close. */
  get open(): boolean {
    return this.phase === PHASE.OPEN;
  }

  /** Body bytes this ingest holds right now: the open fragment, the next one's metadata, a partial header. */
  get heldBytes(): number {
    return this.window.held + (this.pending?.prefixBytes ?? 0);
  }

  get failed(): boolean {
    return this.phase === PHASE.FAILED;
  }

  /** Body bytes as they arrive (kept by reference until their fragment is stored: do not modify them). */
  push(bytes: Uint8Array): void {
    if (this.phase !== PHASE.OPEN) return;
    this.arrivalMs = this.lastByteAt = this.o.now();
    this.stats.bytes += bytes.length;
    this.window.append(bytes);
    this.parse(() => this.parser.push(bytes));
    this.bound();
    this.trim();
  }

  /** End of the body: the open fragment is complete (RECEIVED, PERSISTED); nothing else will be sent. */
  end(): void {
    if (this.phase !== PHASE.OPEN) return;
    this.parse(() => this.parser.end());
    if (this.phase === PHASE.OPEN) {
      this.phase = PHASE.CLOSED;
      this.settleShort(undefined);
    }
    this.pending = undefined;
  }

  /** The connection broke: the open fragment is dropped unacknowledged (the producer replays it). */
  abort(): void {
    this.phase = PHASE.CLOSED;
    this.current = this.pending = this.short = undefined;
  }

  /** Resolves once every fragment handed to an asynchronous `persist` was answered (PERSISTED or ERROR). */
  settled(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((done) => this.settledWaiters.push(done));
  }

  /**
   * Time-driven duties (kvs-reference.md §4.7, §4.8 items 7-8): ERROR 4003 at the connection-duration limit,
   * close `idleCloseMs` after the last byte, IDLE every `idleAckMs` without bytes. True when the caller must
   * close the connection now.
   */
  tick(): boolean {
    if (this.phase !== PHASE.OPEN) return true;
    const now = this.o.now();
    if (now - this.startedAt >= this.o.maxConnectionMs) {
      const f = this.current;
      this.ack('ERROR', f?.timecode, f?.number, ACK_ERROR.CONNECTION_DURATION_REACHED);
      this.closeReason = 'max-duration';
      this.abort();
      return true;
    }
    if (now - this.lastByteAt >= this.o.idleCloseMs) {
      this.log('idle-close', { idleMs: now - this.lastByteAt });
      this.closeReason = 'idle';
      this.abort();
      return true;
    }
    if (now - Math.max(this.lastByteAt, this.lastIdleAt) >= this.o.idleAckMs) {
      this.lastIdleAt = now;
      this.ack('IDLE');
    }
    return false;
  }

  /** When `tick()` next has something to do, epoch ms (server clock). */
  nextTickAt(): number {
    return Math.min(
      this.startedAt + this.o.maxConnectionMs,
      this.lastByteAt + this.o.idleCloseMs,
      Math.max(this.lastByteAt, this.lastIdleAt) + this.o.idleAckMs,
    );
  }

  // ── parser events (during push/end) ──

  private onTagsStart(offset: number): void {
    this.tagsAt = { offset, serverMs: this.arrivalMs, oversize: false };
  }

  private onTags(received: FragmentTag[], end: number): void {
    let items = received;
    const at = this.tagsAt!;
    this.tagsAt = undefined;
    let copy: Uint8Array | undefined;
    if (items.some((item) => item.name === END_OF_FRAGMENT_TAG_NAME)) {
      // The end-of-fragment tag is a signal, not metadata: it closes the Cluster before it (already ended by
      // this Tags) and is neither stored nor served (kvs-reference.md §5.4; §5.6: "AWS" names are reserved,
      // not producer metadata). Its bytes are never kept; producer metadata sharing its Tags element is kept,
      // re-encoded without it.
      this.stats.endOfFragmentTags++;
      items = items.filter((item) => item.name !== END_OF_FRAGMENT_TAG_NAME);
      if (items.length === 0) return;
      copy = encodeTags(items.map((item) => [item.name, item.value] as const));
    }
    // Metadata Tags belong to the Cluster that follows (kvs-reference.md §5.6; the PIC prepends them). They
    // are copied out as they end, so whatever lies between them and the Cluster (a Void, an end-of-fragment
    // tag) is neither held nor stored.
    const f = this.pending ?? (this.pending = this.newFragment(at.offset, at.serverMs));
    const size = copy?.length ?? end - at.offset;
    if (at.oversize || f.tagsProblem !== undefined || f.prefixBytes + size > this.maxTagsBytes) {
      f.tagsProblem ??= `metadata Tags of more than ${this.maxTagsBytes} bytes`;
      f.prefix.length = 0;
      return;
    }
    for (const item of items) if (f.tags.length <= METADATA_LIMITS.maxItems) f.tags.push(item);
    f.prefix.push(copy ?? this.window.slice(at.offset, end));
    f.prefixBytes += size;
  }

  private onClusterStart(offset: number, headerLength: number, size: number): void {
    const f = this.pending ?? this.newFragment(offset, this.arrivalMs);
    f.start = offset;
    f.clusterHeaderLength = headerLength;
    f.clusterSize = size;
    this.current = f;
    this.pending = undefined;
    this.stats.fragments++;
  }

  private onClusterTimecode(timecode: number, offset: number, length: number): void {
    const f = this.current!;
    if (f.number !== undefined) {
      return this.fragmentError(f, ACK_ERROR.INVALID_MKV_DATA, 'a second Timecode, or a Timecode after the first block');
    }
    f.timecode = timecode;
    f.timecodeAt = offset;
    f.timecodeLength = length;
    const ms = this.parser.toMs(timecode);
    f.producerMs = Math.round(this.o.timecodeType === 'ABSOLUTE' ? ms : this.o.producerStartMs! + ms);
    // KVS stores absolute timecodes (kvs-reference.md §5.3): a RELATIVE Cluster is stored and served with
    // x-amzn-producer-start-timestamp added, so GetMedia never goes backwards across sessions.
    f.storedTimecode = this.o.timecodeType === 'ABSOLUTE' ? timecode : this.parser.toUnits(this.o.producerStartMs!) + timecode;
    this.settleShort(f.producerMs);
    f.number = this.o.nextFragmentNumber();
    this.ack('BUFFERING', timecode, f.number);
    const header = this.mkvHeader!;
    if (header.trackEntries > MAX_TRACKS) {
      return this.fragmentError(f, ACK_ERROR.MORE_THAN_ALLOWED_TRACKS, `${header.trackEntries} tracks; at most ${MAX_TRACKS}`);
    }
    const tagProblem = f.tagsProblem ?? checkFragmentTags(f.tags);
    if (tagProblem) return this.fragmentError(f, ACK_ERROR.FRAGMENT_METADATA_LIMIT_REACHED, tagProblem);
    if (timecode <= this.lastTimecode) {
      return this.fragmentError(f, ACK_ERROR.FRAGMENT_TIMECODE_NOT_MONOTONIC, `timecode ${timecode} after ${this.lastTimecode}`);
    }
    this.lastTimecode = timecode;
    const now = this.o.now();
    if (f.producerMs > now + this.o.maxFutureMs) {
      return this.fragmentError(
        f,
        ACK_ERROR.INVALID_PRODUCER_TIMESTAMP,
        `producer timestamp ${f.producerMs} is ${f.producerMs - now} ms ahead of the server clock`,
      );
    }
    const starts = this.recentStarts;
    const perSecond = INGEST_LIMITS.fragmentsPerSecond;
    if (starts.length === perSecond && f.producerMs - starts[0]! < 1000) {
      return this.fragmentError(f, ACK_ERROR.FRAGMENT_DURATION_REACHED, `more than ${perSecond} fragments within one second of producer time`);
    }
    starts.push(f.producerMs);
    if (starts.length > perSecond) starts.shift();
  }

  private onBlock(track: number, relative: number, duration: number | undefined): void {
    const f = this.current!;
    if (f.number === undefined) return this.fragmentError(f, ACK_ERROR.INVALID_MKV_DATA, 'a block before the Cluster Timecode');
    if (f.error) return;
    const t = this.mkvHeader!.tracks.find((x) => x.number === track);
    if (!t) return this.fragmentError(f, ACK_ERROR.TRACK_NUMBER_MISMATCH, `a block for track ${track}, which Tracks does not declare`);
    const relMs = this.parser.toMs(relative);
    const durationMs = duration !== undefined ? this.parser.toMs(duration) : t.defaultDurationNs > 0 ? t.defaultDurationNs / 1e6 : undefined;
    if (durationMs === undefined) f.durationsKnown = false;
    const end = relMs + (durationMs ?? 0);
    if (end > this.o.maxFragmentMs) {
      return this.fragmentError(f, ACK_ERROR.FRAGMENT_DURATION_REACHED, `the fragment lasts at least ${end} ms; at most ${this.o.maxFragmentMs}`);
    }
    if (f.lastBlockMs >= 0 && relMs > f.lastBlockMs) f.minGapMs = Math.min(f.minGapMs, relMs - f.lastBlockMs);
    f.lastBlockMs = relMs;
    f.endMs = Math.max(f.endMs, end);
    f.tracksSeen.add(track);
    f.blocks++;
  }

  private onClusterEnd(end: number): void {
    const f = this.current!;
    this.current = undefined;
    if (!f.error && f.prefixBytes + end - f.start > this.maxFragmentBytes) this.tooLarge(f, end);
    if (!f.error && f.timecode === undefined) this.fragmentError(f, ACK_ERROR.INVALID_MKV_DATA, 'a Cluster without a Timecode');
    if (!f.error) {
      const missing = this.mkvHeader!.tracks.find((t) => !f.tracksSeen.has(t.number));
      if (missing) this.fragmentError(f, ACK_ERROR.FRAMES_MISSING_FOR_TRACK, `no frames for track ${missing.number}`);
    }
    if (f.error) return;
    const injected = this.o.injectError?.();
    if (injected !== undefined && injected !== ACK_ERROR.ARCHIVAL_ERROR) return this.fragmentError(f, injected, 'injected fault');
    this.ack('RECEIVED', f.timecode, f.number);
    this.stats.received++;
    if (injected === ACK_ERROR.ARCHIVAL_ERROR) return this.fragmentError(f, injected, 'injected fault');
    const durationMs = f.durationsKnown ? f.endMs : f.endMs + (Number.isFinite(f.minGapMs) ? f.minGapMs : 0);
    const fragment: IngestedFragment = {
      number: f.number!,
      timecode: f.storedTimecode,
      producerTimestampMs: f.producerMs,
      serverTimestampMs: f.serverMs,
      durationMs: Math.round(durationMs),
      header: this.mkvHeader!.bytes,
      bytes: this.o.persist ? this.fragmentBytes(f, end) : new Uint8Array(0),
      tags: f.tags,
      blocks: f.blocks,
    };
    if (durationMs < this.minFragmentMs) {
      // Its blocks span less than the minimum, but frame durations are estimates: the next fragment's start
      // decides (settleShort), and if none follows it is the last one, which may be short.
      this.short = { f, fragment };
      return;
    }
    this.store(f, fragment);
  }

  /**
   * A fragment whose blocks span less than minFragmentMs, once what follows is known: the body ended
   * (`nextStartMs` undefined: stored), or the next fragment starts at `nextStartMs` (producer time): stored
   * if that is at least minFragmentMs after its own start, else ERROR 4002.
   */
  private settleShort(nextStartMs: number | undefined): void {
    const s = this.short;
    if (!s) return;
    this.short = undefined;
    const lasted = nextStartMs === undefined ? Infinity : nextStartMs - s.f.producerMs;
    if (lasted >= this.minFragmentMs) return this.store(s.f, s.fragment);
    this.fragmentError(
      s.f,
      ACK_ERROR.FRAGMENT_DURATION_REACHED,
      `the next fragment starts ${lasted} ms after this one; at least ${this.minFragmentMs} (only the last fragment of a body may be shorter)`,
    );
  }

  /** Hands a complete fragment to `persist`: PERSISTED when it stored it (now, or when its promise resolves). */
  private store(f: Fragment, fragment: IngestedFragment): void {
    if (!this.o.persist) return;
    let result: number | void | Promise<number | void>;
    try {
      result = this.o.persist(fragment);
    } catch (err) {
      return this.persistFailed(f, err);
    }
    if (!(result instanceof Promise)) return this.persisted(f, result);
    this.inflight++;
    result
      .then(
        (refused) => this.persisted(f, refused),
        (err: unknown) => this.persistFailed(f, err),
      )
      .finally(() => {
        if (--this.inflight > 0) return;
        for (const done of this.settledWaiters.splice(0)) done();
      });
  }

  private persisted(f: Fragment, refused: number | void): void {
    if (typeof refused === 'number') return this.fragmentError(f, refused, 'the store refused the fragment');
    this.ack('PERSISTED', f.timecode, f.number);
    this.stats.persisted++;
  }

  private persistFailed(f: Fragment, err: unknown): void {
    this.log('persist-failed', { fragment: f.number, error: err instanceof Error ? err.message : String(err) });
    this.fragmentError(f, ACK_ERROR.ARCHIVAL_ERROR, 'persisting failed');
  }

  // ── fragments ──

  private parse(feed: () => void): void {
    try {
      feed();
    } catch (err) {
      if (err instanceof FieldcamError || err instanceof MkvUnparseable) this.fatal(err.message);
      else throw err;
    }
  }

  private newFragment(start: number, serverMs: number): Fragment {
    return {
      start,
      serverMs,
      tags: [],
      prefix: [],
      prefixBytes: 0,
      tagsProblem: undefined,
      clusterHeaderLength: 0,
      clusterSize: UNKNOWN_SIZE,
      timecodeAt: 0,
      timecodeLength: 0,
      storedTimecode: 0,
      number: undefined,
      timecode: undefined,
      producerMs: 0,
      error: 0,
      blocks: 0,
      endMs: 0,
      lastBlockMs: -1,
      minGapMs: Infinity,
      durationsKnown: true,
      tracksSeen: new Set(),
    };
  }

  /**
   * Holds one connection to what KVS bounds (kvs-reference.md §6.2, §6.3, §6.4): the header, the metadata
   * Tags of the next fragment, the open fragment. Past a bound the bytes are no longer kept.
   */
  private bound(): void {
    if (this.phase !== PHASE.OPEN) return;
    const at = this.parser.reportedPosition;
    if (!this.parser.headerComplete && at > this.maxHeaderBytes) {
      this.fatal(`no Cluster within the first ${this.maxHeaderBytes} bytes: the stream header is larger than KVS allows`);
      return;
    }
    const t = this.tagsAt;
    if (t && !t.oversize && (this.pending?.prefixBytes ?? 0) + at - t.offset > this.maxTagsBytes) t.oversize = true;
    const f = this.current;
    if (f && !f.error && f.prefixBytes + at - f.start > this.maxFragmentBytes) this.tooLarge(f, at);
  }

  private tooLarge(f: Fragment, end: number): void {
    this.fragmentError(f, ACK_ERROR.FRAGMENT_SIZE_REACHED, `the fragment has ${f.prefixBytes + end - f.start} bytes; at most ${this.maxFragmentBytes}`);
  }

  /** What is stored: the metadata Tags, then the Cluster with its Timecode made absolute when it was RELATIVE. */
  private fragmentBytes(f: Fragment, end: number): Uint8Array {
    let cluster = this.window.slice(f.start, end);
    if (f.storedTimecode !== f.timecode) cluster = withTimecode(cluster, f, f.storedTimecode);
    if (f.prefix.length === 0) return cluster;
    const out = new Uint8Array(f.prefixBytes + cluster.length);
    let n = 0;
    for (const p of [...f.prefix, cluster]) {
      out.set(p, n);
      n += p.length;
    }
    return out;
  }

  /** A fragment gets its FragmentNumber and BUFFERING ACK before any ERROR about it. */
  private ensureBuffered(f: Fragment): void {
    if (f.number !== undefined) return;
    f.number = this.o.nextFragmentNumber();
    this.ack('BUFFERING', f.timecode, f.number);
  }

  private fragmentError(f: Fragment, errorId: number, why: string): void {
    if (f.error) return;
    this.ensureBuffered(f);
    f.error = errorId;
    this.stats.errors[errorId] = (this.stats.errors[errorId] ?? 0) + 1;
    this.log('fragment-error', { fragment: f.number, errorId, why });
    this.ack('ERROR', f.timecode, f.number, errorId);
  }

  private fatal(why: string): void {
    const f = this.current;
    this.log('unparseable', { why, offset: this.parser.position });
    if (f && !f.error) {
      this.fragmentError(f, ACK_ERROR.INVALID_MKV_DATA, why);
    } else if (!f) {
      this.stats.errors[ACK_ERROR.INVALID_MKV_DATA] = (this.stats.errors[ACK_ERROR.INVALID_MKV_DATA] ?? 0) + 1;
      this.ack('ERROR', undefined, undefined, ACK_ERROR.INVALID_MKV_DATA);
    }
    this.settleShort(-Infinity);
    this.phase = PHASE.FAILED;
    this.current = this.pending = this.tagsAt = undefined;
    this.window.discardBefore(this.window.position);
  }

  private ack(type: AckEventType, timecode?: number, number?: string, errorId?: number): void {
    this.stats.acks[type]++;
    const ack: { EventType: AckEventType; FragmentTimecode?: number; FragmentNumber?: string; ErrorId?: number } = { EventType: type };
    if (timecode !== undefined) ack.FragmentTimecode = timecode;
    if (number !== undefined) ack.FragmentNumber = number;
    if (errorId !== undefined) ack.ErrorId = errorId;
    this.o.onAck(ack);
  }

  /**
   * Keeps only what is still needed: the header until it is built, the open fragment, Tags being read, and
   * an element header split across reads (the next Cluster or Tags starts at its first byte, which an
   * earlier read delivered).
   */
  private trim(): void {
    let keep = this.parser.headerComplete ? this.parser.reportedPosition : 0;
    if (this.current && !this.current.error) keep = Math.min(keep, this.current.start);
    if (this.tagsAt && !this.tagsAt.oversize) keep = Math.min(keep, this.tagsAt.offset);
    this.window.discardBefore(keep);
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.o.log?.(event, fields);
  }
}

/** Cluster Timecode element ID (RFC 9559) and its rewritten form: 8-octet size, 8-octet value. */
const TIMECODE_ID = 0xe7;
const TIMECODE_ELEMENT_BYTES = 10;

/**
 * `cluster` (as received, from its ID to its end) with its Timecode element replaced by one holding `value`
 * in 8 octets. A known-size Cluster gets its size rewritten (8 octets) to match; a live one keeps its header.
 */
function withTimecode(cluster: Uint8Array, f: Fragment, value: number): Uint8Array {
  const tcStart = f.timecodeAt - f.start;
  const before = cluster.subarray(f.clusterHeaderLength, tcStart);
  const after = cluster.subarray(tcStart + f.timecodeLength);
  const dataBytes = before.length + TIMECODE_ELEMENT_BYTES + after.length;
  const known = f.clusterSize !== UNKNOWN_SIZE;
  const headerBytes = known ? 4 + 8 : f.clusterHeaderLength;
  const out = new Uint8Array(headerBytes + dataBytes);
  if (known) {
    out.set(cluster.subarray(0, 4)); // the Cluster ID
    out[4] = 0x01; // an 8-octet size VINT
    writeBigEndian(out, 5, 7, dataBytes);
  } else {
    out.set(cluster.subarray(0, headerBytes));
  }
  let n = headerBytes;
  out.set(before, n);
  n += before.length;
  out[n] = TIMECODE_ID;
  out[n + 1] = 0x88; // size 8
  writeBigEndian(out, n + 2, 8, value);
  out.set(after, n + TIMECODE_ELEMENT_BYTES);
  return out;
}

function writeBigEndian(out: Uint8Array, at: number, width: number, value: number): void {
  let v = value;
  for (let i = width - 1; i >= 0; i--) {
    out[at + i] = v % 256;
    v = Math.floor(v / 256);
  }
}
