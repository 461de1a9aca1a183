import { FieldcamError } from '../shared/hostErrors.ts';
import { EBML_EVENT, EbmlReader } from '../shared/mkv/EbmlReader.ts';
import { EBML_IDS } from '../../firmware/core/mkv/ebmlIds.ts';
import { AtomicFileWriter } from '../lib/AtomicFileWriter.ts';
import { EXIT } from '../lib/CliError.ts';
import { readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import type { Command } from './fieldcam.ts';
import { archivedMediaClient, archiveTarget, fetchFragmentMedia, fragmentRange, listAllFragments, RANGE_OPTIONS } from './fragments.ts';

const spec: CommandSpec = {
  name: 'get-media',
  usage:
    'get-media --stream <name> -o <out.mkv> [--start T] [--end T] [--producer-timestamps] [--max-results N] [--profile P] [--endpoint-url URL] [--region R]',
  summary:
    'Downloads every stored fragment of a stream (ListFragments, then GetMediaForFragmentList) and writes ONE\n' +
    "playable Matroska file, atomically: the first fragment's header, then every Cluster from the earliest.\n" +
    'KVS answers each fragment as its own segment (header, KVS tags, cluster); the repeats are stripped.',
  options: {
    stream: { type: 'string', value: 'name', help: 'KVS stream name' },
    output: { type: 'string', short: 'o', value: 'out.mkv', help: 'where to write the Matroska file (written atomically)' },
    ...RANGE_OPTIONS,
    'endpoint-url': { type: 'string', value: 'URL', help: 'KVS endpoint (default: AWS_ENDPOINT_URL or the regional endpoint); e.g. the local cloud' },
    region: { type: 'string', value: 'region', help: 'AWS region (default: AWS_REGION)' },
  },
  details: 'example (local cloud):\n  fieldcam get-media --stream demo -o /tmp/demo.mkv --endpoint-url https://127.0.0.1:4590 && ffprobe /tmp/demo.mkv',
};

/** Matroska Segment with the 8-octet unknown size: the merged file is written as one live-style segment. */
const SEGMENT_UNKNOWN_SIZE = Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

/**
 * Merges a sequence of Matroska segments (each: EBML header, Segment, Info, Tracks, Tags, Cluster) into one:
 * the first EBML header, Info and Tracks, then every Cluster, byte for byte. Bytes are held only while an
 * element of interest is incomplete.
 */
export class SegmentMerger {
  clusters = 0;
  /** Segments whose Tracks differ from the first one's (their clusters may not decode with the first header). */
  tracksChanged = 0;
  private readonly reader = new EbmlReader({ maxDepth: 12, maxElementBytes: 2 ** 40 });
  private readonly write: (bytes: Uint8Array) => void;
  /** Pushed chunks still needed, and the absolute offset of the first one. */
  private readonly held: Uint8Array[] = [];
  private heldFrom = 0;
  private capturing = -1;
  private ebmlWritten = false;
  private headerWritten = false;
  private firstTracks: Uint8Array | undefined;

  constructor(write: (bytes: Uint8Array) => void) {
    this.write = write;
  }

  push(bytes: Uint8Array): void {
    this.held.push(bytes);
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
      const level1 = r.depth === 1 && r.openId(0) === EBML_IDS.Segment;
      const wanted = (r.depth === 0 && r.id === EBML_IDS.EBML) || (level1 && (r.id === EBML_IDS.Info || r.id === EBML_IDS.Tracks || r.id === EBML_IDS.Cluster));
      if (e === EBML_EVENT.START) {
        if (wanted) this.capturing = r.offset;
        if (wanted || (r.depth === 0 && r.id === EBML_IDS.Segment) || r.size < 0) r.descend();
        else r.skip();
      } else if (e === EBML_EVENT.END && wanted) {
        this.onElement(r.id, this.bytes(this.capturing, r.offset));
        this.capturing = -1;
      }
    }
    // Drop the chunks no element being captured still needs.
    const keepFrom = this.capturing >= 0 ? this.capturing : r.position;
    while (this.held.length > 0 && this.heldFrom + this.held[0]!.length <= keepFrom) this.heldFrom += this.held.shift()!.length;
  }

  private bytes(from: number, to: number): Uint8Array {
    const out = new Uint8Array(to - from);
    let at = this.heldFrom;
    for (const chunk of this.held) {
      const a = Math.max(from, at);
      const b = Math.min(to, at + chunk.length);
      if (a < b) out.set(chunk.subarray(a - at, b - at), a - from);
      at += chunk.length;
    }
    return out;
  }

  private onElement(id: number, bytes: Uint8Array): void {
    if (id === EBML_IDS.EBML) {
      if (!this.ebmlWritten) {
        this.write(bytes);
        this.write(SEGMENT_UNKNOWN_SIZE);
        this.ebmlWritten = true;
      }
    } else if (id === EBML_IDS.Info) {
      if (!this.headerWritten) this.write(bytes);
    } else if (id === EBML_IDS.Tracks) {
      if (!this.headerWritten) {
        this.write(bytes);
        this.firstTracks = bytes;
        this.headerWritten = true;
      } else if (!Buffer.from(this.firstTracks!).equals(bytes)) {
        this.tracksChanged++;
      }
    } else if (this.headerWritten) {
      this.write(bytes);
      this.clusters++;
    }
  }
}

export const getMediaCommand: Command = {
  summary: spec.summary,
  async run(argv) {
    const parsed = readCommandLine(spec, argv, { positionals: 'none' });
    if (!parsed) return EXIT.OK;
    const { values } = parsed;
    if (typeof values.output !== 'string') throw new FieldcamError('CLI_USAGE', 'get-media: -o <out.mkv> is required');
    const target = archiveTarget('get-media', values);
    const range = fragmentRange('get-media', values);

    const lister = await archivedMediaClient(target, 'LIST_FRAGMENTS');
    let fragments;
    try {
      fragments = await listAllFragments(lister, target.stream, range);
    } finally {
      lister.destroy();
    }
    // A fragment replayed on a reconnect may be stored twice with one producer timestamp: keep the first.
    const seen = new Set<number>();
    const numbers: string[] = [];
    let duplicates = 0;
    for (const f of fragments) {
      const t = f.ProducerTimestamp?.getTime() ?? NaN;
      if (seen.has(t)) duplicates++;
      else {
        seen.add(t);
        numbers.push(f.FragmentNumber!);
      }
    }
    if (numbers.length === 0)
      throw new FieldcamError(
        'INPUT_EMPTY',
        `stream '${target.stream}' has no stored fragments${range.selector ? ' in that range' : ' (is its data retention 0?)'}`,
      );

    const client = await archivedMediaClient(target, 'GET_MEDIA_FOR_FRAGMENT_LIST');
    const out = new AtomicFileWriter(values.output);
    const merger = new SegmentMerger((bytes) => out.write(bytes));
    try {
      await fetchFragmentMedia(client, target.stream, numbers, (chunk) => merger.push(chunk));
      merger.end();
      if (merger.clusters !== numbers.length) {
        throw new FieldcamError('UPLOAD_BAD_RESPONSE', `GetMediaForFragmentList returned ${merger.clusters} clusters for ${numbers.length} fragments`);
      }
      out.commit();
    } catch (err) {
      out.abort();
      throw err;
    } finally {
      client.destroy();
    }
    const durationMs = fragments.reduce((n, f) => n + (f.FragmentLengthInMilliseconds ?? 0), 0);
    process.stdout.write(`${values.output}: ${merger.clusters} fragments of ${target.stream}, ${(durationMs / 1000).toFixed(1)} s, ${out.bytes} bytes\n`);
    if (duplicates > 0) process.stderr.write(`get-media: skipped ${duplicates} fragment(s) stored twice with the same producer timestamp\n`);
    if (merger.tracksChanged > 0) {
      process.stderr.write(`get-media: warning: ${merger.tracksChanged} fragment(s) were recorded with different track settings; players may stop there\n`);
    }
    return EXIT.OK;
  },
};
