import type { Slot } from '../pool/Slot.ts';

/** NAL units one access unit may carry (AUD, SPS, PPS, SEI, several slices…). */
export const MAX_NALS_PER_FRAME = 32;

/** The NAL table of a record without one (length 0: nothing can be written into them). */
const NO_U32 = new Uint32Array(0);
const NO_U8 = new Uint8Array(0);

/**
 * One access unit (video frame) in the frame pool. Records are allocated once at boot and reused.
 *
 * The payload is one or two contiguous pieces: a frame read from a byte stream may begin in the tail of
 * the slot that holds its predecessor (piece A) and continue in the next slot (piece B). Offsets in the
 * NAL table are logical: 0 is the first byte of piece A, and piece B follows it.
 * Times are in TimecodeScale units (milliseconds, kvs-reference.md §5.3).
 */
export class Frame {
  // The fields JavaScript reads for every frame (stamping, fragmenting, the block) come first: XS finds a property by
  // walking the object's own properties in the order they were defined (docs/performance.md, eighth step).
  pts = 0;
  dts = 0;
  duration = 0;
  /** Set from the bitstream (IDR NAL type, or every JPEG), never from a caller's flag. */
  key = false;
  /**
   * 0: the video track. 1, 2: an audio packet of audio track 1, 2 (Matroska TrackNumber 2, 3; AudioInput): it never
   * opens a fragment, has no NAL table, and is queued among the video frames by timecode.
   */
  track = 0;
  /** Set by the fragmenter: this frame opens a new fragment (Matroska Cluster). */
  fragmentStart = false;
  /** Set when the frame's bytes have been handed to the uploader at least once. */
  sent = false;
  /**
   * On a fragment's first frame: the FrameGate holds the fragment (event recording's pre-roll); the uploader does
   * not see it until the gate admits it (FragmentQueue.admitHeld) or it ages out, dropped whole as `outsideEvent`.
   */
  held = false;
  /** On a fragment's first frame: the event clip it belongs to (EventGate clip id, the clip's first event timecode), 0 none. */
  clip = 0;
  /** Monotonic sequence number assigned by the reader (decode order). */
  seq = 0;
  slotA: Slot | null = null;
  startA = 0;
  endA = 0;
  slotB: Slot | null = null;
  startB = 0;
  endB = 0;
  /** Logical offset of the frame's first byte in the input stream (the reader's cursor), for its capture time. */
  streamOffset = 0;
  /**
   * Monotonic ms of the camera read that brought the frame's first byte; -1 when reads carry no time, and once
   * the uploader measured the frame's first send (capture → socket).
   */
  capturedAt = -1;

  /** H.264 NAL table: offset of the NAL header byte, NAL length, start-code length before it (3/4), type. */
  nalCount = 0;
  readonly nalOffset: Uint32Array;
  readonly nalLength: Uint32Array;
  readonly nalPrefix: Uint8Array;
  readonly nalType: Uint8Array;

  /**
   * `nalCapacity`: entries of the NAL table. H.264 needs MAX_NALS_PER_FRAME; an MJPEG pool passes 0, since a
   * JPEG image has no NAL units — on an ESP32-class heap the tables of ~100 records would cost ~30 KiB.
   */
  constructor(nalCapacity: number = MAX_NALS_PER_FRAME) {
    // No NAL table (MJPEG): every record shares the same empty arrays. Four empty arrays of its own cost a
    // record about 20 XS slots (each typed array and its buffer), ~31 KiB over esp32-cam's 98 records.
    const own = nalCapacity > 0;
    this.nalOffset = own ? new Uint32Array(nalCapacity) : NO_U32;
    this.nalLength = own ? new Uint32Array(nalCapacity) : NO_U32;
    this.nalPrefix = own ? new Uint8Array(nalCapacity) : NO_U8;
    this.nalType = own ? new Uint8Array(nalCapacity) : NO_U8;
  }

  get size(): number {
    return this.endA - this.startA + (this.endB - this.startB);
  }

  /** Byte at logical offset `i` of the payload. */
  byteAt(i: number): number {
    const lenA = this.endA - this.startA;
    if (i < lenA) return (this.slotA as Slot).bytes[this.startA + i] as number;
    return (this.slotB as Slot).bytes[this.startB + i - lenA] as number;
  }

  /** Overwrites the byte at logical offset `i` (used to turn 4-byte start codes into AVCC lengths in place). */
  setByteAt(i: number, value: number): void {
    const lenA = this.endA - this.startA;
    if (i < lenA) (this.slotA as Slot).bytes[this.startA + i] = value;
    else (this.slotB as Slot).bytes[this.startB + i - lenA] = value;
  }

  /** Clears every field; the pool calls this when the record is handed out again. */
  reset(): void {
    this.slotA = null;
    this.slotB = null;
    this.startA = this.endA = this.startB = this.endB = 0;
    this.pts = this.dts = this.duration = 0;
    this.key = this.fragmentStart = this.sent = this.held = false;
    this.track = 0;
    this.clip = 0;
    this.seq = this.streamOffset = 0;
    this.capturedAt = -1;
    this.nalCount = 0;
  }
}
