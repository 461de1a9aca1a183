// Reads the tags of each fragment in a GetMedia / GetMediaForFragmentList answer: KVS sends every fragment as its
// own segment (EBML header, Segment, Info, Tracks, its Tags — AWS_KINESISVIDEO_FRAGMENT_NUMBER and the producer's
// metadata — then the Cluster). Tags are collected per segment and handed over at its Cluster; cluster payloads are
// skipped, never buffered.
import { EBML_EVENT, EbmlReader } from '../../shared/mkv/EbmlReader.ts';
import { EBML_IDS } from '../../../firmware/core/mkv/ebmlIds.ts';
import { decodeUtf8 } from '../../../firmware/core/text/utf8.ts';

/** One fragment as its segment carries it: every SimpleTag before its Cluster, in order (name, value). */
export interface TaggedFragment {
  readonly fragmentNumber: string | undefined;
  readonly tags: readonly (readonly [string, string])[];
}

const DESCEND = new Set<number>([EBML_IDS.Segment, EBML_IDS.Tags, EBML_IDS.Tag, EBML_IDS.SimpleTag]);

export class FragmentTagReader {
  private readonly reader = new EbmlReader({ maxDepth: 12, maxElementBytes: 2 ** 40, maxValueBytes: 4096 });
  private readonly onFragment: (fragment: TaggedFragment) => void;
  private tags: [string, string][] = [];
  private name: string | undefined;
  private value: string | undefined;

  constructor(onFragment: (fragment: TaggedFragment) => void) {
    this.onFragment = onFragment;
  }

  push(bytes: Uint8Array): void {
    this.reader.push(bytes);
    this.drain();
  }

  end(): void {
    this.reader.end();
    this.drain();
  }

  private drain(): void {
    const r = this.reader;
    for (let e = r.next(); e !== EBML_EVENT.NEED_MORE && e !== EBML_EVENT.DONE; e = r.next()) {
      if (e === EBML_EVENT.START) {
        if (r.id === EBML_IDS.Segment) this.tags = [];
        if (r.id === EBML_IDS.Cluster) {
          const number = this.tags.find(([n]) => n === 'AWS_KINESISVIDEO_FRAGMENT_NUMBER')?.[1];
          this.onFragment({ fragmentNumber: number, tags: this.tags });
          this.tags = [];
          if (r.size >= 0) r.skip();
          else r.descend(); // unknown size: its children are skipped one by one
        } else if (DESCEND.has(r.id)) {
          r.descend();
        } else if (r.id === EBML_IDS.TagName || r.id === EBML_IDS.TagString) {
          r.read();
        } else if (r.size >= 0) {
          r.skip();
        } else {
          r.descend();
        }
      } else if (e === EBML_EVENT.VALUE) {
        const text = decodeUtf8(r.value);
        if (r.id === EBML_IDS.TagName) this.name = text;
        else this.value = text;
      } else if (e === EBML_EVENT.END && r.id === EBML_IDS.SimpleTag) {
        if (this.name !== undefined) this.tags.push([this.name, this.value ?? '']);
        this.name = this.value = undefined;
      }
    }
  }
}
