// One PutMedia request body, as KVS ingests it (kvs-reference.md §4.4-§4.8): incremental Matroska parsing,
// fragment boundaries, the per-fragment validation rules with their ACK ErrorIds, timestamps, fragment
// numbers, and the time-driven IDLE / idle-close / connection-duration duties. Transport-agnostic: bytes
// come in through push()/end(), time through an injected clock and tick(), ACKs leave through a callback.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { END_OF_FRAGMENT_TAG_NAME } from '../../../../firmware/core/mkv/MkvWriter.ts';
import { MKV_LIMITS } from '../../../../firmware/core/mkv/mkvLimits.ts';
import { ACK_ERROR, type Ack, type AckEventType } from './Ack.ts';
import { ByteWindow } from './ByteWindow.ts';
import type { FragmentToStore } from './FragmentStore.ts';
import { checkFragmentTags, type FragmentTag } from './checkFragmentTags.ts';
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
  readonly persist?: (fragment: IngestedFragment) => number | void;
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
  readonly start: number;
  readonly serverMs: number;
  readonly tags: FragmentTag[];
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
    bytes: 0, fragments: 0, received: 0, persisted: 0, errors: {}, endOfFragmentTags: 0,
    acks: { BUFFERING: 0, RECEIVED: 0, PERSISTED: 0, ERROR: 0, IDLE: 0 },
  };

  /** Why `tick()` asked to close: the connection-duration limit (after ERROR 4003) or no bytes for idleCloseMs. */
  closeReason: 'max-duration' | 'idle' | undefined;

  private readonly o: PutMediaIngestOptions;
  private readonly maxFragmentBytes: number;
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
  private tagsAt: { offset: number; serverMs: number } | undefined;
  private lastTimecode = -1;

  constructor(options: PutMediaIngestOptions) {
    if (options.timecodeType !== 'ABSOLUTE' && options.timecodeType !== 'RELATIVE') {
      throw new RangeError(`timecodeType must be ABSOLUTE or RELATIVE, got ${String(options.timecodeType)}`);
    }
    if (options.timecodeType === 'RELATIVE' && !Number.isFinite(options.producerStartMs)) {
      throw new RangeError('producerStartMs is required for RELATIVE timecodes');
    }
    this.o = options;
    this.maxFragmentBytes = options.maxFragmentBytes ?? MKV_LIMITS.fragmentBytesCeiling;
    const events: MkvBodyEvents = {
      header: (h) => {
        this.mkvHeader = h;
      },
      tagsStart: (offset) => this.onTagsStart(offset),
      tags: (items) => this.onTags(items),
      clusterStart: (offset) => this.onClusterStart(offset),
      clusterTimecode: (timecode) => this.onClusterTimecode(timecode),
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
    const f = this.current;
    if (f && !f.error && this.parser.position - f.start > this.maxFragmentBytes) this.tooLarge(f, this.parser.position);
    this.trim();
  }

  /** End of the body: the open fragment is complete (RECEIVED, PERSISTED); nothing else will be sent. */
  end(): void {
    if (this.phase !== PHASE.OPEN) return;
    this.parse(() => this.parser.end());
    if (this.phase === PHASE.OPEN) this.phase = PHASE.CLOSED;
    this.pending = undefined;
  }

  /** The connection broke: the open fragment is dropped unacknowledged (the producer replays it). */
  abort(): void {
    this.phase = PHASE.CLOSED;
    this.current = this.pending = undefined;
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
    this.tagsAt = { offset, serverMs: this.arrivalMs };
  }

  private onTags(items: FragmentTag[]): void {
    const at = this.tagsAt!;
    this.tagsAt = undefined;
    if (items.some((item) => item.name === END_OF_FRAGMENT_TAG_NAME)) {
      // The end-of-fragment tag only closes the Cluster before it (already ended by this Tags); not stored.
      this.stats.endOfFragmentTags++;
      return;
    }
    // Metadata Tags belong to the Cluster that follows (kvs-reference.md §5.6; the PIC prepends them).
    const f = this.pending ?? (this.pending = this.newFragment(at.offset, at.serverMs));
    f.tags.push(...items);
  }

  private onClusterStart(offset: number): void {
    this.current = this.pending ?? this.newFragment(offset, this.arrivalMs);
    this.pending = undefined;
    this.stats.fragments++;
  }

  private onClusterTimecode(timecode: number): void {
    const f = this.current!;
    if (f.number !== undefined) {
      return this.fragmentError(f, ACK_ERROR.INVALID_MKV_DATA, 'a second Timecode, or a Timecode after the first block');
    }
    f.timecode = timecode;
    const ms = this.parser.toMs(timecode);
    f.producerMs = Math.round(this.o.timecodeType === 'ABSOLUTE' ? ms : this.o.producerStartMs! + ms);
    f.number = this.o.nextFragmentNumber();
    this.ack('BUFFERING', timecode, f.number);
    const header = this.mkvHeader!;
    if (header.trackEntries > MAX_TRACKS) {
      return this.fragmentError(f, ACK_ERROR.MORE_THAN_ALLOWED_TRACKS, `${header.trackEntries} tracks; at most ${MAX_TRACKS}`);
    }
    const tagProblem = checkFragmentTags(f.tags);
    if (tagProblem) return this.fragmentError(f, ACK_ERROR.FRAGMENT_METADATA_LIMIT_REACHED, tagProblem);
    if (timecode <= this.lastTimecode) {
      return this.fragmentError(f, ACK_ERROR.FRAGMENT_TIMECODE_NOT_MONOTONIC, `timecode ${timecode} after ${this.lastTimecode}`);
    }
    this.lastTimecode = timecode;
    const now = this.o.now();
    if (f.producerMs > now + this.o.maxFutureMs) {
      return this.fragmentError(f, ACK_ERROR.INVALID_PRODUCER_TIMESTAMP, `producer timestamp ${f.producerMs} is ${f.producerMs - now} ms ahead of the server clock`);
    }
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
    if (!f.error && end - f.start > this.maxFragmentBytes) this.tooLarge(f, end);
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
    if (!this.o.persist) return;
    const durationMs = f.durationsKnown ? f.endMs : f.endMs + (Number.isFinite(f.minGapMs) ? f.minGapMs : 0);
    let refused: number | void;
    try {
      refused = this.o.persist({
        number: f.number!, timecode: f.timecode!, producerTimestampMs: f.producerMs, serverTimestampMs: f.serverMs,
        durationMs: Math.round(durationMs), header: this.mkvHeader!.bytes, bytes: this.window.slice(f.start, end), tags: f.tags, blocks: f.blocks,
      });
    } catch (err) {
      this.log('persist-failed', { fragment: f.number, error: (err as Error).message });
      return this.fragmentError(f, ACK_ERROR.ARCHIVAL_ERROR, 'persisting failed');
    }
    if (typeof refused === 'number') return this.fragmentError(f, refused, 'the store refused the fragment');
    this.ack('PERSISTED', f.timecode, f.number);
    this.stats.persisted++;
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
      start, serverMs, tags: [], number: undefined, timecode: undefined, producerMs: 0, error: 0, blocks: 0,
      endMs: 0, lastBlockMs: -1, minGapMs: Infinity, durationsKnown: true, tracksSeen: new Set(),
    };
  }

  private tooLarge(f: Fragment, bytes: number): void {
    this.fragmentError(f, ACK_ERROR.FRAGMENT_SIZE_REACHED, `the fragment has ${bytes - f.start} bytes; at most ${this.maxFragmentBytes}`);
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
    this.phase = PHASE.FAILED;
    this.current = this.pending = undefined;
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
    if (this.pending) keep = Math.min(keep, this.pending.start);
    if (this.tagsAt) keep = Math.min(keep, this.tagsAt.offset);
    this.window.discardBefore(keep);
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.o.log?.(event, fields);
  }
}
