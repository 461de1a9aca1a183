import { EBML_EVENT, EbmlReader, ebmlUint } from '../../../../host/shared/mkv/EbmlReader.ts';
import { EBML_IDS } from '../../../../firmware/core/mkv/ebmlIds.ts';

/** One TrackEntry of a stored segment header, as far as playback needs it. */
export interface TrackInfo {
  readonly number: number;
  readonly codecId: string;
  readonly codecPrivate?: Uint8Array;
  readonly width?: number;
  readonly height?: number;
}

const I = EBML_IDS;
const DESCEND: ReadonlySet<number> = new Set([I.Segment, I.Tracks, I.TrackEntry, I.Video]);
const READ: ReadonlySet<number> = new Set([I.TrackNumber, I.CodecID, I.CodecPrivate, I.PixelWidth, I.PixelHeight]);

/**
 * The tracks of a segment header (EBML header, Segment, Info, Tracks) as the FragmentStore keeps it. The
 * header was accepted by the ingest parser, so it is well formed; the reader is bounded all the same.
 */
export function readTracks(header: Uint8Array): TrackInfo[] {
  const reader = new EbmlReader({ maxValueBytes: 64 * 1024 });
  reader.push(header);
  reader.end();
  const tracks: TrackInfo[] = [];
  let entry: { number: number; codecId: string; codecPrivate?: Uint8Array; width?: number; height?: number } | undefined;
  for (let e = reader.next(); e !== EBML_EVENT.DONE && e !== EBML_EVENT.NEED_MORE; e = reader.next()) {
    if (e === EBML_EVENT.START) {
      if (reader.id === I.Cluster || reader.id === I.Tags) break; // the header ends where media begins
      if (reader.id === I.TrackEntry) entry = { number: 0, codecId: '' };
      if (DESCEND.has(reader.id)) reader.descend();
      else if (READ.has(reader.id) && entry) reader.read();
      else reader.skip();
    } else if (e === EBML_EVENT.VALUE && entry) {
      const v = reader.value;
      if (reader.id === I.TrackNumber) entry.number = ebmlUint(v);
      else if (reader.id === I.CodecID) entry.codecId = new TextDecoder().decode(v).replace(/\0+$/, '');
      else if (reader.id === I.CodecPrivate) entry.codecPrivate = v.slice();
      else if (reader.id === I.PixelWidth) entry.width = ebmlUint(v);
      else if (reader.id === I.PixelHeight) entry.height = ebmlUint(v);
    } else if (e === EBML_EVENT.END && reader.id === I.TrackEntry && entry) {
      tracks.push(Object.freeze(entry));
      entry = undefined;
    }
  }
  return tracks;
}
