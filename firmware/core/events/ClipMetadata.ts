import { EbmlBuilder } from '../mkv/EbmlBuilder.ts';
import { TAGS_ELEMENT_OVERHEAD, writeTagsElement } from '../mkv/writeTagsElement.ts';
import { CLIP_TAG, EVENT_LIMITS } from './eventLimits.ts';

/** Digits of a clip id or event count (epoch ms has 13; 16 covers any safe integer). */
const NUMBER_CHARS = 16;
const CAPACITY =
  2 * (TAGS_ELEMENT_OVERHEAD + CLIP_TAG.events.length + NUMBER_CHARS) +
  EVENT_LIMITS.tagsMax * (TAGS_ELEMENT_OVERHEAD + EVENT_LIMITS.nameMaxChars + EVENT_LIMITS.valueMaxChars);

/**
 * The tags of one event clip, as KVS fragment metadata (Matroska Tags before each of the clip's Clusters,
 * kvs-reference.md §5.6): FIELDCAM_CLIP = the clip id, FIELDCAM_EVENTS = events merged into it, then the events' own
 * tags (a later event's value replaces an earlier one of the same name; past EVENT_LIMITS.tagsMax new names are not
 * kept). Records are allocated once by EventGate and reused with `reset`; the Tags bytes are encoded into one buffer
 * of the record, again only after a change.
 */
export class ClipMetadata {
  /** The clip id (timecode of its first event, ms); 0 = the record is free. */
  id = 0;
  events = 0;
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private readonly builder = new EbmlBuilder(CAPACITY);
  private encoded: Uint8Array = new Uint8Array(0);
  private dirty = true;

  reset(id: number): void {
    this.id = id;
    this.events = 0;
    this.names.length = this.values.length = 0;
    this.dirty = true;
  }

  /** The event's tags (names and values already checked); returns how many of them the clip kept. */
  addEvent(names: readonly string[], values: readonly string[]): number {
    this.events++;
    this.dirty = true;
    let kept = 0;
    for (let i = 0; i < names.length; i++) {
      const at = this.names.indexOf(names[i]!);
      if (at >= 0) {
        this.values[at] = values[i]!;
        kept++;
      } else if (this.names.length < EVENT_LIMITS.tagsMax) {
        this.names.push(names[i]!);
        this.values.push(values[i]!);
        kept++;
      }
    }
    return kept;
  }

  /** Items a fragment of this clip carries (counted against KVS's 10 per fragment). */
  get itemCount(): number {
    return 2 + this.names.length;
  }

  /** The tags, name → value (status and results). */
  tags(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < this.names.length; i++) out[this.names[i]!] = this.values[i]!;
    return out;
  }

  /** The Tags elements for the clip's next fragment; the view stays valid until the clip changes and is encoded again. */
  encode(): Uint8Array {
    if (!this.dirty) return this.encoded;
    const b = this.builder.reset();
    writeTagsElement(b, CLIP_TAG.clip, String(this.id));
    writeTagsElement(b, CLIP_TAG.events, String(this.events));
    for (let i = 0; i < this.names.length; i++) writeTagsElement(b, this.names[i]!, this.values[i]!);
    this.encoded = b.bytes();
    this.dirty = false;
    return this.encoded;
  }
}
