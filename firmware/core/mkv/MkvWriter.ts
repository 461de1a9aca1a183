import { FieldcamError } from '../errors.ts';
import { MAX_NALS_PER_FRAME, type Frame } from '../media/Frame.ts';
import type { ViewList } from '../media/ViewList.ts';
import { buildSegmentHeader, SEGMENT_UID_BYTES } from './buildSegmentHeader.ts';
import { EbmlBuilder } from './EbmlBuilder.ts';
import { EBML_IDS } from './ebmlIds.ts';
import type { FragmentMetadata } from './FragmentMetadata.ts';
import { BLOCK_STATE } from './blockState.ts';
import type { MkvBlockPort } from './MkvBlockPort.ts';
import { MKV_LIMITS } from './mkvLimits.ts';
import type { AudioTrackSpec, TrackSpec } from './TrackSpec.ts';
import { vintMax } from './vint.ts';
import { TAGS_ELEMENT_OVERHEAD, writeTagsElement } from './writeTagsElement.ts';

export type { AudioTrackSpec, TrackSpec } from './TrackSpec.ts';

export interface MkvWriterOptions {
  readonly track: TrackSpec;
  /** Audio tracks after the video (TrackNumber 2, 3); KVS takes at most 3 tracks in all (MKV_TOO_MANY_TRACKS). */
  readonly audio?: readonly AudioTrackSpec[];
  /** Longest fragment accepted, in ms (default 10000, the strictest documented KVS limit, E1; at most 20000). */
  readonly maxFragmentMs?: number;
  /** Largest fragment accepted, in bytes (default and ceiling 50 MB, KVS ACK 4001). */
  readonly maxFragmentBytes?: number;
  /** SegmentUID (16 bytes). Pin it for byte-identical output; otherwise one is drawn at construction. */
  readonly segmentUid?: Uint8Array;
  /** Matroska WritingApp (default 'fieldcam'). */
  readonly writingApp?: string;
  /** The board's native block writer; used when the track says what its payload is (`TrackSpec.payload`). */
  readonly blockPort?: MkvBlockPort;
  /**
   * A fragment closed without a block of every track: `throw` (default) refuses it, MKV_TRACK_MISSING_IN_FRAGMENT
   * (offline: nothing written yet); `allow` lets it go, for a live upload where the fragment is already on the wire
   * and KVS's ACK 4011 will drop it (the caller counts it with `missingTrack()` first).
   */
  readonly missingTrack?: 'throw' | 'allow';
}

/** Name KVS reads as "this fragment is complete" (PIC Include_i.h EOFR_METADATA_NAME). */
export const END_OF_FRAGMENT_TAG_NAME = 'AWS_KINESISVIDEO_END_OF_FRAGMENT';

// SimpleBlock header template (RFC 9559 SimpleBlock structure): ID A3, Element Data Size as a 4-octet VINT
// (patched per block), track number VINT 0x81, int16 relative timecode, flags. 9 bytes per frame.
const BLOCK_SIZE_OFFSET = 1;
const BLOCK_SIZE_WIDTH = 4;
const BLOCK_TRACK_BYTES = 1;
const BLOCK_TIMECODE_OFFSET = 6;
const BLOCK_FLAGS_OFFSET = 8;
/** Block content before the frame: track number, timecode, flags. */
const BLOCK_PREFIX = BLOCK_TRACK_BYTES + 2 + 1;
const FLAG_KEY = 0x80;
/** Largest block content the 4-octet size VINT holds (2^28 - 2, RFC 8794 §4). */
const BLOCK_CONTENT_MAX = vintMax(BLOCK_SIZE_WIDTH);
/** The size VINT's first octet: VINT_WIDTH 3 zero bits, then the VINT_MARKER (RFC 8794 §4.1); data in the low bits. */
const BLOCK_SIZE_MARKER = 0x80 >> (BLOCK_SIZE_WIDTH - 1);
/** Cluster timecode template: 8-octet unsigned integer so any epoch-ms value is patched in place. */
const CLUSTER_TIMECODE_WIDTH = 8;
/** The block state's layout and writeBlock's results as locals (one read each, not a property lookup per use). */
const {
  CLUSTER: S_CLUSTER,
  BLOCKS: S_BLOCKS,
  BYTES: S_BYTES,
  FRAGMENT_END: S_FRAGMENT_END,
  HAVE_FRAME: S_HAVE_FRAME,
  LAST_DTS: S_LAST_DTS,
  LAST_DURATION: S_LAST_DURATION,
  MAX_MS: S_MAX_MS,
  MAX_BYTES: S_MAX_BYTES,
  OPEN: S_OPEN,
  LIST_FULL: W_LIST_FULL,
  TOO_LARGE: W_TOO_LARGE,
} = BLOCK_STATE;

/** Read once: `Number.isSafeInteger` is a global and a property lookup per call in XS (three calls per frame). */
const isSafeInteger = Number.isSafeInteger;
const floor = Math.floor;

function checkTime(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be a non-negative integer (ms), got ${value}`);
}

function callOrder(): FieldcamError {
  return new FieldcamError('MKV_CALL_ORDER', 'block() outside a fragment: call startFragment() first');
}

function listFull(out: ViewList): FieldcamError {
  return new FieldcamError('MKV_VIEW_LIST_FULL', `view list capacity ${out.capacity} exceeded`);
}

function randomSegmentUid(): Uint8Array {
  // Not cryptographic: a SegmentUID only has to differ between segments. Boards with an RNG pass their own.
  const uid = new Uint8Array(SEGMENT_UID_BYTES);
  for (let i = 0; i < uid.length; i++) uid[i] = Math.floor(Math.random() * 256);
  uid[0] |= 0x01; // never all zero (SegmentUUID "not 0")
  return uid;
}

/**
 * Drops what was pushed after a mark. Everything after the mark was appended by this writer behind its own
 * header view, so nothing before the mark was merged into (ViewList merges only contiguous ranges of one
 * source). References to slots are replaced so a refused frame does not pin them.
 */
/**
 * Codec-agnostic Matroska writer for one KVS PutMedia body (kvs-reference.md §5): the header, then one
 * Cluster per fragment, each preceded by its metadata Tags, SimpleBlocks, and an optional end-of-fragment Tags.
 *
 * Every method appends views to `out` and copies no payload byte. Headers come from templates built at
 * construction and patched in place: views produced by a call stay valid until the next call of the SAME
 * method (each method has its own scratch). Every KVS rule is checked before anything is appended; a refused
 * call throws FieldcamError and leaves both the writer and `out` as they were.
 */
export class MkvWriter {
  // The fields every block reads come first: XS finds a property by walking the object's own properties in the order
  // they were defined (docs/performance.md, eighth step).
  /** The board's checked block writer (MkvBlockPort.writeBlock) when the port has one, else undefined. */
  private readonly writePort: MkvBlockPort | undefined;
  private readonly blockTemplate: Uint8Array;
  /** The port's AVCC length scratch (4 bytes per NAL index); null for a whole payload. */
  private readonly portLengths: Uint8Array | null;
  /**
   * What a block is checked against (whether a fragment is open, the Cluster timecode, blocks and bytes of the open
   * fragment, its end, the last frame's DTS and duration, the limits), in one array that the board's writeBlock reads
   * and updates in the same call (BLOCK_STATE); the accessors below keep the rest of the writer reading it as fields.
   */
  private readonly state = new Float64Array(BLOCK_STATE.LENGTH);
  readonly track: TrackSpec;
  readonly maxFragmentMs: number;
  readonly maxFragmentBytes: number;
  private readonly headerBytes: Uint8Array;
  private readonly clusterTemplate: Uint8Array;
  private readonly clusterTimecodeOffset: number;
  private readonly endOfFragmentBytes: Uint8Array;
  /** The board's block writer when the track's payload is one it knows, else undefined (the TypeScript path). */
  private readonly port: MkvBlockPort | undefined;
  /** The board's writeBlockAlone (MkvBlockPort) when the port has it with writeBlock, else undefined. */
  private readonly alonePort: MkvBlockPort | undefined;
  private segmentOpen = false;
  private haveCluster = false;
  /** Per audio track: its SimpleBlock header template, blocks in the open fragment, last timecode written. */
  private readonly audioTemplates: Uint8Array[] = [];
  private readonly audioBlocks: number[] = [];
  private readonly audioLast: number[] = [];
  private readonly allowMissingTrack: boolean;

  constructor(options: MkvWriterOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const maxMs = options.maxFragmentMs ?? MKV_LIMITS.fragmentMsDefault;
    if (!Number.isInteger(maxMs) || maxMs < 1 || maxMs > MKV_LIMITS.fragmentMsCeiling) {
      throw new RangeError(`maxFragmentMs must be an integer 1-${MKV_LIMITS.fragmentMsCeiling}, got ${String(maxMs)}`);
    }
    const maxBytes = options.maxFragmentBytes ?? MKV_LIMITS.fragmentBytesDefault;
    if (!Number.isInteger(maxBytes) || maxBytes < 1 || maxBytes > MKV_LIMITS.fragmentBytesCeiling) {
      throw new RangeError(`maxFragmentBytes must be an integer 1-${MKV_LIMITS.fragmentBytesCeiling}, got ${String(maxBytes)}`);
    }
    this.track = options.track;
    this.allowMissingTrack = options.missingTrack === 'allow';
    this.maxFragmentMs = maxMs;
    this.maxFragmentBytes = maxBytes;
    const audio = options.audio ?? [];
    this.headerBytes = buildSegmentHeader(options.track, options.segmentUid ?? randomSegmentUid(), options.writingApp ?? 'fieldcam', audio);

    const b = new EbmlBuilder(TAGS_ELEMENT_OVERHEAD + END_OF_FRAGMENT_TAG_NAME.length);
    // Cluster of unknown size (one per fragment, ended by the next level-1 element), Timecode first.
    b.beginUnknown(EBML_IDS.Cluster, 1).uint(EBML_IDS.Timecode, 0, CLUSTER_TIMECODE_WIDTH);
    this.clusterTimecodeOffset = b.length - CLUSTER_TIMECODE_WIDTH;
    this.clusterTemplate = b.toUint8Array();

    b.reset().id(EBML_IDS.SimpleBlock).size(BLOCK_PREFIX, BLOCK_SIZE_WIDTH).size(1, BLOCK_TRACK_BYTES).u8(0).u8(0).u8(0);
    this.blockTemplate = b.toUint8Array();
    for (let i = 0; i < audio.length; i++) {
      b.reset()
        .id(EBML_IDS.SimpleBlock)
        .size(BLOCK_PREFIX, BLOCK_SIZE_WIDTH)
        .size(2 + i, BLOCK_TRACK_BYTES)
        .u8(0)
        .u8(0)
        .u8(FLAG_KEY);
      this.audioTemplates.push(b.toUint8Array());
      this.audioBlocks.push(0);
      this.audioLast.push(-1);
    }

    // End of fragment, as the PIC packages it: a Tags element named AWS_KINESISVIDEO_END_OF_FRAGMENT with an
    // empty TagString (Stream.c putFrame for EoFr frames; generateEosMetadata).
    writeTagsElement(b.reset(), END_OF_FRAGMENT_TAG_NAME, '');
    this.endOfFragmentBytes = b.toUint8Array();

    const payload = options.track.payload;
    this.port = payload === 'avcc' || payload === 'whole' ? options.blockPort : undefined;
    this.writePort = this.port?.writeBlock ? this.port : undefined;
    this.alonePort = this.writePort?.writeBlockAlone ? this.writePort : undefined;
    this.state[S_MAX_MS] = maxMs;
    this.state[S_MAX_BYTES] = maxBytes;
    this.portLengths = this.port !== undefined && payload === 'avcc' ? new Uint8Array(4 * MAX_NALS_PER_FRAME) : null;
  }

  private get fragmentOpen(): boolean {
    return this.state[S_OPEN] === 1;
  }

  private set fragmentOpen(yes: boolean) {
    this.state[S_OPEN] = yes ? 1 : 0;
  }

  private get clusterTimecode(): number {
    return this.state[S_CLUSTER] as number;
  }

  private set clusterTimecode(ms: number) {
    this.state[S_CLUSTER] = ms;
  }

  private get blocks(): number {
    return this.state[S_BLOCKS] as number;
  }

  private set blocks(n: number) {
    this.state[S_BLOCKS] = n;
  }

  private get bytes(): number {
    return this.state[S_BYTES] as number;
  }

  private set bytes(n: number) {
    this.state[S_BYTES] = n;
  }

  private get fragmentEnd(): number {
    return this.state[S_FRAGMENT_END] as number;
  }

  private set fragmentEnd(ms: number) {
    this.state[S_FRAGMENT_END] = ms;
  }

  private get haveFrame(): boolean {
    return this.state[S_HAVE_FRAME] === 1;
  }

  private set haveFrame(yes: boolean) {
    this.state[S_HAVE_FRAME] = yes ? 1 : 0;
  }

  private get lastDts(): number {
    return this.state[S_LAST_DTS] as number;
  }

  private set lastDts(ms: number) {
    this.state[S_LAST_DTS] = ms;
  }

  private get lastDuration(): number {
    return this.state[S_LAST_DURATION] as number;
  }

  private set lastDuration(ms: number) {
    this.state[S_LAST_DURATION] = ms;
  }

  /**
   * The earliest timecode a next fragment may start at on this segment: the end of the last frame written (fragments
   * must not overlap, `startFragment`), or -Infinity before the segment's first frame.
   */
  get nextFragmentFrom(): number {
    return this.haveFrame ? this.lastDts + this.lastDuration : -Infinity;
  }

  /** True between `startFragment()` and `endFragment()` (or the next `startFragment()`/`header()`). */
  get inFragment(): boolean {
    return this.fragmentOpen;
  }

  /** Timecode of the open (or last) fragment's Cluster, in ms. */
  get fragmentTimecode(): number {
    return this.clusterTimecode;
  }

  /** Bytes of the open fragment so far (its Tags, Cluster header and blocks). */
  get fragmentBytes(): number {
    return this.bytes;
  }

  /** Blocks in the open fragment so far. */
  get fragmentBlocks(): number {
    return this.blocks;
  }

  /**
   * EBML header, Segment (unknown size), Info and Tracks, built at construction (the view is permanent).
   * Starts a new segment, i.e. a new PutMedia connection: fragment and timestamp history is forgotten, so
   * un-acknowledged fragments can be replayed with their original timecodes.
   */
  header(out: ViewList): void {
    out.push(this.headerBytes, 0, this.headerBytes.length);
    this.segmentOpen = true;
    this.fragmentOpen = false;
    this.haveCluster = false;
    this.haveFrame = false;
    this.blocks = 0;
    this.bytes = 0;
    for (let i = 0; i < this.audioLast.length; i++) this.audioLast[i] = -1;
  }

  /**
   * Opens a fragment: the metadata's Tags (level 1, so before the Cluster they belong to, as the PIC
   * inserts accumulated metadata before the fragment start), then a Cluster of unknown size with its
   * Timecode (`timecode`, ms). The caller calls `metadata.fragmentDone()` once the fragment is committed,
   * so one-shot items go on exactly one fragment. The Tags view stays valid until the metadata is encoded
   * again, i.e. the next `startFragment` after the set changed. `clipTags`: more Tags elements for this fragment only
   * (an event clip's, EventGate.tagsFor), after the metadata's.
   */
  startFragment(timecode: number, out: ViewList, metadata?: FragmentMetadata, clipTags?: Uint8Array): void {
    // Once per fragment, yet ~500 computrons through the state's accessors: the state read in place (ninth step).
    const state = this.state;
    if (!this.segmentOpen) throw new FieldcamError('MKV_CALL_ORDER', 'startFragment() before header()');
    if (!(timecode >= 0 && isSafeInteger(timecode))) checkTime(timecode, 'timecode'); // the literal only on failure: XS copies it per evaluation
    if (this.haveCluster && timecode <= (state[S_CLUSTER] as number)) {
      throw new FieldcamError(
        'MKV_FRAGMENT_NOT_MONOTONIC',
        `fragment timecode ${timecode} ms does not follow the previous fragment's ${this.clusterTimecode} ms`,
      );
    }
    if (state[S_HAVE_FRAME] === 1 && timecode < (state[S_LAST_DTS] as number) + (state[S_LAST_DURATION] as number)) {
      // Fragments must not overlap (kvs-reference.md §5.3, cross-fragment rule).
      throw new FieldcamError(
        'MKV_FRAGMENT_NOT_MONOTONIC',
        `fragment timecode ${timecode} ms is before the end of the previous frame (${this.lastDts + this.lastDuration} ms)`,
      );
    }
    const audioBlocks = this.audioBlocks;
    if (audioBlocks.length > 0 && state[S_OPEN] === 1 && !this.allowMissingTrack) this.checkTracksPresent();
    const tags = metadata === undefined ? undefined : metadata.encode();
    const tpl = this.clusterTemplate;
    // writeUintBE(tpl, offset, timecode, 8) as two 32-bit halves: a division and a Math lookup per octet otherwise.
    const at = this.clusterTimecodeOffset;
    const high = floor(timecode / 0x1_0000_0000);
    const low = timecode - high * 0x1_0000_0000;
    tpl[at] = high >>> 24;
    tpl[at + 1] = (high >>> 16) & 0xff;
    tpl[at + 2] = (high >>> 8) & 0xff;
    tpl[at + 3] = high & 0xff;
    tpl[at + 4] = low >>> 24;
    tpl[at + 5] = (low >>> 16) & 0xff;
    tpl[at + 6] = (low >>> 8) & 0xff;
    tpl[at + 7] = low & 0xff;
    const markBytes = out.byteLength;
    if (tags === undefined && clipTags === undefined && out.count < out.capacity) {
      // The Cluster alone, with room for it: `push` cannot throw, so no `try` (~30 computrons in XS).
      out.push(tpl, 0, tpl.length);
    } else {
      const markCount = out.count;
      try {
        if (tags !== undefined && tags.length > 0) out.push(tags, 0, tags.length);
        if (clipTags !== undefined && clipTags.length > 0) out.push(clipTags, 0, clipTags.length);
        out.push(tpl, 0, tpl.length);
      } catch (err) {
        out.truncate(markCount, markBytes);
        throw err;
      }
    }
    this.haveCluster = true;
    state[S_OPEN] = 1;
    state[S_CLUSTER] = timecode;
    state[S_BLOCKS] = 0;
    state[S_BYTES] = out.byteLength - markBytes;
    state[S_FRAGMENT_END] = timecode;
    for (let i = 0; i < audioBlocks.length; i++) audioBlocks[i] = 0;
  }

  /**
   * One audio packet (`bytes[offset, offset + length)`, one AAC frame or G.711 run) as a SimpleBlock of audio track
   * `track` (0 = TrackNumber 2) at `timecode` ms. The caller interleaves by timecode (KVS needs the blocks of a
   * fragment in time order across tracks); audio must not precede its fragment or go backwards.
   */
  audioBlock(track: number, timecode: number, bytes: Uint8Array, offset: number, length: number, out: ViewList): void {
    this.audioHeader(track, timecode, length, out);
    out.push(bytes, offset, length);
  }

  /**
   * An audio packet held in the frame pool (Frame.track > 0, AudioInput) as a SimpleBlock of its track at its PTS:
   * the header, then the payload's one or two pieces as views (no copy). Same rules as `audioBlock`.
   */
  audioFrame(frame: Frame, out: ViewList): void {
    const length = frame.size;
    this.audioHeader(frame.track - 1, frame.pts, length, out);
    out.push(frame.slotA!.bytes, frame.startA, frame.endA - frame.startA);
    if (frame.slotB !== null) out.push(frame.slotB.bytes, frame.startB, frame.endB - frame.startB);
  }

  /** Checks an audio block against KVS's rules (nothing appended when refused), then appends its patched header. */
  private audioHeader(track: number, timecode: number, length: number, out: ViewList): void {
    if (!this.fragmentOpen) throw new FieldcamError('MKV_CALL_ORDER', 'audioBlock() outside a fragment: call startFragment() first');
    const tpl = this.audioTemplates[track];
    if (tpl === undefined) throw new RangeError(`audio track ${track} is not in the header (${this.audioTemplates.length} audio tracks)`);
    checkTime(timecode, 'audio timecode');
    const relative = timecode - this.clusterTimecode;
    if (relative < 0 || relative > MKV_LIMITS.blockTimecodeMax) {
      throw new FieldcamError(
        'MKV_BLOCK_TIMECODE_RANGE',
        `audio at ${timecode} ms is ${relative} ms from its fragment start ${this.clusterTimecode} ms; 0-${MKV_LIMITS.blockTimecodeMax} allowed`,
      );
    }
    if (timecode < (this.audioLast[track] as number)) {
      throw new FieldcamError('MKV_FRAME_NOT_MONOTONIC', `audio at ${timecode} ms is before the previous audio block (${this.audioLast[track]} ms)`);
    }
    if (relative > this.maxFragmentMs) {
      throw new FieldcamError(
        'MKV_FRAGMENT_TOO_LONG',
        `audio at ${timecode} ms would make the fragment from ${this.clusterTimecode} ms last longer than ${this.maxFragmentMs} ms`,
      );
    }
    const content = BLOCK_PREFIX + length;
    const blockBytes = BLOCK_SIZE_OFFSET + BLOCK_SIZE_WIDTH + content;
    if (content > BLOCK_CONTENT_MAX || this.bytes + blockBytes > this.maxFragmentBytes) {
      throw new FieldcamError(
        'MKV_FRAGMENT_TOO_LARGE',
        `a ${blockBytes}-byte audio block would make the fragment ${this.bytes + blockBytes} bytes; the limit is ${this.maxFragmentBytes}`,
      );
    }
    tpl[BLOCK_SIZE_OFFSET] = BLOCK_SIZE_MARKER | (content >>> 24);
    tpl[BLOCK_SIZE_OFFSET + 1] = (content >>> 16) & 0xff;
    tpl[BLOCK_SIZE_OFFSET + 2] = (content >>> 8) & 0xff;
    tpl[BLOCK_SIZE_OFFSET + 3] = content & 0xff;
    tpl[BLOCK_TIMECODE_OFFSET] = relative >> 8;
    tpl[BLOCK_TIMECODE_OFFSET + 1] = relative & 0xff;
    out.push(tpl, 0, tpl.length);
    this.audioBlocks[track]!++;
    this.audioLast[track] = timecode;
    this.bytes += blockBytes;
  }

  /** The audio track (0 = TrackNumber 2) with no block in the open fragment yet, or -1 (none, or no fragment open). */
  missingTrack(): number {
    if (!this.fragmentOpen) return -1;
    for (let i = 0; i < this.audioBlocks.length; i++) if (this.audioBlocks[i] === 0) return i;
    return -1;
  }

  /** KVS refuses a fragment missing a track (ACK 4011): every audio track must have a block in the open fragment. */
  checkTracksPresent(): void {
    for (let i = 0; i < this.audioBlocks.length; i++) {
      if (this.audioBlocks[i] === 0) {
        throw new FieldcamError(
          'MKV_TRACK_MISSING_IN_FRAGMENT',
          `the fragment at ${this.clusterTimecode} ms has ${this.blocks} video block(s) and no block of audio track ${2 + i}`,
        );
      }
    }
  }

  /**
   * One frame as a SimpleBlock: a 9-byte header from the reused template, then the track's payload views.
   * The relative timecode is the frame's PTS minus the Cluster timecode.
   */
  block(frame: Frame, out: ViewList): void {
    const writePort = this.writePort;
    if (writePort !== undefined) {
      // The board checks (an open fragment included), appends and updates the state in one call
      // (MkvBlockPort.writeBlock); a refusal is named below by the same checks the TypeScript path runs, so the errors
      // are the writer's own on every board. No `try` (34 computrons a frame in XS): a port that throws leaves `out`
      // as it was (MkvBlockPort.writeBlock).
      const markCount = out.count;
      const markBytes = out.byteLength;
      const written = writePort.writeBlock!(frame, out, this.blockTemplate, this.portLengths, this.state);
      if (written < 0) this.refuseBlock(frame, out, markCount, markBytes, written);
      return;
    }
    if (!this.fragmentOpen) throw callOrder();
    const end = this.checkBlock(frame);
    const pts = frame.pts;
    const relative = pts - this.clusterTimecode;
    const tpl = this.blockTemplate;
    const markCount = out.count;
    const markBytes = out.byteLength;
    const port = this.port;
    let blockBytes: number;
    if (port !== undefined) {
      // The board's native writes the header and the payload's views in one call (MkvBlockPort).
      try {
        blockBytes = port.pushBlock(frame, out, tpl, relative, this.portLengths);
      } catch (err) {
        out.truncate(markCount, markBytes);
        throw err;
      }
      if (blockBytes < 0) {
        out.truncate(markCount, markBytes);
        throw listFull(out);
      }
    } else {
      tpl[BLOCK_TIMECODE_OFFSET] = relative >> 8; // int16 big-endian; 0-32767 here
      tpl[BLOCK_TIMECODE_OFFSET + 1] = relative & 0xff;
      tpl[BLOCK_FLAGS_OFFSET] = frame.key ? FLAG_KEY : 0;
      try {
        out.push(tpl, 0, tpl.length);
        this.track.pushPayload(frame, out);
      } catch (err) {
        out.truncate(markCount, markBytes);
        throw err;
      }
      blockBytes = out.byteLength - markBytes;
    }
    const content = blockBytes - (BLOCK_SIZE_OFFSET + BLOCK_SIZE_WIDTH);
    if (content > BLOCK_CONTENT_MAX || this.bytes + blockBytes > this.maxFragmentBytes) {
      out.truncate(markCount, markBytes);
      throw this.tooLarge(blockBytes);
    }
    if (port === undefined) {
      // writeVint(tpl, BLOCK_SIZE_OFFSET, content, BLOCK_SIZE_WIDTH) unrolled: content <= 2^28 - 2 fits 32-bit ops.
      tpl[BLOCK_SIZE_OFFSET] = BLOCK_SIZE_MARKER | (content >>> 24);
      tpl[BLOCK_SIZE_OFFSET + 1] = (content >>> 16) & 0xff;
      tpl[BLOCK_SIZE_OFFSET + 2] = (content >>> 8) & 0xff;
      tpl[BLOCK_SIZE_OFFSET + 3] = content & 0xff;
    }
    this.blocks++;
    this.bytes += blockBytes;
    this.fragmentEnd = end;
    this.haveFrame = true;
    this.lastDts = frame.dts;
    this.lastDuration = frame.duration;
  }

  /**
   * `out` emptied, then the frame's block: what `out.clear()` and `block(frame, out)` do, for a caller that sends each
   * block on its own (the offline Muxer), in one native call on a board with MkvBlockPort.writeBlockAlone. Returns
   * the block's bytes (`out.byteLength`). Refuses and throws as `block` does, `out` then empty.
   */
  blockAlone(frame: Frame, out: ViewList): number {
    const alonePort = this.alonePort;
    if (alonePort === undefined) {
      out.clear();
      this.block(frame, out);
      return out.byteLength;
    }
    const written = alonePort.writeBlockAlone!(out, this.blockTemplate, this.portLengths, this.state, frame);
    if (written < 0) this.refuseBlock(frame, out, 0, 0, written);
    return written;
  }

  /**
   * `blockAlone` into `out` as a function of the frame alone, for a caller that writes every frame's block on its own
   * into the same list (the offline Muxer): with the board's writeBlockAlone, that native bound to `out` and this
   * writer's template and state, so a frame costs one native call and no JS frame. It returns the block's bytes, or a
   * result below 0 when it refused the frame, with the writer's state unchanged (`out` emptied, and it may hold ranges
   * of the refused block): `blockAlone(frame, out)` then names the refusal (it throws, `out` left empty). Without the
   * port, `blockAlone` itself (it throws its refusals).
   */
  blockAloneInto(out: ViewList): (frame: Frame) => number {
    const alonePort = this.alonePort;
    if (alonePort === undefined) return (frame) => this.blockAlone(frame, out);
    // Bound, not an arrow calling it: an arrow is a JS call per frame more in XS.
    return alonePort.writeBlockAlone!.bind(undefined, out, this.blockTemplate, this.portLengths, this.state);
  }

  /**
   * The KVS rules a frame's block must pass against the open fragment (kvs-reference.md §5.3): throws the named
   * refusal, else returns the fragment's end with the frame (ms). The board's writeBlock applies the same rules.
   */
  private checkBlock(frame: Frame): number {
    const pts = frame.pts;
    const dts = frame.dts;
    const duration = frame.duration;
    // One test for the common case (the per-frame cost, docs/performance.md); checkTime names the bad one.
    if (!(pts >= 0 && dts >= 0 && duration >= 0 && isSafeInteger(pts) && isSafeInteger(dts) && isSafeInteger(duration))) {
      checkTime(pts, 'frame.pts');
      checkTime(dts, 'frame.dts');
      checkTime(duration, 'frame.duration');
    }
    const cluster = this.clusterTimecode;
    if (this.blocks === 0) {
      if (!frame.key) throw new FieldcamError('MKV_FRAGMENT_START_NOT_KEY', `the frame opening the fragment at ${cluster} ms is not a key frame`);
      if (pts !== dts) throw new FieldcamError('MKV_FRAGMENT_START_PTS_DTS', `the key frame opening the fragment has PTS ${pts} ms and DTS ${dts} ms`);
    }
    const relative = pts - cluster;
    if (relative < 0 || relative > MKV_LIMITS.blockTimecodeMax) {
      throw new FieldcamError(
        'MKV_BLOCK_TIMECODE_RANGE',
        `frame PTS ${pts} ms is ${relative} ms from its fragment start ${cluster} ms; 0-${MKV_LIMITS.blockTimecodeMax} allowed`,
      );
    }
    if (this.haveFrame && dts < this.lastDts + this.lastDuration) {
      throw new FieldcamError(
        'MKV_FRAME_NOT_MONOTONIC',
        `frame DTS ${dts} ms is before the previous frame's DTS + duration (${this.lastDts} + ${this.lastDuration} ms)`,
      );
    }
    const end = pts + duration > this.fragmentEnd ? pts + duration : this.fragmentEnd;
    if (end - cluster > this.maxFragmentMs) {
      throw new FieldcamError(
        'MKV_FRAGMENT_TOO_LONG',
        `the fragment starting at ${cluster} ms would last ${end - cluster} ms (key frames at least that far apart); the limit is ${this.maxFragmentMs} ms`,
      );
    }
    return end;
  }

  /** The board's writeBlock refused the frame (`result` < 0): the list as it was, and the refusal named. */
  private refuseBlock(frame: Frame, out: ViewList, markCount: number, markBytes: number, result: number): never {
    const blockBytes = out.byteLength - markBytes;
    out.truncate(markCount, markBytes);
    if (!this.fragmentOpen) throw callOrder();
    if (result === W_LIST_FULL) throw listFull(out);
    if (result === W_TOO_LARGE) throw this.tooLarge(blockBytes);
    this.checkBlock(frame);
    throw new RangeError(`the board's block writer refused a frame the writer's checks accept (result ${result})`);
  }

  private tooLarge(blockBytes: number): FieldcamError {
    return new FieldcamError(
      'MKV_FRAGMENT_TOO_LARGE',
      `a ${blockBytes}-byte block would make the fragment ${this.bytes + blockBytes} bytes; the limit is ${this.maxFragmentBytes}`,
    );
  }

  /**
   * Closes the open fragment with the end-of-fragment Tags (a constant view), so KVS can acknowledge it
   * without waiting for the next fragment to start. Optional: `startFragment()` also ends the previous one.
   */
  endFragment(out: ViewList): void {
    if (!this.fragmentOpen) throw new FieldcamError('MKV_CALL_ORDER', 'endFragment() outside a fragment');
    if (!this.allowMissingTrack) this.checkTracksPresent();
    out.push(this.endOfFragmentBytes, 0, this.endOfFragmentBytes.length);
    this.fragmentOpen = false;
  }
}
