import { FieldcamError } from '../errors.ts';
import { Frame, MAX_NALS_PER_FRAME } from '../media/Frame.ts';
import { Slot } from './Slot.ts';

/** Pool sizing, read from the board manifest (`pool` section). */
export interface PoolSizing {
  /** Number of fixed-size byte slots. */
  readonly slotCount: number;
  /** Bytes per slot; an access unit must fit in one slot. */
  readonly slotBytes: number;
  /** Frame records (the most frames held at once, e.g. fps × buffer seconds). */
  readonly maxFrames: number;
  /** NAL-table entries per record: MAX_NALS_PER_FRAME (default) for H.264, 0 for MJPEG. */
  readonly nalsPerFrame?: number;
}

/** Why frames were dropped; every drop is counted under exactly one reason. */
export const DROP_REASONS = Object.freeze([
  'poolFull', // oldest whole un-sent fragment dropped to make room (the named overflow policy)
  'awaitKeyFrame', // frames after a drop, discarded until the next key frame so no fragment starts mid-GOP
  'frameTooLarge', // an access unit larger than a slot
  'noParameterSets', // slices before the first SPS/PPS
  'stopped', // read from the camera while streaming was stopped by command (the camera is drained, not paused)
  'truncated', // the camera's last access unit, cut by the end of its input (EOF, SIGTERM): incomplete, never uploaded
  'corrupt', // a bitstream error (lenient device reader): the access unit is dropped, frames resume at the next key frame
  'fragmentTooLong', // after a camera pause: non-key frames that would stretch the open fragment past its maximum duration
  'latency', // whole un-sent fragment dropped because the uplink cannot carry the camera (PutMediaSession maxLatencyMs)
  'spoolFull', // the spool at its size cap or free-space floor: its oldest whole fragment dropped (or, while that one is on the wire, the newcomer)
  'outsideEvent', // event recording: a whole held fragment that aged out of the pre-roll (or was held at a stop) with no event around it
] as const);
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * The frame pool: `slotCount` byte slots carved from ONE ArrayBuffer and `maxFrames` frame records, all
 * allocated at construction and never grown. Slots and records are reference-counted/returned explicitly;
 * nothing here allocates after boot.
 */
export class FramePool {
  // The fields every frame reads (takeFrame, freeFrame) come first: XS finds a property by walking the object's own
  // properties in the order they were defined (docs/performance.md, eighth step).
  /** Free records: a stack in `freeFrames[0..freeCount)`, element reads and a count, not `pop`/`push` calls. */
  private readonly freeFrames: Frame[];
  private freeCount: number;
  /** The fewest free records there ever were (framesHighWater = maxFrames - freeLow): one field per take. */
  private freeLow: number;
  private slotsInUse = 0;
  readonly sizing: PoolSizing;
  readonly slots: readonly Slot[];
  private readonly frames: Frame[];
  private slotCursor = 0;
  private slotHighWater = 0;
  readonly drops: Record<DropReason, number> = {
    poolFull: 0,
    awaitKeyFrame: 0,
    frameTooLarge: 0,
    noParameterSets: 0,
    stopped: 0,
    truncated: 0,
    corrupt: 0,
    fragmentTooLong: 0,
    latency: 0,
    spoolFull: 0,
    outsideEvent: 0,
  };

  /**
   * `arena`: where the slots live, at least slotCount × slotBytes from `offset`; default a new ArrayBuffer. Boards
   * with a memory budget pass memory outside the JS heap (design.md §2: the ESP32's pool is in PSRAM); a device
   * with several cameras gives each pool its own range of one arena.
   */
  constructor(sizing: PoolSizing, arena?: ArrayBufferLike, offset = 0) {
    for (const key of ['slotCount', 'slotBytes', 'maxFrames'] as const) {
      const v = sizing[key];
      if (!Number.isInteger(v) || v < 1) throw new FieldcamError('POOL_CONFIG_INVALID', `pool.${key} is ${String(v)}`);
    }
    const nals = sizing.nalsPerFrame ?? MAX_NALS_PER_FRAME;
    if (!Number.isInteger(nals) || nals < 0 || nals > MAX_NALS_PER_FRAME) {
      throw new FieldcamError('POOL_CONFIG_INVALID', `pool.nalsPerFrame is ${String(nals)}; 0-${MAX_NALS_PER_FRAME}`);
    }
    this.sizing = Object.freeze({ slotCount: sizing.slotCount, slotBytes: sizing.slotBytes, maxFrames: sizing.maxFrames, nalsPerFrame: nals });
    const bytes = sizing.slotCount * sizing.slotBytes;
    if (arena !== undefined && !(Number.isInteger(offset) && offset >= 0 && arena.byteLength >= offset + bytes)) {
      throw new FieldcamError('POOL_CONFIG_INVALID', `the pool arena has ${String(arena.byteLength)} bytes; ${bytes} needed from ${offset}`);
    }
    if (arena === undefined) {
      arena = new ArrayBuffer(bytes);
      offset = 0;
    }
    const slots: Slot[] = [];
    for (let i = 0; i < sizing.slotCount; i++) {
      slots.push(new Slot(i, new Uint8Array(arena, offset + i * sizing.slotBytes, sizing.slotBytes)));
    }
    this.slots = Object.freeze(slots);
    this.frames = [];
    for (let i = 0; i < sizing.maxFrames; i++) this.frames.push(new Frame(nals));
    // Free records are a stack; the array never grows past maxFrames.
    this.freeFrames = this.frames.slice().reverse();
    this.freeCount = this.freeLow = sizing.maxFrames;
  }

  /** A free slot with one reference held by the caller, or `undefined` when every slot is in use. */
  acquire(): Slot | undefined {
    const n = this.slots.length;
    for (let k = 0; k < n; k++) {
      const slot = this.slots[(this.slotCursor + k) % n]!;
      if (slot.refs === 0) {
        this.slotCursor = (slot.index + 1) % n;
        slot.refs = 1;
        this.slotsInUse++;
        if (this.slotsInUse > this.slotHighWater) this.slotHighWater = this.slotsInUse;
        return slot;
      }
    }
    return undefined;
  }

  retain(slot: Slot): void {
    if (slot.refs === 0) throw new RangeError(`slot ${slot.index} is free; acquire it first`);
    slot.refs++;
  }

  release(slot: Slot): void {
    if (slot.refs === 0) throw new RangeError(`slot ${slot.index} released more often than retained`);
    slot.refs--;
    if (slot.refs === 0) this.slotsInUse--;
  }

  /** A cleared frame record, or `undefined` when all `maxFrames` are held. */
  newFrame(): Frame | undefined {
    // takeFrame's body, not a call to it: the TypeScript readers (MJPEG) take a record per frame this way.
    const n = this.freeCount - 1;
    if (n < 0) return undefined;
    this.freeCount = n;
    if (n < this.freeLow) this.freeLow = n;
    const frame = this.freeFrames[n]!;
    frame.reset();
    return frame;
  }

  /**
   * A frame record with its fields as its last user left them, or `undefined` when all `maxFrames` are held: for a
   * caller that sets every field itself (the board's ByteScanPort.fillFrameRecord), so `reset` is not paid twice.
   */
  takeFrame(): Frame | undefined {
    const n = this.freeCount - 1;
    if (n < 0) return undefined;
    this.freeCount = n;
    if (n < this.freeLow) this.freeLow = n;
    return this.freeFrames[n];
  }

  /** Returns a frame record and the slot references it holds. */
  freeFrame(frame: Frame): void {
    // `release` written out for both pieces: once per frame, and a call costs more than its body in XS
    // (docs/performance.md).
    const a = frame.slotA;
    const b = frame.slotB;
    if (a !== null) {
      if (a.refs === 0) throw new RangeError(`slot ${a.index} released more often than retained`);
      if (--a.refs === 0) this.slotsInUse--;
      frame.slotA = null;
    }
    if (b !== null) {
      if (b.refs === 0) throw new RangeError(`slot ${b.index} released more often than retained`);
      if (--b.refs === 0) this.slotsInUse--;
      frame.slotB = null;
    }
    this.freeFrames[this.freeCount++] = frame;
  }

  /** Audio packets (Frame.track > 0) dropped with the fragments they were in (the reasons above count video only). */
  audioDropped = 0;

  countDrop(reason: DropReason, frames = 1): void {
    this.drops[reason] += frames;
  }

  /** Frames dropped for any reason (the sum of `drops`): with the frames stored, every frame fed. */
  get dropped(): number {
    let n = 0;
    for (let i = 0; i < DROP_REASONS.length; i++) n += this.drops[DROP_REASONS[i]!];
    return n;
  }

  /** Slots holding some frame's bytes (SpoolFragmentSource keeps half of them free while it drains). */
  get slotsHeld(): number {
    return this.slotsInUse;
  }

  /** Frame records not held (the reader needs one per access unit). */
  get freeFrameCount(): number {
    return this.freeCount;
  }

  /** Counters for telemetry and benchmarks. */
  get stats(): { slotsInUse: number; slotHighWater: number; framesInUse: number; framesHighWater: number } {
    return {
      slotsInUse: this.slotsInUse,
      slotHighWater: this.slotHighWater,
      framesInUse: this.frames.length - this.freeCount,
      framesHighWater: this.frames.length - this.freeLow,
    };
  }
}
