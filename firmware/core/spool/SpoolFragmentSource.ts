import type { ClockPort } from '../../io/Clock.ts';
import type { StoragePort } from '../../io/Storage.ts';
import type { TimerHandle, TimerPort } from '../../io/Timer.ts';
import type { AudioInput } from '../audio/AudioInput.ts';
import { FieldcamError, isFieldcamError } from '../errors.ts';
import type { FragmentSource, ReplayCount } from '../kvs/FragmentSource.ts';
import { Frame } from '../media/Frame.ts';
import type { FrameInput } from '../media/FrameInput.ts';
import { ViewList } from '../media/ViewList.ts';
import type { AudioTrackSpec, TrackSpec } from '../mkv/MkvWriter.ts';
import type { FragmentQueue, FragmentSpill } from '../pool/FragmentQueue.ts';
import type { DropReason, FramePool } from '../pool/FramePool.ts';
import { Slot } from '../pool/Slot.ts';
import { FragmentRecord } from './FragmentRecord.ts';
import type { SpoolLog } from './SpoolLog.ts';

/** Rebases remembered (each happens before anything was sent; one per clock correction). */
const MAX_REBASES = 8;

export interface SpoolSourceOptions {
  readonly input: FrameInput;
  readonly pool: FramePool;
  /** The spool's log, not yet opened: `start()` opens it (a failure leaves the source on the pool alone). */
  readonly log: SpoolLog;
  readonly storage: StoragePort;
  /** The spool's folder (the free-space floor is read on its file system). */
  readonly dir: string;
  /** Wall clock (producer timestamps: the oldest record's age) and monotonic time (drain rate). */
  readonly clock: ClockPort;
  readonly timers: TimerPort;
  /** Payload bytes the spool may hold; past it the oldest whole fragments are dropped (`spoolFull`). */
  readonly maxBytes: number;
  /** Bytes to leave free on the spool's file system; below it the same. */
  readonly minFreeBytes: number;
  /** Spooled bytes handed to the uploader per second at most (faster than the camera, so a backlog catches up). */
  readonly drainBytesPerSecond: number;
  /** Entries one fragment may hold: video frames and audio packets (the record tables are this many, at boot). */
  readonly maxFramesPerFragment: number;
  /** NAL-table entries of a spooled frame (the pool's nalsPerFrame: 0 for MJPEG). */
  readonly nalsPerFrame: number;
  /** Video frames one fragment may hold (they carry NAL tables; the rest of its entries are audio). Default: all. */
  readonly maxVideoFramesPerFragment?: number;
  /**
   * The largest frame or audio packet the spool keeps: the read buffer's size. Spooled fragments are read back one
   * window of whole frames at a time into it, never a whole fragment at once; a fragment with a larger frame is not
   * spooled (dropped as before, counted as refused).
   */
  readonly maxFrameBytes: number;
  /** Memory for the read buffer (at least maxFrameBytes), outside the JS heap where the board has it; absent: a Uint8Array of its own. */
  readonly readBuffer?: Uint8Array;
  /** The camera's audio in the same queue (AudioInput), as PoolFragmentSource takes it; undefined: video only. */
  readonly audio?: AudioInput;
  /** Tags of a live fragment (an event clip's: EventGate.tagsFor), kept in its record when it is spooled. */
  readonly fragmentTags?: (start: Frame) => Uint8Array | undefined;
  /** Spooled frames may go again (the drain rate allowed them): the uploader should look. */
  readonly onReady: () => void;
}

/** What status and telemetry show about the spool. */
export interface SpoolStats {
  /** Payload bytes and fragments held on storage. */
  bytes: number;
  fragments: number;
  /** Whole fragments written to the spool, and released from it after their PERSISTED. */
  fragmentsSpooled: number;
  fragmentsReleased: number;
  /** Whole fragments dropped from the spool (cap or floor; their frames count under the pool's `spoolFull`). */
  fragmentsDropped: number;
  /** Fragments the spool could not take (too large for a record, a storage error): dropped by the pool as before. */
  fragmentsRefused: number;
  /** Spooled bytes handed to the uploader (replays included). */
  bytesDrained: number;
  /** Bytes written to storage since boot (headers and watermarks included): flash wear. */
  bytesWritten: number;
  /** The last storage error code (STORAGE_*), or undefined. */
  error: string | undefined;
}

/**
 * The uploader's fragments from the RAM pool AND a crash-safe spool on storage (issue 15, docs/spool.md):
 * - A complete fragment the pool must give up (a live camera that outruns an absent or slow link) goes to the
 *   spool instead of being dropped; from boot until the first acknowledgement every complete un-sent fragment
 *   goes there, so a power cut before the first PERSISTED loses nothing that was complete.
 * - Spooled fragments are always older than the un-sent ones in the pool: the uploader sees one sequence in
 *   timecode order (the older of the pool's and the spool's next frame), so the spool drains first on the one
 *   PutMedia connection and live frames queue behind it, without gaps or overlap. The drain is paced to
 *   `drainBytesPerSecond`.
 * - A spooled fragment is read back (into one buffer allocated at boot) when it is its turn, decoded into frame
 *   records over that buffer, and removed from storage only on its acknowledgement (SpoolLog's watermark).
 * - Past the size cap or the free-space floor the oldest whole spooled fragment is dropped and counted.
 */
export class SpoolFragmentSource implements FragmentSource, FragmentSpill {
  readonly stats: SpoolStats = {
    bytes: 0,
    fragments: 0,
    fragmentsSpooled: 0,
    fragmentsReleased: 0,
    fragmentsDropped: 0,
    fragmentsRefused: 0,
    bytesDrained: 0,
    bytesWritten: 0,
    error: undefined,
  };
  private readonly o: SpoolSourceOptions;
  private readonly input: FrameInput;
  private readonly queue: FragmentQueue;
  private readonly log: SpoolLog;
  private readonly record: FragmentRecord;
  private readonly views: ViewList;
  private readonly buffer: Uint8Array;
  private readonly slot: Slot;
  /** The one frame record spooled entries are decoded into, one at a time (valid from nextUnsent to markSent). */
  private readonly current: Frame;
  private readonly audioSpecs: readonly AudioTrackSpec[];
  /** Bound once: FragmentRecord.encode reads the spilled fragment's frames through it. */
  private readonly spillFrame = (k: number): Frame => this.spillQueue!.at(this.spillStart + k);
  private spillQueue: FragmentQueue | undefined;
  private spillStart = 0;
  private open = false;
  /** From boot until the first acknowledgement: every complete un-sent fragment goes to the spool. */
  private bootPhase = true;
  /** frameQueued is moving the boot phase's complete fragments: one whose audio is not all in yet waits. */
  private bootSpill = false;
  /** Spooled records handed out whole on this connection (index 0 = oldest), and frames of the next one. */
  private sentRecords = 0;
  private frameCursor = 0;
  /** Sequence number of the record whose head is parsed (-1: none), its entry count and payload length. */
  private loadedSeq = -1;
  private loadedCount = 0;
  /** The record's payload bytes [windowStart, windowEnd) are in `buffer` (whole entries). */
  private windowStart = 0;
  private windowEnd = 0;
  /** The entry decoded into `current` (-1: none). */
  private filled = -1;
  private spooledFrames = 0;
  /** The newest timecode handed out on this connection (-Infinity after a replay). */
  private lastSentPts = -Infinity;
  /** Drain pacing: bytes that may still be handed out, refilled at the drain rate (1 s burst). */
  private budget = 0;
  private budgetAt = 0;
  private paced = true;
  private wakeTimer: TimerHandle | undefined;
  /** Records appended this boot before each clock correction get its delta on decode (frames already moved). */
  private bootFirstSeq = 0;
  private readonly rebaseThrough = new Float64Array(MAX_REBASES);
  private readonly rebaseDelta = new Float64Array(MAX_REBASES);
  private rebases = 0;
  private startedAt = 0;
  private closed = false;

  constructor(options: SpoolSourceOptions) {
    for (const key of ['maxBytes', 'drainBytesPerSecond', 'maxFramesPerFragment'] as const) {
      if (!(options[key] > 0)) throw new RangeError(`${key} must be positive`);
    }
    this.o = options;
    this.input = options.input;
    this.queue = options.input.queue;
    this.log = options.log;
    if (!(options.maxFrameBytes > 0)) throw new RangeError('maxFrameBytes must be positive');
    this.record = new FragmentRecord(options.maxFramesPerFragment, options.nalsPerFrame, undefined, options.maxVideoFramesPerFragment);
    this.views = new ViewList(2 + 2 * options.maxFramesPerFragment);
    const given = options.readBuffer;
    if (given !== undefined && given.length < options.maxFrameBytes)
      throw new RangeError(`readBuffer holds ${given.length} bytes, maxFrameBytes is ${options.maxFrameBytes}`);
    this.buffer = given ?? new Uint8Array(options.maxFrameBytes);
    this.slot = new Slot(-1, this.buffer); // never part of the pool: markSent tells spooled frames by it
    this.current = new Frame(options.nalsPerFrame);
    this.audioSpecs = options.audio ? Object.freeze([options.audio.trackSpec()]) : Object.freeze([]);
  }

  /**
   * Opens the spool (what a previous boot left is drained first) and takes the pool's overflow. A spool that
   * cannot be opened (no folder, no permission) leaves the source on the pool alone, the error in `stats.error`.
   */
  start(): void {
    if (this.closed) throw new RangeError('the SpoolFragmentSource is closed');
    this.startedAt = this.o.clock.monotonic();
    this.budgetAt = this.startedAt;
    this.budget = this.o.drainBytesPerSecond;
    try {
      this.log.open();
    } catch (err) {
      if (!isFieldcamError(err)) throw err;
      this.stats.error = err.code;
      return;
    }
    this.open = true;
    this.bootFirstSeq = this.log.nextSequence;
    for (let i = 0; i < this.log.count; i++) this.spooledFrames += this.log.framesAt(i) + this.log.packetsAt(i);
    this.queue.setSpill(this);
    this.refreshStats();
  }

  /** Closes the log (the spool stays on storage) and the pacing timer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.wakeTimer) this.o.timers.clear(this.wakeTimer);
    this.wakeTimer = undefined;
    this.queue.setSpill(undefined);
    this.open = false;
    this.log.close();
  }

  /** The spool is open and taking fragments. */
  get active(): boolean {
    return this.open;
  }

  /** Pacing off (stop, pause: everything held is delivered now) or on again. */
  setPaced(on: boolean): void {
    this.paced = on;
  }

  /** A frame was queued in the pool: before the first acknowledgement, complete fragments go to storage now. */
  frameQueued(frame: Frame): void {
    if (!this.open || !this.bootPhase || !frame.fragmentStart) return;
    this.bootSpill = true;
    try {
      this.queue.spillComplete();
    } finally {
      this.bootSpill = false;
    }
  }

  /**
   * The uploader has stopped (its session settled) with fragments still in the pool, not acknowledged: they go to
   * the spool, so a shutdown during an outage loses nothing the spool can hold. Fragments that were on the wire
   * may have landed: they may be stored twice. Call after the input ended. Returns the fragments kept.
   */
  keepPool(): number {
    if (!this.open || this.queue.length === 0) return 0;
    this.queue.rewind();
    return this.queue.spillComplete(true);
  }

  /** Monotonic ms since start (bytes-per-hour figures). */
  uptimeMs(): number {
    return this.o.clock.monotonic() - this.startedAt;
  }

  /** Age of the oldest spooled fragment (wall clock minus its producer timestamp), ms; -1 when empty. */
  oldestAgeMs(): number {
    if (!this.open || this.log.count === 0) return -1;
    return Math.max(0, this.o.clock.now() - this.timecodeOf(0));
  }

  // ── FragmentSpill: the pool gives up a whole fragment ──

  keep(queue: FragmentQueue, start: number, count: number): boolean {
    // A complete fragment's audio may still be on its way (a microphone lags its camera): at boot it waits in the pool
    // until the audio reached the next fragment's start (or ended), since a packet for a fragment that left the queue
    // would be dropped (noFragment). Not refused: the next fragment start moves it.
    const audio = this.o.audio;
    if (this.bootSpill && audio !== undefined && !audio.ended && start + count < queue.length && audio.through < queue.at(start + count).pts) return false;
    if (!this.open || count > this.o.maxFramesPerFragment) return this.refuse();
    let packets = 0;
    for (let i = start; i < start + count; i++) {
      const f = queue.at(i);
      if (f.size > this.buffer.length) return this.refuse(); // could not be read back
      if (f.track !== 0) packets++;
    }
    const views = this.views;
    views.clear();
    this.spillQueue = queue;
    this.spillStart = start;
    let encoded: boolean;
    try {
      encoded = this.record.encode(count, this.spillFrame, this.o.fragmentTags?.(queue.at(start)), views);
    } finally {
      this.spillQueue = undefined;
    }
    const length = views.byteLength;
    if (!encoded || length > this.log.maxRecordBytes || !this.makeRoom(length)) {
      views.clear();
      return this.refuse();
    }
    try {
      this.log.append(queue.at(start).pts, views, count - packets, packets);
    } catch (err) {
      views.clear();
      if (!isFieldcamError(err)) throw err;
      this.stats.error = err.code;
      return this.refuse();
    }
    views.clear();
    this.spooledFrames += count;
    this.stats.fragmentsSpooled++;
    this.refreshStats();
    return true;
  }

  private refuse(): boolean {
    this.stats.fragmentsRefused++;
    return false;
  }

  /**
   * Drops the oldest whole spooled fragments until `length` more bytes fit under the cap and above the floor.
   * Never one on the wire (it may land): then the newcomer is refused instead.
   */
  private makeRoom(length: number): boolean {
    const log = this.log;
    const o = this.o;
    let free = this.freeBytes();
    while (log.full || log.bytes + length > o.maxBytes || free - length < o.minFreeBytes) {
      if (log.count === 0 || this.sentRecords > 0 || this.frameCursor > 0) return false;
      const bytes = log.lengthAt(0);
      this.dropHead();
      free += bytes; // segments go whole; close enough for the floor until the next statfs
    }
    return true;
  }

  private freeBytes(): number {
    try {
      return this.o.storage.freeBytes(this.o.dir);
    } catch (err) {
      if (!isFieldcamError(err)) throw err;
      this.stats.error = err.code;
      return 0;
    }
  }

  // ── FragmentSource ──

  get ready(): boolean {
    return this.input.ready;
  }

  trackSpec(): TrackSpec {
    return this.input.trackSpec();
  }

  audioTracks(): readonly AudioTrackSpec[] {
    return this.audioSpecs;
  }

  /**
   * The Tags a fragment goes up with (PutMediaSession's `fragmentTags`): a spooled fragment's from its record (what
   * the clip carried when it was spooled, so after a reboot too), a live one's from `fragmentTags`.
   */
  fragmentTags(start: Frame): Uint8Array | undefined {
    if (start.slotA === this.slot) return this.record.tags();
    return this.o.fragmentTags?.(start);
  }

  /** The pool's next un-sent frame; a video frame waits until the audio reached its time (PoolFragmentSource's rule). */
  private liveNext(): Frame | undefined {
    const frame = this.queue.nextUnsent();
    const audio = this.o.audio;
    if (audio !== undefined && frame !== undefined && frame.track === 0 && !audio.ended && frame.pts >= audio.through) return undefined;
    return frame;
  }

  get heldFrames(): number {
    return this.queue.length + this.spooledFrames;
  }

  nextUnsent(): Frame | undefined {
    const live = this.liveNext();
    if (!this.open || this.sentRecords >= this.log.count) return live;
    if (this.frameCursor > 0) {
      if (!this.load(this.sentRecords)) return this.nextUnsent();
      if (live && live.pts < this.record.ptsOf(this.frameCursor) + this.shiftFor(this.loadedSeq)) return live;
      return this.entry(this.frameCursor) ?? this.nextUnsent();
    }
    // A record boundary: what an earlier boot spooled goes first (its clock may have been ahead of this one's);
    // this boot's records and the pool's frames go in timecode order.
    if (live && this.log.seqAt(this.sentRecords) >= this.bootFirstSeq && live.pts < this.timecodeOf(this.sentRecords)) return live;
    // Paced per record, charged once when it is read (a drain loop asks again at the boundary it stopped at).
    if (this.loadedSeq !== this.log.seqAt(this.sentRecords) && !this.withinRate(this.log.lengthAt(this.sentRecords))) return undefined;
    return (this.load(this.sentRecords) && this.entry(0)) || this.nextUnsent();
  }

  markSent(frame: Frame): void {
    if (frame.pts > this.lastSentPts) this.lastSentPts = frame.pts;
    if (frame.slotA !== this.slot) {
      frame.sent = true;
      return;
    }
    this.filled = -1; // the next entry is decoded into `current` when asked for
    if (++this.frameCursor === this.loadedCount) {
      this.sentRecords++;
      this.frameCursor = 0;
    }
  }

  replay(count: ReplayCount): void {
    let pool = 0;
    for (let i = 0; i < this.queue.length; i++) {
      const f = this.queue.at(i);
      if (f.sent && f.fragmentStart) pool++;
    }
    const fragments = pool + this.sentRecords + (this.frameCursor > 0 ? 1 : 0);
    // In timecode order every replayed fragment but the newest was closed on the wire by the next one.
    count.fragments += fragments;
    if (fragments > 0) count.whole += fragments - 1;
    this.queue.rewind();
    this.sentRecords = 0;
    this.frameCursor = 0;
    this.filled = -1;
    this.lastSentPts = -Infinity;
  }

  /** A fragment whose start is not after the newest frame this connection carried needs a new connection. */
  needsNewConnection(next: Frame): boolean {
    return next.fragmentStart && next.pts <= this.lastSentPts;
  }

  release(timecode: number, landed: (startTimecode: number) => void): number {
    const queue = this.queue;
    let frames = 0;
    for (;;) {
      const spoolSent = this.open && this.log.count > 0 && (this.sentRecords > 0 || this.frameCursor > 0);
      const spoolAt = this.open && this.log.count > 0 ? this.timecodeOf(0) : Infinity;
      const head = queue.length > 0 ? queue.at(0) : undefined;
      const poolAt = head ? head.pts : Infinity;
      // The same order as nextUnsent: an earlier boot's records first, then by timecode.
      const earlier = spoolAt !== Infinity && this.log.seqAt(0) < this.bootFirstSeq;
      if (earlier || spoolAt <= poolAt) {
        if (!spoolSent || spoolAt > timecode) break;
        landed(spoolAt);
        frames += this.log.framesAt(0); // video frames, as the pool's release counts them
        this.stats.fragmentsReleased++;
        if (this.sentRecords > 0) this.sentRecords--;
        else this.frameCursor = 0; // acknowledged before all of it went (cannot happen on a sane link)
        this.releaseHead();
      } else {
        if (!head!.sent || poolAt > timecode) break;
        landed(poolAt);
        frames += queue.releaseOldestFragment();
      }
      this.bootPhase = false;
    }
    if (frames > 0) this.refreshStats();
    return frames;
  }

  newestPts(): number {
    if (this.queue.length > 0) return this.queue.at(this.queue.length - 1).pts;
    return this.open && this.log.count > 0 ? this.timecodeOf(this.log.count - 1) : NaN;
  }

  /**
   * Latency pressure drops only from the pool, and only while the spool is empty: a spooled backlog is the
   * point of the spool (its cap bounds it), and the pool's fragments behind it must not leave a gap.
   */
  dropOldestUnsent(reason: DropReason, startsBefore: number): number {
    if (this.open && this.log.count > 0) return 0;
    return this.queue.dropOldestUnsent(reason, startsBefore);
  }

  rebase(deltaMs: number): void {
    this.input.rebase(deltaMs);
    this.o.audio?.rebase(deltaMs); // its clock and the packets still waiting for their video (PoolFragmentSource's rule)
    if (!this.open || this.log.nextSequence === this.bootFirstSeq) return;
    // Records this boot spooled so far were stamped with the wrong clock; the pool's frames were just moved.
    if (this.rebases === MAX_REBASES) throw new RangeError(`more than ${MAX_REBASES} clock corrections before the first frame was sent`);
    this.rebaseThrough[this.rebases] = this.log.nextSequence;
    this.rebaseDelta[this.rebases] = deltaMs;
    this.rebases++;
    this.loadedSeq = -1;
    this.filled = -1;
  }

  // ── internals ──

  /** The fragment timecode of held record `i`, with the clock corrections made after it was spooled. */
  private timecodeOf(i: number): number {
    return this.log.timecodeAt(i) + this.shiftFor(this.log.seqAt(i));
  }

  private shiftFor(seq: number): number {
    if (seq < this.bootFirstSeq) return 0;
    let shift = 0;
    for (let r = 0; r < this.rebases; r++) if (seq < this.rebaseThrough[r]!) shift += this.rebaseDelta[r]!;
    return shift;
  }

  /**
   * Parses record `i`'s head (its table and tags: once per record and connection; the payloads are read per entry).
   * False: it was unreadable, and dropped with the ones before it.
   */
  private load(i: number): boolean {
    const log = this.log;
    const seq = log.seqAt(i);
    if (this.loadedSeq === seq) return true;
    this.loadedSeq = -1;
    this.filled = -1;
    this.windowStart = this.windowEnd = 0;
    const record = this.record;
    try {
      const length = log.lengthAt(i);
      const got = Math.min(record.headCapacity, length);
      log.readRange(i, 0, record.head, 0, got);
      const count = record.parse(log.formatAt(i), length, got);
      for (let k = 0; k < count; k++) {
        if (record.payloadSize(k) > this.buffer.length)
          throw new FieldcamError('STORAGE_CORRUPT', `spool record ${seq}: a ${record.payloadSize(k)}-byte frame, the read buffer holds ${this.buffer.length}`);
      }
      this.loadedCount = count;
      this.stats.bytesDrained += length;
    } catch (err) {
      if (!isFieldcamError(err)) throw err;
      this.unreadable(i, err.code);
      return false;
    }
    this.loadedSeq = seq;
    return true;
  }

  /**
   * Entry `k` of the loaded record (index sentRecords) in `current`, its payload in the read buffer: a window of as
   * many whole entries as fit is read from storage when `k` is not in the one held. Undefined: unreadable, dropped.
   */
  private entry(k: number): Frame | undefined {
    const f = this.current;
    if (this.filled === k) return f;
    const record = this.record;
    const at = record.payloadOffset(k);
    const size = record.payloadSize(k);
    if (at < this.windowStart || at + size > this.windowEnd) {
      const i = this.sentRecords;
      const n = Math.min(this.buffer.length, this.log.lengthAt(i) - at);
      try {
        this.log.readRange(i, at, this.buffer, 0, n);
      } catch (err) {
        if (!isFieldcamError(err)) throw err;
        this.unreadable(i, err.code);
        return undefined;
      }
      this.windowStart = at;
      this.windowEnd = at + n;
    }
    record.fill(k, f);
    const shift = this.shiftFor(this.loadedSeq);
    f.pts += shift;
    f.dts += shift;
    f.slotA = this.slot;
    f.startA = at - this.windowStart;
    f.endA = f.startA + size;
    f.slotB = null;
    f.startB = f.endB = 0;
    this.filled = k;
    return f;
  }

  /** Damage the CRC did not catch on open (the medium changed since): record `i` and the ones before it go. */
  private unreadable(i: number, code: string): void {
    this.stats.error = code;
    this.loadedSeq = -1;
    this.filled = -1;
    for (let k = 0; k <= i; k++) this.dropHead();
    this.sentRecords = 0;
    this.frameCursor = 0;
  }

  /** The oldest spooled fragment goes unsent (cap, floor, damage): its frames count as `spoolFull`, its packets as audio drops. */
  private dropHead(): void {
    const log = this.log;
    this.o.pool.countDrop('spoolFull', log.framesAt(0));
    this.o.pool.audioDropped += log.packetsAt(0);
    this.stats.fragmentsDropped++;
    this.releaseHead();
  }

  /** Drain pacing: may `length` spooled bytes go now? If not, the uploader is woken when they may. */
  private withinRate(length: number): boolean {
    if (!this.paced) return true;
    const rate = this.o.drainBytesPerSecond;
    const now = this.o.clock.monotonic();
    this.budget = Math.min(rate, this.budget + ((now - this.budgetAt) * rate) / 1000);
    this.budgetAt = now;
    if (this.budget >= 0) {
      this.budget -= length;
      return true;
    }
    if (!this.wakeTimer) {
      this.wakeTimer = this.o.timers.set(Math.ceil((-this.budget * 1000) / rate), () => {
        this.wakeTimer = undefined;
        if (!this.closed) this.o.onReady();
      });
    }
    return false;
  }

  private releaseHead(): void {
    const log = this.log;
    const seq = log.seqAt(0);
    this.spooledFrames -= log.framesAt(0) + log.packetsAt(0);
    if (this.loadedSeq === seq) {
      this.loadedSeq = -1;
      this.filled = -1;
    }
    try {
      log.release(seq);
    } catch (err) {
      if (!isFieldcamError(err)) throw err;
      this.stats.error = err.code; // the watermark stayed behind: at most these fragments again after a reboot
    }
    this.refreshStats();
  }

  private refreshStats(): void {
    const s = this.stats;
    s.bytes = this.log.bytes;
    s.fragments = this.open ? this.log.count : 0;
    s.bytesWritten = this.log.bytesWritten;
  }
}
