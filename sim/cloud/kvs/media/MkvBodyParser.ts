// The Matroska side of a PutMedia body (kvs-reference.md §5.2): one EBML header and one Segment holding Info
// and Tracks, then level-1 Tags and Clusters of unknown size. Reports what PutMediaIngest needs as events:
// the connection's header, metadata Tags, Cluster start/Timecode/blocks/end. Anything that breaks this
// structure throws MkvUnparseable (EBML errors from the reader are FieldcamError EBML_*).
import { EBML_EVENT, EbmlReader, ebmlInt, ebmlUint } from '../../../../host/shared/mkv/EbmlReader.ts';
import { EBML_IDS } from '../../../../firmware/core/mkv/ebmlIds.ts';
import type { ByteWindow } from './ByteWindow.ts';
import { METADATA_LIMITS } from '../../../../firmware/core/mkv/mkvLimits.ts';
import type { FragmentTag } from './checkFragmentTags.ts';

/** What a track declares that the ingest needs: its number and, for durations, its DefaultDuration. */
export interface Track {
  readonly number: number;
  readonly defaultDurationNs: number;
}

export interface MkvHeader {
  /** EBML header + Segment (8-octet unknown size) + Info + Tracks, as received (Segment size normalised). */
  readonly bytes: Uint8Array;
  readonly tracks: readonly Track[];
  /** TrackEntry elements seen (KVS accepts at most 3). */
  readonly trackEntries: number;
}

export interface MkvBodyEvents {
  /** The header is complete: reported once, right before the first Cluster starts. */
  header(header: MkvHeader): void;
  /** A level-1 Tags starts at `offset` (its items follow with `tags` when it ends). */
  tagsStart(offset: number): void;
  /**
   * The level-1 Tags ended at `end`. `items` holds at most METADATA_LIMITS.maxItems + 1 of its SimpleTags
   * (enough to tell "too many"; a hostile Tags cannot make the list grow); `count` is how many it had.
   */
  tags(items: FragmentTag[], count: number, end: number): void;
  /** A Cluster starts at `offset`; `size` is its data size, or UNKNOWN_SIZE (-1). */
  clusterStart(offset: number, headerLength: number, size: number): void;
  /** The Cluster Timecode, in TimecodeScale units; the element spans [offset, offset + length). */
  clusterTimecode(timecode: number, offset: number, length: number): void;
  /** A SimpleBlock or Block: its track and relative timecode, and BlockDuration (units) when a BlockGroup has one. */
  block(track: number, relative: number, duration: number | undefined): void;
  /** A block whose header cannot be read (fragment-level: ERROR 4006 for that fragment). */
  blockInvalid(why: string): void;
  /** The Cluster ended at `end` (next level-1 element, or the end of the body). */
  clusterEnd(end: number): void;
}

export class MkvUnparseable extends Error {}

const I = EBML_IDS;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
const BLOCK_DURATION = 0x9b;
/** Matroska TimecodeScale default, ns (RFC 9559 \Segment\Info\TimestampScale). */
const DEFAULT_TIMECODE_SCALE = 1_000_000;
/** Block head read: track number VINT (≤ 8 octets) + int16 timecode + flags (RFC 9559 block structure). */
const BLOCK_HEAD = 11;
/** TagName / TagString are read up to one byte past the KVS limits (128 / 256), so over-long ones are seen. */
const TAG_HEAD = 257;
const SEGMENT_UNKNOWN_SIZE = Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const DOC_TYPES: ReadonlySet<string> = new Set(['matroska', 'webm']);
const text = new TextDecoder('utf-8', { fatal: false });

interface OpenTag {
  name: string | undefined;
  nameBytes: number;
  value: string;
  valueBytes: number;
}

export class MkvBodyParser {
  private readonly reader = new EbmlReader({ maxDepth: 12, maxElementBytes: 2 ** 40, maxValueBytes: 512 });
  private readonly events: MkvBodyEvents;
  private readonly window: ByteWindow;
  private timecodeScale = DEFAULT_TIMECODE_SCALE;
  private sawEbml = false;
  private sawSegment = false;
  /** Offset of the EBML, Info or Tracks element being read (they do not nest). */
  private levelStart = 0;
  private ebmlRange: [number, number] | undefined;
  private infoRange: [number, number] | undefined;
  private tracksRange: [number, number] | undefined;
  private headerDone = false;
  private readonly tracks: Track[] = [];
  private trackInProgress: { number: number; defaultDurationNs: number } | undefined;
  private trackEntries = 0;
  private tagItems: FragmentTag[] | undefined;
  private tagCount = 0;
  private readonly openTags: OpenTag[] = [];
  private blockGroup: { track: number; relative: number; duration: number | undefined } | undefined;

  /** `window` holds the body bytes (the caller appends them before `push`); the header is copied out of it. */
  constructor(events: MkvBodyEvents, window: ByteWindow) {
    this.events = events;
    this.window = window;
  }

  /** Absolute offset of the next byte to parse. */
  get position(): number {
    return this.reader.position;
  }

  /** Absolute offset of the first byte no event has covered yet (an element header may be split before it). */
  get reportedPosition(): number {
    return this.reader.reportedPosition;
  }

  /** True once the header was reported: its bytes are no longer needed from the window. */
  get headerComplete(): boolean {
    return this.headerDone;
  }

  push(bytes: Uint8Array): void {
    this.reader.push(bytes);
    this.drain();
  }

  end(): void {
    this.reader.end();
    this.drain();
  }

  /** TimecodeScale units → ms. Epoch timecodes × ns would pass 2^53, so divide or multiply by the exact ratio. */
  toMs(units: number): number {
    const scale = this.timecodeScale;
    if (scale % 1_000_000 === 0) return units * (scale / 1_000_000);
    if (1_000_000 % scale === 0) return units / (1_000_000 / scale);
    return (units / 1_000_000) * scale;
  }

  /** ms → TimecodeScale units, rounded to the nearest unit (RELATIVE timecodes made absolute). */
  toUnits(ms: number): number {
    const scale = this.timecodeScale;
    if (scale % 1_000_000 === 0) return Math.round(ms / (scale / 1_000_000));
    if (1_000_000 % scale === 0) return ms * (1_000_000 / scale);
    return Math.round((ms * 1_000_000) / scale);
  }

  private drain(): void {
    const r = this.reader;
    for (let e = r.next(); e !== EBML_EVENT.NEED_MORE && e !== EBML_EVENT.DONE; e = r.next()) {
      if (e === EBML_EVENT.START) this.onStart();
      else if (e === EBML_EVENT.VALUE) this.onValue();
      else this.onEnd();
    }
  }

  private onStart(): void {
    const r = this.reader;
    const id = r.id;
    const parent = r.depth === 0 ? 0 : r.openId(r.depth - 1)!;
    switch (parent) {
      case 0:
        if (id === I.EBML) {
          if (this.sawEbml) throw new MkvUnparseable('a second EBML header: one PutMedia body carries one Matroska stream');
          this.sawEbml = true;
          this.levelStart = r.offset;
          return r.descend();
        }
        if (!this.sawEbml) throw new MkvUnparseable(`the body starts with element 0x${id.toString(16)}, not an EBML header`);
        if (id !== I.Segment) return r.skip();
        if (this.sawSegment) throw new MkvUnparseable('a second Segment: one PutMedia body carries exactly one');
        this.sawSegment = true;
        return r.descend();
      case I.EBML:
        return id === I.DocType ? r.read() : r.skip();
      case I.Segment:
        return this.onLevel1(id);
      case I.Info:
        return id === I.TimecodeScale ? r.read() : r.skip();
      case I.Tracks:
        if (id !== I.TrackEntry) return r.skip();
        this.trackEntries++;
        this.trackInProgress = { number: 0, defaultDurationNs: 0 };
        return r.descend();
      case I.TrackEntry:
        return id === I.TrackNumber || id === I.DefaultDuration ? r.read() : r.skip();
      case I.Tags:
        return id === I.Tag ? r.descend() : r.skip();
      case I.Tag:
      case I.SimpleTag:
        if (id === I.SimpleTag) {
          this.openTags.push({ name: undefined, nameBytes: 0, value: '', valueBytes: 0 });
          return r.descend();
        }
        return parent === I.SimpleTag && (id === I.TagName || id === I.TagString) ? r.readHead(TAG_HEAD) : r.skip();
      case I.Cluster:
        if (id === I.Timecode) return r.read();
        if (id === I.SimpleBlock) return r.readHead(BLOCK_HEAD);
        if (id !== BLOCK_GROUP) return r.skip();
        this.blockGroup = undefined;
        return r.descend();
      case BLOCK_GROUP:
        if (id === BLOCK) return r.readHead(BLOCK_HEAD);
        return id === BLOCK_DURATION ? r.read() : r.skip();
      default:
        return r.skip();
    }
  }

  private onLevel1(id: number): void {
    const r = this.reader;
    switch (id) {
      case I.Info:
      case I.Tracks:
        if (this.headerDone) {
          throw new MkvUnparseable(`${id === I.Info ? 'Info' : 'Tracks'} after the first fragment: the header may not change within a PutMedia body`);
        }
        if ((id === I.Info && this.infoRange) || (id === I.Tracks && this.tracksRange)) throw new MkvUnparseable('a second Info or Tracks element');
        this.levelStart = r.offset;
        return r.descend();
      case I.Tags:
        this.tagItems = [];
        this.tagCount = 0;
        this.openTags.length = 0;
        this.events.tagsStart(r.offset);
        return r.descend();
      case I.Cluster:
        if (!this.headerDone) this.reportHeader();
        this.events.clusterStart(r.offset, r.headerLength, r.size);
        return r.descend();
      default:
        return r.skip(); // SeekHead, Cues, Chapters, Attachments, Void: not part of any fragment
    }
  }

  private onValue(): void {
    const r = this.reader;
    const v = r.value;
    switch (r.id) {
      case I.DocType: {
        const docType = text.decode(v).replace(/\0+$/, '');
        if (!DOC_TYPES.has(docType)) throw new MkvUnparseable(`DocType "${docType}" is not matroska or webm`);
        return;
      }
      case I.TimecodeScale:
        this.timecodeScale = ebmlUint(v);
        if (this.timecodeScale < 1) throw new MkvUnparseable('TimecodeScale 0');
        return;
      case I.TrackNumber:
        this.trackInProgress!.number = ebmlUint(v);
        return;
      case I.DefaultDuration:
        this.trackInProgress!.defaultDurationNs = ebmlUint(v);
        return;
      case I.TagName:
      case I.TagString: {
        const top = this.openTags.at(-1)!;
        if (r.id === I.TagName) {
          top.name = text.decode(v);
          top.nameBytes = r.size;
        } else {
          top.value = text.decode(v);
          top.valueBytes = r.size;
        }
        return;
      }
      case I.Timecode:
        return this.events.clusterTimecode(ebmlUint(v), r.offset, r.headerLength + r.size);
      case I.SimpleBlock:
      case BLOCK:
        return this.onBlockHead(v, r.id === BLOCK);
      case BLOCK_DURATION:
        if (this.blockGroup) this.blockGroup.duration = ebmlUint(v);
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
        if (t.number < 1) throw new MkvUnparseable('a TrackEntry without a TrackNumber');
        if (this.tracks.some((x) => x.number === t.number)) throw new MkvUnparseable(`two tracks numbered ${t.number}`);
        this.tracks.push(Object.freeze({ ...t }));
        return;
      }
      case I.Tracks:
        this.tracksRange = [this.levelStart, r.offset];
        return;
      case I.SimpleTag: {
        const t = this.openTags.pop()!;
        if (!this.tagItems) return;
        // Beyond maxItems + 1 the items are only counted (ACK 4009 either way): the list stays bounded.
        if (++this.tagCount > METADATA_LIMITS.maxItems + 1) return;
        this.tagItems.push({ name: t.name ?? '', nameBytes: t.name === undefined ? 0 : t.nameBytes, value: t.value, valueBytes: t.valueBytes });
        return;
      }
      case I.Tags:
        if (r.depth === 1 && this.tagItems) {
          const items = this.tagItems;
          this.tagItems = undefined;
          this.events.tags(items, this.tagCount, r.offset);
        }
        return;
      case BLOCK_GROUP:
        if (this.blockGroup) this.events.block(this.blockGroup.track, this.blockGroup.relative, this.blockGroup.duration);
        this.blockGroup = undefined;
        return;
      case I.Cluster:
        return this.events.clusterEnd(r.offset);
      default:
    }
  }

  private onBlockHead(head: Uint8Array, inGroup: boolean): void {
    const width = vintWidth(head[0] ?? 0);
    if (width > 8 || head.length < width + 3) return this.events.blockInvalid('a block too short for its header');
    let track = head[0]! & (0xff >> width);
    for (let i = 1; i < width; i++) track = track * 256 + head[i]!;
    const relative = ebmlInt(head.subarray(width, width + 2));
    if (inGroup) this.blockGroup = { track, relative, duration: undefined };
    else this.events.block(track, relative, undefined);
  }

  private reportHeader(): void {
    if (!this.ebmlRange) throw new MkvUnparseable('a Cluster before the EBML header ended');
    if (!this.tracksRange) throw new MkvUnparseable('a Cluster before the Tracks element: the track numbers are unknown');
    const parts = [this.window.slice(...this.ebmlRange), SEGMENT_UNKNOWN_SIZE];
    if (this.infoRange) parts.push(this.window.slice(...this.infoRange));
    parts.push(this.window.slice(...this.tracksRange));
    let n = 0;
    for (const p of parts) n += p.length;
    const bytes = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    this.headerDone = true;
    this.events.header(Object.freeze({ bytes, tracks: Object.freeze(this.tracks.slice()), trackEntries: this.trackEntries }));
  }
}

function vintWidth(first: number): number {
  let width = 1;
  for (let mask = 0x80; width <= 8 && (first & mask) === 0; mask >>= 1) width++;
  return width;
}
