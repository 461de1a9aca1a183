// One PutMedia request body, as KVS ingests it (kvs-reference.md §4.4-§4.8): incremental Matroska parsing,
// fragment boundaries, the per-fragment validation rules with their ACK ErrorIds, timestamps, fragment
// numbers, and the time-driven IDLE / idle-close / connection-duration duties. Transport-agnostic: bytes
// come in through push()/end(), time through an injected clock and tick(), ACKs leave through a callback.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { EBML_EVENT, EbmlReader, ebmlInt, ebmlUint, UNKNOWN_SIZE } from '../../../../firmware/core/mkv/EbmlReader.ts';
import { EBML_IDS } from '../../../../firmware/core/mkv/ebmlIds.ts';
import { END_OF_FRAGMENT_TAG_NAME } from '../../../../firmware/core/mkv/MkvWriter.ts';
import { MKV_LIMITS } from '../../../../firmware/core/mkv/mkvLimits.ts';
import { ACK_ERROR, type Ack, type AckEventType } from './Ack.ts';
import { ByteWindow } from './ByteWindow.ts';
import { checkFragmentTags, type FragmentTag } from './checkFragmentTags.ts';

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

export interface IngestedFragment {
  readonly number: string;
  /** Cluster Timecode as received (TimecodeScale units); the ACKs' FragmentTimecode. */
  readonly timecode: number;
  readonly producerTimestampMs: number;
  /** Arrival of the fragment's first byte (server clock). */
  readonly serverTimestampMs: number;
  readonly durationMs: number;
  /** EBML header + Segment (unknown size) + Info + Tracks of this connection: one object for all its fragments. */
  readonly header: Uint8Array;
  /** The fragment: its metadata Tags and its Cluster, as received. */
  readonly bytes: Uint8Array;
  readonly tags: readonly FragmentTag[];
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

/** What a track declares that the ingest needs: its number and, for durations, its DefaultDuration. */
interface Track {
  number: number;
  defaultDurationNs: number;
}

interface Fragment {
  readonly start: number;
  readonly serverMs: number;
  tags: FragmentTag[];
  tagProblem: string | undefined;
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

interface TagsInProgress {
  readonly offset: number;
  readonly serverMs: number;
  readonly items: FragmentTag[];
  readonly open: { name: string | undefined; nameBytes: number; value: string; valueBytes: number }[];
}

const I = EBML_IDS;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
const BLOCK_DURATION = 0x9b;
/** Matroska TimecodeScale default, ns (RFC 9559 \Segment\Info\TimestampScale). */
const DEFAULT_TIMECODE_SCALE = 1_000_000;
/** KVS: at most 3 tracks (kvs-reference.md §6.2, ACK 4012). */
const MAX_TRACKS = 3;
/** Block head read: track number VINT (≤ 8) + int16 timecode + flags. */
const BLOCK_HEAD = 11;
const SEGMENT_UNKNOWN_SIZE = Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const DOC_TYPES: ReadonlySet<string> = new Set(['matroska', 'webm']);
const ascii = new TextDecoder('utf-8', { fatal: false });

const PHASE = Object.freeze({ OPEN: 0, FAILED: 1, CLOSED: 2 } as const);
type Phase = (typeof PHASE)[keyof typeof PHASE];

class Unparseable extends Error {}

/**
 * The state machine of one PutMedia body. Per fragment it acknowledges BUFFERING once the Cluster's Timecode
 * is read (a few bytes after the fragment's first byte; the ACK needs that timecode), RECEIVED when the
 * Cluster ends (next Cluster, a level-1 Tags such as the end-of-fragment tag, or the end of the body), then
 * PERSISTED once `persist` stored it; or ERROR with the §4.5 ErrorId, after which the next fragment is
 * processed normally. Bytes that cannot be parsed as this connection's one Matroska Segment (EBML errors,
 * a second Segment or EBML header, Info or Tracks after the first fragment) end the ingest: ERROR 4006 and
 * `failed`, since nothing after them can be attributed to fragments reliably.
 */
export class PutMediaIngest {
  readonly stats: IngestStats = {
    bytes: 0, fragments: 0, received: 0, persisted: 0, errors: {}, endOfFragmentTags: 0,
    acks: { BUFFERING: 0, RECEIVED: 0, PERSISTED: 0, ERROR: 0, IDLE: 0 },
  };

  private readonly o: PutMediaIngestOptions;
  private readonly maxFragmentBytes: number;
  private readonly reader = new EbmlReader({ maxDepth: 12, maxElementBytes: 2 ** 40, maxValueBytes: 512 });
  private readonly window = new ByteWindow();
  private phase: Phase = PHASE.OPEN;
  private readonly startedAt: number;
  private lastByteAt: number;
  private lastIdleAt = -Infinity;
  private arrivalMs = 0;

  // Header of the connection.
  private sawEbml = false;
  private sawSegment = false;
  /** Offset of the EBML, Info or Tracks element being read (they do not nest). */
  private levelStart = 0;
  private ebmlRange: [number, number] | undefined;
  private infoRange: [number, number] | undefined;
  private tracksRange: [number, number] | undefined;
  private headerBytes: Uint8Array | undefined;
  private timecodeScale = DEFAULT_TIMECODE_SCALE;
  private readonly tracks: Track[] = [];
  private trackInProgress: Track | undefined;
  private trackEntries = 0;

  // Fragments.
  private current: Fragment | undefined;
  private pending: Fragment | undefined;
  private tagsInProgress: TagsInProgress | undefined;
  private blockGroup: { track: number; relMs: number; durationMs: number | undefined } | undefined;
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
    this.startedAt = options.now();
    this.lastByteAt = this.startedAt;
  }

  /** Why `tick()` asked to close: the connection-duration limit (after ERROR 4003) or no bytes for idleCloseMs. */
  closeReason: 'max-duration' | 'idle' | undefined;

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
    this.run(() => this.reader.push(bytes));
    this.trim();
  }

  /** End of the body: the open fragment is complete (RECEIVED, PERSISTED); nothing else will be sent. */
  end(): void {
    if (this.phase !== PHASE.OPEN) return;
    this.run(() => this.reader.end());
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

  // ── parsing ──

  private run(feed: () => void): void {
    try {
      feed();
      const r = this.reader;
      for (let e = r.next(); e !== EBML_EVENT.NEED_MORE && e !== EBML_EVENT.DONE; e = r.next()) {
        if (e === EBML_EVENT.START) this.onStart();
        else if (e === EBML_EVENT.VALUE) this.onValue();
        else this.onEnd();
      }
    } catch (err) {
      if (err instanceof FieldcamError || err instanceof Unparseable) this.fatal(err.message);
      else throw err;
    }
  }

  private onStart(): void {
    const r = this.reader;
    const id = r.id;
    const parent = r.depth === 0 ? 0 : r.openId(r.depth - 1)!;
    if (this.current && r.size !== UNKNOWN_SIZE && r.offset + r.headerLength + r.size - this.current.start > this.maxFragmentBytes) {
      this.fragmentError(this.current, ACK_ERROR.FRAGMENT_SIZE_REACHED, 'fragment larger than the maximum');
    }
    switch (parent) {
      case 0:
        if (id === I.EBML) {
          if (this.sawEbml) throw new Unparseable('a second EBML header: one PutMedia body carries one Matroska stream');
          this.sawEbml = true;
          this.levelStart = r.offset;
          r.descend();
        } else if (id === I.Segment) {
          if (!this.sawEbml) throw new Unparseable('the body does not start with an EBML header');
          if (this.sawSegment) throw new Unparseable('a second Segment: one PutMedia body carries exactly one');
          this.sawSegment = true;
          r.descend();
        } else {
          if (!this.sawEbml) throw new Unparseable(`the body starts with element 0x${id.toString(16)}, not an EBML header`);
          r.skip();
        }
        return;
      case I.EBML:
        if (id === I.DocType) r.read();
        else r.skip();
        return;
      case I.Segment:
        return this.onLevel1(id);
      case I.Info:
        if (id === I.TimecodeScale) r.read();
        else r.skip();
        return;
      case I.Tracks:
        if (id === I.TrackEntry) {
          this.trackEntries++;
          this.trackInProgress = { number: 0, defaultDurationNs: 0 };
          r.descend();
        } else r.skip();
        return;
      case I.TrackEntry:
        if (id === I.TrackNumber || id === I.DefaultDuration) r.read();
        else r.skip();
        return;
      case I.Tags:
        if (id === I.Tag) r.descend();
        else r.skip();
        return;
      case I.Tag:
      case I.SimpleTag:
        if (id === I.SimpleTag) {
          this.tagsInProgress!.open.push({ name: undefined, nameBytes: 0, value: '', valueBytes: 0 });
          r.descend();
        } else if (parent === I.SimpleTag && id === I.TagName) {
          r.readHead(257);
        } else if (parent === I.SimpleTag && id === I.TagString) {
          r.readHead(257);
        } else r.skip();
        return;
      case I.Cluster:
        if (id === I.Timecode) r.read();
        else if (id === I.SimpleBlock) r.readHead(BLOCK_HEAD);
        else if (id === BLOCK_GROUP) {
          this.blockGroup = undefined;
          r.descend();
        } else r.skip();
        return;
      case BLOCK_GROUP:
        if (id === BLOCK) r.readHead(BLOCK_HEAD);
        else if (id === BLOCK_DURATION) r.read();
        else r.skip();
        return;
      default:
        r.skip();
    }
  }

  private onLevel1(id: number): void {
    const r = this.reader;
    switch (id) {
      case I.Info:
      case I.Tracks:
        if (this.headerBytes) throw new Unparseable(`${id === I.Info ? 'Info' : 'Tracks'} after the first fragment: the header may not change within a PutMedia body`);
        if ((id === I.Info && this.infoRange) || (id === I.Tracks && this.tracksRange)) throw new Unparseable('a second Info or Tracks element');
        this.levelStart = r.offset;
        r.descend();
        return;
      case I.Tags:
        this.tagsInProgress = { offset: r.offset, serverMs: this.arrivalMs, items: [], open: [] };
        r.descend();
        return;
      case I.Cluster:
        this.startCluster(r.offset);
        r.descend();
        return;
      default:
        r.skip(); // SeekHead, Cues, Chapters, Attachments, Void: not part of any fragment
    }
  }

  private onValue(): void {
    const r = this.reader;
    const v = r.value;
    switch (r.id) {
      case I.DocType: {
        const docType = ascii.decode(v).replace(/\0+$/, '');
        if (!DOC_TYPES.has(docType)) throw new Unparseable(`DocType "${docType}" is not matroska or webm`);
        return;
      }
      case I.TimecodeScale:
        this.timecodeScale = ebmlUint(v);
        if (this.timecodeScale < 1) throw new Unparseable('TimecodeScale 0');
        return;
      case I.TrackNumber:
        this.trackInProgress!.number = ebmlUint(v);
        return;
      case I.DefaultDuration:
        this.trackInProgress!.defaultDurationNs = ebmlUint(v);
        return;
      case I.TagName: {
        const top = this.tagsInProgress!.open.at(-1)!;
        top.name = ascii.decode(v);
        top.nameBytes = r.size;
        return;
      }
      case I.TagString: {
        const top = this.tagsInProgress!.open.at(-1)!;
        top.value = ascii.decode(v);
        top.valueBytes = r.size;
        return;
      }
      case I.Timecode:
        return this.onClusterTimecode(ebmlUint(v));
      case I.SimpleBlock:
      case BLOCK:
        return this.onBlockHead(v, r.id === BLOCK);
      case BLOCK_DURATION:
        if (this.blockGroup) this.blockGroup.durationMs = this.toMs(ebmlUint(v));
        return;
      default:
    }
  }

  private onEnd(): void {
    const r = this.reader;
    switch (r.id) {
      case I.EBML:
        this.ebmlRange = [this.levelStart, r.offset];
        return;
      case I.Info:
        this.infoRange = [this.levelStart, r.offset];
        return;
      case I.TrackEntry: {
        const t = this.trackInProgress!;
        this.trackInProgress = undefined;
        if (t.number < 1) throw new Unparseable('a TrackEntry without a TrackNumber');
        if (this.tracks.some((x) => x.number === t.number)) throw new Unparseable(`two tracks numbered ${t.number}`);
        this.tracks.push(t);
        return;
      }
      case I.Tracks:
        this.tracksRange = [this.levelStart, r.offset];
        return;
      case I.SimpleTag: {
        const t = this.tagsInProgress!.open.pop()!;
        this.tagsInProgress!.items.push({ name: t.name ?? '', nameBytes: t.name === undefined ? 0 : t.nameBytes, value: t.value, valueBytes: t.valueBytes });
        return;
      }
      case I.Tags:
        return this.onTagsEnd();
      case BLOCK_GROUP:
        if (this.blockGroup && this.current) this.addBlock(this.current, this.blockGroup.track, this.blockGroup.relMs, this.blockGroup.durationMs);
        this.blockGroup = undefined;
        return;
      case I.Cluster:
        return this.completeFragment(r.offset);
      default:
    }
  }

  // ── fragments ──

  private startCluster(offset: number): void {
    if (!this.headerBytes) this.buildHeader();
    const f = this.pending ?? this.newFragment(offset, this.arrivalMs);
    this.pending = undefined;
    this.current = f;
    this.stats.fragments++;
  }

  private newFragment(start: number, serverMs: number): Fragment {
    return {
      start, serverMs, tags: [], tagProblem: undefined, number: undefined, timecode: undefined, producerMs: 0, error: 0, blocks: 0,
      endMs: 0, lastBlockMs: -1, minGapMs: Infinity, durationsKnown: true, tracksSeen: new Set(),
    };
  }

  private buildHeader(): void {
    if (!this.ebmlRange) throw new Unparseable('a Cluster before the EBML header ended');
    if (!this.tracksRange) throw new Unparseable('a Cluster before the Tracks element: the track numbers are unknown');
    const parts = [this.window.slice(...this.ebmlRange), SEGMENT_UNKNOWN_SIZE];
    if (this.infoRange) parts.push(this.window.slice(...this.infoRange));
    parts.push(this.window.slice(...this.tracksRange));
    this.headerBytes = concat(parts);
  }

  private onTagsEnd(): void {
    const t = this.tagsInProgress!;
    this.tagsInProgress = undefined;
    if (t.items.some((item) => item.name === END_OF_FRAGMENT_TAG_NAME)) {
      // The end-of-fragment tag only closes the Cluster before it (already ended by this Tags); not stored.
      this.stats.endOfFragmentTags++;
      return;
    }
    // Metadata Tags belong to the Cluster that follows (kvs-reference.md §5.6; the PIC prepends them).
    const f = this.pending ?? (this.pending = this.newFragment(t.offset, t.serverMs));
    f.tags.push(...t.items);
  }

  private onClusterTimecode(timecode: number): void {
    const f = this.current!;
    if (f.timecode !== undefined || f.number !== undefined) {
      this.ensureBuffered(f);
      return this.fragmentError(f, ACK_ERROR.INVALID_MKV_DATA, 'a second Timecode, or a Timecode after the first block');
    }
    f.timecode = timecode;
    const ms = this.toMs(timecode);
    f.producerMs = this.o.timecodeType === 'ABSOLUTE' ? ms : this.o.producerStartMs! + ms;
    f.number = this.o.nextFragmentNumber();
    this.ack('BUFFERING', timecode, f.number);
    if (this.trackEntries > MAX_TRACKS) {
      return this.fragmentError(f, ACK_ERROR.MORE_THAN_ALLOWED_TRACKS, `${this.trackEntries} tracks; at most ${MAX_TRACKS}`);
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

  private onBlockHead(head: Uint8Array, inGroup: boolean): void {
    const f = this.current!;
    if (f.number === undefined) {
      this.ensureBuffered(f);
      return this.fragmentError(f, ACK_ERROR.INVALID_MKV_DATA, 'a block before the Cluster Timecode');
    }
    const width = vintWidth(head[0] ?? 0);
    if (width > 8 || head.length < width + 3) return this.fragmentError(f, ACK_ERROR.INVALID_MKV_DATA, 'a block too short for its header');
    let track = head[0]! & (0xff >> width);
    for (let i = 1; i < width; i++) track = track * 256 + head[i]!;
    const relMs = this.toMs(ebmlInt(head.subarray(width, width + 2)));
    if (inGroup) this.blockGroup = { track, relMs, durationMs: undefined };
    else this.addBlock(f, track, relMs, undefined);
  }

  private addBlock(f: Fragment, track: number, relMs: number, durationMs: number | undefined): void {
    if (f.error) return;
    const t = this.tracks.find((x) => x.number === track);
    if (!t) return this.fragmentError(f, ACK_ERROR.TRACK_NUMBER_MISMATCH, `a block for track ${track}, which Tracks does not declare`);
    const duration = durationMs ?? (t.defaultDurationNs > 0 ? t.defaultDurationNs / 1e6 : undefined);
    if (duration === undefined) f.durationsKnown = false;
    const end = relMs + (duration ?? 0);
    if (end > this.o.maxFragmentMs) {
      return this.fragmentError(f, ACK_ERROR.FRAGMENT_DURATION_REACHED, `the fragment lasts at least ${end} ms; at most ${this.o.maxFragmentMs}`);
    }
    if (f.lastBlockMs >= 0 && relMs > f.lastBlockMs) f.minGapMs = Math.min(f.minGapMs, relMs - f.lastBlockMs);
    f.lastBlockMs = relMs;
    f.endMs = Math.max(f.endMs, end);
    f.tracksSeen.add(track);
    f.blocks++;
  }

  private completeFragment(end: number): void {
    const f = this.current!;
    this.current = undefined;
    this.ensureBuffered(f);
    if (!f.error && f.timecode === undefined) this.fragmentError(f, ACK_ERROR.INVALID_MKV_DATA, 'a Cluster without a Timecode');
    if (!f.error) {
      const missing = this.tracks.find((t) => !f.tracksSeen.has(t.number));
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
        durationMs: Math.round(durationMs), header: this.headerBytes!, bytes: this.window.slice(f.start, end), tags: f.tags, blocks: f.blocks,
      });
    } catch (err) {
      this.log('persist-failed', { fragment: f.number, error: (err as Error).message });
      return this.fragmentError(f, ACK_ERROR.ARCHIVAL_ERROR, 'persisting failed');
    }
    if (typeof refused === 'number') return this.fragmentError(f, refused, 'the store refused the fragment');
    this.ack('PERSISTED', f.timecode, f.number);
    this.stats.persisted++;
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
    this.stats.errors[ACK_ERROR.INVALID_MKV_DATA] = (this.stats.errors[ACK_ERROR.INVALID_MKV_DATA] ?? 0) + 1;
    this.log('unparseable', { why, offset: this.reader.position });
    if (f && !f.error) {
      this.ensureBuffered(f);
      f.error = ACK_ERROR.INVALID_MKV_DATA;
      this.ack('ERROR', f.timecode, f.number, ACK_ERROR.INVALID_MKV_DATA);
    } else if (!f) {
      this.ack('ERROR', undefined, undefined, ACK_ERROR.INVALID_MKV_DATA);
    }
    this.phase = PHASE.FAILED;
    this.current = this.pending = undefined;
  }

  // ── helpers ──

  private ack(type: AckEventType, timecode?: number, number?: string, errorId?: number): void {
    this.stats.acks[type]++;
    const ack: { EventType: AckEventType; FragmentTimecode?: number; FragmentNumber?: string; ErrorId?: number } = { EventType: type };
    if (timecode !== undefined) ack.FragmentTimecode = timecode;
    if (number !== undefined) ack.FragmentNumber = number;
    if (errorId !== undefined) ack.ErrorId = errorId;
    this.o.onAck(ack);
  }

  private toMs(units: number): number {
    return (units * this.timecodeScale) / 1e6;
  }

  /** Keeps only what is still needed: the header until it is built, the open fragment, Tags being read. */
  private trim(): void {
    let keep = this.window.position;
    if (!this.headerBytes) keep = 0;
    if (this.current && !this.current.error) keep = Math.min(keep, this.current.start);
    if (this.pending) keep = Math.min(keep, this.pending.start);
    if (this.tagsInProgress) keep = Math.min(keep, this.tagsInProgress.offset);
    this.window.discardBefore(keep);
  }

  private log(event: string, fields: Record<string, unknown>): void {
    this.o.log?.(event, fields);
  }
}

function vintWidth(first: number): number {
  let width = 1;
  for (let mask = 0x80; width <= 8 && (first & mask) === 0; mask >>= 1) width++;
  return width;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
