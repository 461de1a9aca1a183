// Support for the EbmlReader suites: a driver that feeds bytes in a given split and records every event as
// text (so runs with different splits compare as strings), hand-built EBML elements, and a KVS-shaped
// stream written by the real MkvWriter.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { EBML_EVENT, EbmlReader, type EbmlReaderOptions, UNKNOWN_SIZE } from '../../../../host/shared/mkv/EbmlReader.ts';
import { EBML_IDS } from '../../../../firmware/core/mkv/ebmlIds.ts';
import { FragmentMetadata } from '../../../../firmware/core/mkv/FragmentMetadata.ts';
import { ByteSink, makeFrame, writer } from '../../../firmware/core/mkv/support.ts';
import { concatBytes as concat } from '../../../harness/support.ts';
export { concat };

/** Masters the driver descends into (everything else is read when small, skipped otherwise). */
export const MASTERS: ReadonlySet<number> = new Set([
  EBML_IDS.EBML,
  EBML_IDS.Segment,
  EBML_IDS.Info,
  EBML_IDS.Tracks,
  EBML_IDS.TrackEntry,
  EBML_IDS.Video,
  EBML_IDS.Cluster,
  EBML_IDS.Tags,
  EBML_IDS.Tag,
  EBML_IDS.Targets,
  EBML_IDS.SimpleTag,
]);

export interface Run {
  readonly events: string[];
  readonly code: string | undefined;
  readonly message: string | undefined;
}

/** Splits `bytes` at the given cut offsets (sorted, inside the array). */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const c of cuts) {
    parts.push(bytes.subarray(from, c));
    from = c;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

/** Random chunk sizes 1-`max` (a fresh copy each, so views into a previous chunk would show up as bugs). */
export function randomChunks(bytes: Uint8Array, random: () => number, max = 64): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, 1 + Math.floor(random() * max));
    parts.push(bytes.slice(at, at + n));
    at += n;
  }
  return parts;
}

/**
 * Feeds `chunks`, descends into MASTERS, reads values up to 32 bytes (the first 4 of longer ones) and
 * records every event; a FieldcamError ends the run and is recorded, anything else propagates.
 */
export function drive(chunks: readonly Uint8Array[], options: EbmlReaderOptions = {}): Run {
  const r = new EbmlReader(options);
  const events: string[] = [];
  const pump = (): void => {
    for (let guard = 0; ; guard++) {
      if (guard > 1_000_000) throw new Error('no progress: the reader would spin');
      const e = r.next();
      if (e === EBML_EVENT.NEED_MORE || e === EBML_EVENT.DONE) {
        if (e === EBML_EVENT.DONE) events.push('DONE');
        return;
      }
      if (e === EBML_EVENT.START) {
        events.push(`S ${r.id.toString(16)} @${r.offset} h${r.headerLength} ${r.size === UNKNOWN_SIZE ? '?' : r.size} d${r.depth}`);
        if (MASTERS.has(r.id) || r.size === UNKNOWN_SIZE) r.descend();
        else if (r.size <= 32) r.read();
        else r.readHead(4);
      } else if (e === EBML_EVENT.VALUE) {
        events.push(`V ${Array.from(r.value, (b) => b.toString(16).padStart(2, '0')).join('')}`);
      } else {
        events.push(`E ${r.id.toString(16)} @${r.offset} ${r.size} d${r.depth}`);
      }
    }
  };
  try {
    for (const c of chunks) {
      r.push(c);
      pump();
    }
    r.end();
    pump();
  } catch (err) {
    if (!(err instanceof FieldcamError)) throw err;
    return { events, code: err.code, message: err.message };
  }
  return { events, code: undefined, message: undefined };
}

/** An element with a minimal-width known size. `id` is given as its wire bytes' value. */
export function el(id: number, ...content: (Uint8Array | number[])[]): Uint8Array {
  const body = concat(content.map((c) => (c instanceof Uint8Array ? c : Uint8Array.from(c))));
  return concat([idBytes(id), sizeBytes(body.length), body]);
}

/** A master with the 1-octet unknown size 0xFF (or the 8-octet one). */
export function unknownEl(id: number, content: readonly Uint8Array[], eightOctets = false): Uint8Array {
  const size = eightOctets ? Uint8Array.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) : Uint8Array.from([0xff]);
  return concat([idBytes(id), size, ...content]);
}

export function idBytes(id: number): Uint8Array {
  const out: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return Uint8Array.from(out);
}

export function sizeBytes(n: number): Uint8Array {
  let width = 1;
  while (n > 2 ** (7 * width) - 2) width++;
  const out = new Uint8Array(width);
  let v = n;
  for (let i = width - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  out[0]! |= 0x80 >> (width - 1);
  return out;
}

/**
 * What a device sends on one PutMedia connection: header, then three fragments of three frames, the first
 * two preceded by metadata Tags, each closed by the end-of-fragment Tags.
 */
export function kvsStream(): Uint8Array {
  const w = writer();
  const out = new ViewList(64);
  const sink = new ByteSink();
  w.header(out);
  sink.take(out);
  const metadata = new FragmentMetadata();
  metadata.put('camera', 'porch');
  for (let f = 0; f < 3; f++) {
    const t0 = 1_700_000_000_000 + f * 1000;
    if (f === 2) metadata.clear();
    w.startFragment(t0, out, metadata);
    sink.take(out);
    for (let i = 0; i < 3; i++) {
      w.block(makeFrame({ pts: t0 + i * 100, key: i === 0 }), out);
      sink.take(out);
    }
    w.endFragment(out);
    sink.take(out);
  }
  return sink.bytes();
}
