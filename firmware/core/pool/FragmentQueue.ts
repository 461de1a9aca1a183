import type { FrameReleasePort } from '../../io/FrameRelease.ts';
import type { Frame } from '../media/Frame.ts';
import type { FrameGate } from '../media/FrameGate.ts';
import type { DropReason, FramePool } from './FramePool.ts';

export interface FragmentQueueOptions {
  readonly pool: FramePool;
  /**
   * A key frame opens a new fragment once the open one is at least this long (kvs-reference.md §5.4,
   * fragment_duration with key-frame fragmentation). 0 = every key frame opens a fragment.
   */
  readonly minFragmentMs: number;
  /**
   * Longest a fragment may last (kvs-reference.md §5: MKV_FRAGMENT_TOO_LONG before a byte leaves). Capture-clock
   * timestamps can jump (a camera pause): a non-key frame that would stretch the open fragment past this is freed
   * and counted `fragmentTooLong`, and the next key frame opens a fragment. Absent = no check here.
   */
  readonly maxFragmentMs?: number;
  /** The board's native release (FrameReleasePort); absent: `releaseHead`'s TypeScript path. */
  readonly releasePort?: FrameReleasePort;
}

/** Where a whole fragment the pool gives up can be kept instead of dropped (the spool, issue 15). */
export interface FragmentSpill {
  /**
   * Keeps frames [start, start + count) of `queue`: one complete fragment of which nothing was sent. Returns
   * false when it could not (it is then dropped as before). The queue frees the frames either way.
   */
  keep(queue: FragmentQueue, start: number, count: number): boolean;
}

/**
 * Frames held in the pool, oldest first, grouped into fragments (Matroska Clusters). It decides fragment
 * boundaries, tracks what was handed to the uploader, and applies the pool's named overflow policy,
 * DROP_OLDEST_UNSENT_FRAGMENT (see `reclaim`). Storage is a ring of `pool.sizing.maxFrames` references
 * allocated at construction.
 */
export class FragmentQueue {
  // The fields every frame reads (push, releaseHead) come first: XS finds a property by walking the object's own
  // properties in the order they were defined (docs/performance.md, eighth step).
  private readonly ring: (Frame | null)[];
  private head = 0;
  /** Frames held (read-only outside the queue: a field, not a getter, since a getter is a call per read in XS). */
  length = 0;
  /** The board's release, when it has one: releaseHead's steady state in one native call. */
  private readonly releasePort: FrameReleasePort | undefined;
  private paused = false;
  private awaitingKey = false;
  private open = false;
  private openStartPts = 0;
  private readonly maxFragmentMs: number;
  private minFragmentMs: number;
  private gate: FrameGate | undefined;
  private readonly pool: FramePool;
  /**
   * Index of the first frame not yet sent. Sent frames always precede unsent ones (the uploader sends in
   * order), so `nextUnsent` resumes here instead of rescanning every frame awaiting its acknowledgement.
   */
  private unsentFrom = 0;
  /** End (pts + duration) of the newest frame pushed, -1 before the first: "now" in the stream's timecodes. */
  private lastEnd = -1;
  /** Whole fragments dropped by the overflow policy. */
  droppedFragments = 0;
  /** Whole held fragments dropped with no event around them (their frames count as `outsideEvent`). */
  droppedHeldFragments = 0;
  /** Whole fragments moved to the spill (the spool) instead of being dropped. */
  spilledFragments = 0;
  private spill: FragmentSpill | undefined;
  readonly policy = 'DROP_OLDEST_UNSENT_FRAGMENT';

  constructor(options: FragmentQueueOptions) {
    if (!(options.minFragmentMs >= 0)) throw new RangeError('minFragmentMs must be >= 0');
    this.releasePort = options.releasePort;
    this.pool = options.pool;
    this.minFragmentMs = options.minFragmentMs;
    this.maxFragmentMs = options.maxFragmentMs ?? Infinity;
    this.ring = new Array<Frame | null>(options.pool.sizing.maxFrames).fill(null);
  }

  /** From the next fragment on, a key frame opens a fragment once the open one lasts `ms` (a control `set`). */
  setMinFragmentMs(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('minFragmentMs must be >= 0');
    this.minFragmentMs = ms;
  }

  /**
   * From the next fragment on, a gate decides whether each fragment is uploaded or held (FrameGate); undefined:
   * every fragment is uploaded. Fragments held by a previous gate are dropped (`outsideEvent`).
   */
  setGate(gate: FrameGate | undefined): void {
    if (gate === this.gate) return;
    this.gate = gate;
    this.dropAllHeld();
  }

  /** From now on, complete fragments the pool gives up go to `spill` first (undefined: dropped). */
  setSpill(spill: FragmentSpill | undefined): void {
    this.spill = spill;
  }

  /**
   * Moves every complete fragment of which nothing was sent to the spill, oldest first (the spool from boot
   * until the first PERSISTED); stops at the first it cannot keep. `withOpen`: the input ended, so the open
   * fragment is complete too. Returns the fragments moved.
   */
  spillComplete(withOpen = false): number {
    const spill = this.spill;
    if (!spill) return 0;
    let moved = 0;
    let i = 0;
    while (i < this.length) {
      const f = this.at(i);
      let end = i + 1;
      while (end < this.length && !this.at(end).fragmentStart) end++;
      if (end === this.length && !withOpen) break; // the open fragment
      if (!f.fragmentStart || f.sent || f.held || this.at(end - 1).sent) {
        i = end;
        continue;
      }
      if (!spill.keep(this, i, end - i)) break;
      this.removeRange(i, end - i, null);
      this.spilledFragments++;
      moved++;
    }
    return moved;
  }

  /** End (pts + duration) of the newest frame pushed, ms; -1 before the first. */
  get newestEnd(): number {
    return this.lastEnd;
  }

  /** FrameInput.rebase moved every held frame by `deltaMs`: "now" and the open fragment's start move with them. */
  shiftNewest(deltaMs: number): void {
    if (this.lastEnd >= 0) this.lastEnd += deltaMs;
    // The open fragment moved too: its next frames are measured from its moved start (maxFragmentMs).
    this.openStartPts += deltaMs;
  }

  /**
   * Streaming stopped by command: the open fragment gets no more frames (it ends where it is, and the uploader
   * closes it), and every frame pushed until `resume()` is freed and counted as `stopped`. Held fragments are
   * dropped (`outsideEvent`): nothing would admit them before they age out.
   */
  pause(): void {
    this.paused = true;
    this.dropAllHeld();
  }

  /** Streaming again: the next key frame opens a new fragment; frames before it are `awaitKeyFrame` drops. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.awaitingKey = true;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The i-th held frame, 0 = oldest. */
  at(i: number): Frame {
    if (i < 0 || i >= this.length) throw new RangeError(`index ${i} outside 0..${this.length - 1}`);
    return this.ring[(this.head + i) % this.ring.length]!;
  }

  /**
   * Appends a frame (timestamps already set) and decides whether it opens a fragment. A fragment only
   * ever starts on a key frame: frames that cannot be placed (stream start, or after a drop) are freed
   * and counted as `awaitKeyFrame`. Returns whether the frame was kept.
   */
  push(frame: Frame): boolean {
    if (this.paused) {
      this.pool.countDrop('stopped');
      this.pool.freeFrame(frame);
      return false;
    }
    if (!frame.key && (this.awaitingKey || !this.open)) {
      this.pool.countDrop('awaitKeyFrame');
      this.pool.freeFrame(frame);
      return false;
    }
    if (!frame.key && frame.pts + frame.duration - this.openStartPts > this.maxFragmentMs) {
      this.pool.countDrop('fragmentTooLong');
      this.pool.freeFrame(frame);
      this.awaitingKey = true;
      return false;
    }
    if (this.length === this.ring.length) throw new RangeError('queue full: frame records come from the same pool');
    frame.fragmentStart = frame.key && (!this.open || this.awaitingKey || frame.pts - this.openStartPts >= this.minFragmentMs);
    if (frame.fragmentStart) {
      const gate = this.gate;
      // The fragment before this one is complete now: held fragments past the pre-roll go before this one is placed.
      if (gate) this.dropHeld(frame.pts - gate.holdMs, true);
      this.open = true;
      this.awaitingKey = false;
      this.openStartPts = frame.pts;
      if (gate) frame.held = !gate.admit(frame);
    }
    frame.sent = false;
    this.ring[(this.head + this.length) % this.ring.length] = frame;
    this.length++;
    this.lastEnd = frame.pts + frame.duration;
    return true;
  }

  /**
   * An audio packet (frame.track > 0, timestamps set; AudioInput), placed among the held frames by timecode: after
   * every frame with an earlier or equal timecode and after every frame already sent, so the fragment it joins is the
   * one of the frame before it. Refused (freed, and the reason returned) while stopped, with no fragment to join
   * (before the first key frame, after a drop until the next one), or when a later frame was already sent. A
   * fragment never starts on audio. Returns '' when kept.
   */
  insertAudio(frame: Frame): '' | 'stopped' | 'noFragment' | 'late' {
    const reason = this.placeAudio(frame);
    if (reason !== '') this.pool.freeFrame(frame);
    return reason;
  }

  private placeAudio(frame: Frame): '' | 'stopped' | 'noFragment' | 'late' {
    if (this.paused) return 'stopped';
    if (!this.open || this.awaitingKey) return 'noFragment';
    if (this.length === this.ring.length) return 'late';
    const ring = this.ring;
    const cap = ring.length;
    let i = this.length;
    while (i > 0) {
      const before = ring[(this.head + i - 1) % cap]!;
      if (before.pts <= frame.pts) break;
      if (before.sent) return 'late';
      i--;
    }
    if (i === 0 && (this.length > 0 || frame.pts < this.openStartPts)) return 'noFragment';
    for (let k = this.length; k > i; k--) ring[(this.head + k) % cap] = ring[(this.head + k - 1) % cap]!;
    ring[(this.head + i) % cap] = frame;
    this.length++;
    frame.fragmentStart = false;
    frame.sent = false;
    if (this.unsentFrom > i) this.unsentFrom = i;
    return '';
  }

  /**
   * An event: held fragments that end after `fromPts` are admitted (uploaded from now on) with `clip` on their first
   * frame; held fragments that end at or before it are dropped whole (`outsideEvent`), so what is admitted always
   * follows what was sent. Returns the fragments admitted.
   */
  admitHeld(fromPts: number, clip: number): number {
    let admitted = 0;
    let i = 0;
    while (i < this.length) {
      const start = this.at(i);
      let end = i + 1;
      while (end < this.length && !this.at(end).fragmentStart) end++;
      if (!start.fragmentStart || !start.held) {
        i = end;
        continue;
      }
      const last = this.at(end - 1);
      if (last.pts + last.duration <= fromPts) {
        this.removeHeld(i, end);
        continue;
      }
      start.held = false;
      start.clip = clip;
      admitted++;
      i = end;
    }
    return admitted;
  }

  /** Drops every held fragment, the open one too (end of input, a stop); their frames count as `outsideEvent`. */
  dropAllHeld(): number {
    return this.dropHeld(Infinity, true);
  }

  /** Drops held fragments ending at or before `before` (the open one only with `withOpen`). Returns fragments dropped. */
  private dropHeld(before: number, withOpen: boolean): number {
    let dropped = 0;
    let i = 0;
    while (i < this.length) {
      const start = this.at(i);
      let end = i + 1;
      while (end < this.length && !this.at(end).fragmentStart) end++;
      const last = this.at(end - 1);
      if (start.fragmentStart && start.held && (withOpen || end < this.length) && last.pts + last.duration <= before) {
        this.removeHeld(i, end);
        dropped++;
        continue;
      }
      i = end;
    }
    return dropped;
  }

  private removeHeld(start: number, end: number): void {
    const open = end === this.length;
    this.removeRange(start, end - start, 'outsideEvent');
    this.droppedHeldFragments++;
    // The open fragment went: frames until the next key frame have no fragment to join.
    if (open) this.awaitingKey = true;
  }

  /** The oldest frame not yet handed to the uploader. */
  nextUnsent(): Frame | undefined {
    // The ring read in place, not through at(): this runs once per frame plus once per drain (docs/performance.md).
    const ring = this.ring;
    const count = this.length;
    let i = this.unsentFrom;
    while (i < count) {
      const frame = ring[(this.head + i) % ring.length]!;
      if (!frame.sent) {
        this.unsentFrom = i;
        // A held fragment (FrameGate) and everything after it wait: fragments go out in timecode order.
        return frame.held ? undefined : frame;
      }
      i++;
    }
    this.unsentFrom = i;
    return undefined;
  }

  /** Frees frames from the oldest end while they are sent (offline muxing: written means done). */
  releaseSent(): number {
    let n = 0;
    while (this.length > 0 && this.ring[this.head]!.sent) {
      this.releaseHead();
      n++;
    }
    return n;
  }

  /** Frees the oldest frame, sent or not (the offline Muxer writes each frame as it is queued: written means done). */
  releaseHead(): void {
    // The board's native takes the steady state (FrameReleasePort); it leaves every other case, unchanged, to the
    // TypeScript below, so the errors are this method's and FramePool.freeFrame's on every board.
    const port = this.releasePort;
    if (port !== undefined && port.releaseHead(this, this.pool)) return;
    if (this.length === 0) throw new RangeError('releaseHead on an empty queue');
    const head = this.head;
    const ring = this.ring;
    const f = ring[head]!;
    ring[head] = null;
    this.head = (head + 1) % ring.length;
    this.length--;
    if (this.unsentFrom > 0) this.unsentFrom--;
    this.pool.freeFrame(f);
  }

  /** Frees the oldest whole fragment (its ACK arrived). Returns the number of video frames freed (audio packets go with them). */
  releaseOldestFragment(): number {
    if (this.length === 0) return 0;
    const ring = this.ring;
    const port = this.releasePort;
    const pool = this.pool;
    let n = 0;
    // Once per frame of every acknowledged fragment: the ring read in place, not through at(), and the board's release
    // called here (as releaseHead would first), so a frame costs no JS call in the steady state.
    do {
      if (ring[this.head]!.track === 0) n++;
      if (port === undefined || !port.releaseHead(this, pool)) this.releaseHead();
    } while (this.length > 0 && !ring[this.head]!.fragmentStart);
    // Releasing the open fragment closes it: its later frames could only follow a start that is gone.
    if (this.length === 0 && this.open) {
      this.open = false;
    }
    return n;
  }

  /** Marks every held frame unsent so a new connection replays them with their original timecodes. */
  rewind(): void {
    for (let i = 0; i < this.length; i++) this.at(i).sent = false;
    this.unsentFrom = 0;
  }

  /**
   * The overflow policy, DROP_OLDEST_UNSENT_FRAGMENT. Frees, in order of preference:
   *  1. the oldest complete fragment of which nothing was sent (whole, never half), moved to the spill when
   *     there is one and it keeps it;
   *  2. else the open fragment if nothing of it was sent; later frames wait for the next key frame;
   * Fragments already (partly) sent are never touched: they are being delivered and will be acknowledged.
   * Returns false when nothing could be freed (everything held is in flight).
   */
  reclaim(): boolean {
    for (let i = 0; i < this.length; i++) {
      const f = this.at(i);
      if (!f.fragmentStart || f.sent) continue;
      let end = i + 1;
      while (end < this.length && !this.at(end).fragmentStart) end++;
      if (this.at(end - 1).sent) continue; // partly sent
      const complete = end < this.length;
      if (complete && !f.held && this.spill?.keep(this, i, end - i)) {
        this.removeRange(i, end - i, null);
        this.spilledFragments++;
        return true;
      }
      this.removeRange(i, end - i);
      this.droppedFragments++;
      if (!complete) this.awaitingKey = true;
      return true;
    }
    return false;
  }

  /**
   * Latency pressure (PutMediaSession `maxLatencyMs`): drops the oldest COMPLETE fragment of which nothing was
   * sent, if it starts before `startsBefore`, counting its frames under `reason`. Never the open fragment, never
   * one partly sent. Returns the frames dropped (0: none qualifies).
   */
  dropOldestUnsent(reason: DropReason, startsBefore: number): number {
    for (let i = 0; i < this.length; i++) {
      const f = this.at(i);
      if (!f.fragmentStart || f.sent || f.held) continue; // held: the gate's pre-roll, dropped by its own rule
      if (f.pts >= startsBefore) return 0;
      let end = i + 1;
      while (end < this.length && !this.at(end).fragmentStart) end++;
      if (end === this.length) return 0; // the open fragment
      if (this.at(end - 1).sent) continue; // partly sent
      const n = this.removeRange(i, end - i, reason);
      this.droppedFragments++;
      return n;
    }
    return 0;
  }

  /**
   * Frees frames [start, start + n) and closes the gap by moving the older references forward; counts them as
   * dropped for `reason` (null: kept elsewhere, the spool). Returns the video frames among them.
   */
  private removeRange(start: number, n: number, reason: DropReason | null = 'poolFull'): number {
    const cap = this.ring.length;
    let video = 0;
    for (let i = start; i < start + n; i++) {
      const f = this.at(i);
      // Drop reasons count video frames (with the frames stored, every frame fed); audio packets have their own count.
      if (f.track === 0) {
        if (reason !== null) this.pool.countDrop(reason);
        video++;
      } else if (reason !== null) {
        this.pool.audioDropped++;
      }
      this.pool.freeFrame(f);
    }
    for (let i = start - 1; i >= 0; i--) {
      this.ring[(this.head + i + n) % cap] = this.ring[(this.head + i) % cap]!;
    }
    for (let i = 0; i < n; i++) this.ring[(this.head + i) % cap] = null;
    this.head = (this.head + n) % cap;
    this.length -= n;
    // Only un-sent fragments are removed, so the cursor is at or before `start`; clamp to be safe.
    if (this.unsentFrom > start) this.unsentFrom = Math.max(start, this.unsentFrom - n);
    return video;
  }
}
