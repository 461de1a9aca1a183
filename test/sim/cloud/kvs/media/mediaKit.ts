// Support for the emulator's media suites: the Matroska a device really sends (the firmware Muxer over the
// committed H.264 fixture), hand-built streams for the error rules, and an ingest harness that records ACKs.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Muxer } from '../../../../../host/lib/Muxer.ts';
import { PREPARE } from '../../../../../firmware/core/media/StreamCursor.ts';
import type { ViewList } from '../../../../../firmware/core/media/ViewList.ts';
import { EBML_IDS } from '../../../../../firmware/core/mkv/ebmlIds.ts';
import type { FragmentMetadata } from '../../../../../firmware/core/mkv/FragmentMetadata.ts';
import { FramePool } from '../../../../../firmware/core/pool/FramePool.ts';
import type { Ack } from '../../../../../sim/cloud/kvs/media/Ack.ts';
import { type IngestedFragment, PutMediaIngest, type PutMediaIngestOptions } from '../../../../../sim/cloud/kvs/media/PutMediaIngest.ts';
import { concat, el, unknownEl } from '../../../../host/shared/mkv/EbmlReaderKit.ts';
import { mulberry32 as prng } from '../../../../harness/support.ts';
export { prng };

export { concat, el, unknownEl };

export const ROOT = resolve(import.meta.dirname, '..', '..', '..', '..', '..');
export const FIXTURE = join(ROOT, 'test', 'fixtures', 'h264-320x240-10fps-gop10.h264');
const I = EBML_IDS;

export interface MuxOptions {
  readonly startTimecode?: number;
  readonly endOfFragment?: boolean;
  readonly metadata?: FragmentMetadata;
  readonly file?: string;
}

/** The fixture (100 frames, 10 fps, key frame every 10) as one PutMedia body: 10 fragments of 1 s. */
export function muxFixture(options: MuxOptions = {}): Uint8Array {
  const input = readFileSync(options.file ?? FIXTURE);
  const pool = new FramePool({ slotCount: 8, slotBytes: 256 * 1024, maxFrames: 64 });
  const parts: Uint8Array[] = [];
  const muxer = new Muxer({
    codec: 'h264',
    pool,
    fragmentMs: 0,
    maxFragmentMs: 10_000,
    startTimecode: options.startTimecode ?? 1_700_000_000_000,
    endOfFragment: options.endOfFragment ?? false,
    ...(options.metadata ? { metadata: options.metadata } : {}),
    segmentUid: Uint8Array.from({ length: 16 }, (_, i) => i + 1),
    sink: (views: ViewList) => {
      for (let i = 0; i < views.count; i++) {
        const o = views.offsets[i]!;
        parts.push(views.sources[i]!.slice(o, o + views.lengths[i]!));
      }
    },
  });
  for (let at = 0; at < input.length; ) {
    if (muxer.prepare() !== PREPARE.OK) throw new Error('pool exhausted while muxing the fixture');
    const n = Math.min(muxer.targetSpace, input.length - at, 4096);
    muxer.target.set(input.subarray(at, at + n), muxer.targetOffset);
    muxer.push(n);
    at += n;
  }
  muxer.end();
  return concat(parts);
}

export function randomSplit(bytes: Uint8Array, random: () => number, max: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, 1 + Math.floor(random() * max));
    out.push(bytes.slice(at, at + n));
    at += n;
  }
  return out;
}

// ── hand-built streams ──

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const uint = (v: number, width = 1) => Array.from({ length: width }, (_, i) => Math.floor(v / 256 ** (width - 1 - i)) % 256);

export interface HeaderOptions {
  readonly tracks?: readonly number[];
  /** ns per timecode unit (default 1 ms). */
  readonly timecodeScale?: number;
  /** DefaultDuration of every track, ns (default 100 ms). */
  readonly defaultDurationNs?: number;
}

export function ebmlHeader(docType = 'matroska'): Uint8Array {
  return el(I.EBML, el(I.EBMLVersion, [1]), el(I.DocType, ascii(docType)), el(I.DocTypeVersion, [2]));
}

export function info(timecodeScale = 1_000_000): Uint8Array {
  return el(I.Info, el(I.TimecodeScale, uint(timecodeScale, 3)), el(I.MuxingApp, ascii('test')));
}

export function tracks(numbers: readonly number[] = [1], defaultDurationNs = 100_000_000): Uint8Array {
  return el(
    I.Tracks,
    ...numbers.map((n) =>
      el(
        I.TrackEntry,
        el(I.TrackNumber, [n]),
        el(I.TrackUID, [n]),
        el(I.TrackType, [1]),
        el(I.CodecID, ascii('V_MJPEG')),
        el(I.DefaultDuration, uint(defaultDurationNs, 4)),
      ),
    ),
  );
}

/** EBML header, then the opening of a Segment of unknown size with Info and Tracks. */
export function header(options: HeaderOptions = {}): Uint8Array {
  return concat([
    ebmlHeader(),
    Uint8Array.of(0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    info(options.timecodeScale),
    tracks(options.tracks, options.defaultDurationNs),
  ]);
}

/** A SimpleBlock of `track` at `rel` units from its Cluster, with a few payload bytes. */
export function block(track: number, rel: number, payload = 8): Uint8Array {
  return el(I.SimpleBlock, [0x80 | track, (rel >> 8) & 0xff, rel & 0xff, rel === 0 ? 0x80 : 0], new Uint8Array(payload).fill(0xab));
}

/** An unknown-size Cluster: Timecode (8 octets, as the device writes it), then the blocks. */
export function cluster(timecode: number, blocks: readonly Uint8Array[]): Uint8Array {
  return unknownEl(I.Cluster, [el(I.Timecode, uint(timecode, 8)), ...blocks]);
}

/** One Tags element with one SimpleTag per item (the device writes one Tags per item; both are accepted). */
export function tags(items: readonly (readonly [string, string])[]): Uint8Array {
  return el(I.Tags, el(I.Tag, el(I.Targets), ...items.map(([n, v]) => el(I.SimpleTag, el(I.TagName, ascii(n)), el(I.TagString, ascii(v))))));
}

export const EOFR = tags([['AWS_KINESISVIDEO_END_OF_FRAGMENT', '']]);

/** A 1 s fragment of 10 frames at 100 ms on track 1. */
export function second(timecode: number, track = 1): Uint8Array {
  return cluster(
    timecode,
    Array.from({ length: 10 }, (_, i) => block(track, i * 100)),
  );
}

// ── ingest harness ──

export interface Harness {
  readonly ingest: PutMediaIngest;
  readonly acks: Ack[];
  readonly stored: IngestedFragment[];
  clock: number;
  /** ACKs as `TYPE:timecode[:errorId]` strings, for compact assertions. */
  trace(): string[];
}

export const T0 = 1_700_000_000_000;

export function harness(options: Partial<PutMediaIngestOptions> & { retention?: boolean } = {}): Harness {
  let n = 0;
  const h = {
    acks: [] as Ack[],
    stored: [] as IngestedFragment[],
    clock: T0 + 5_000,
    trace(): string[] {
      return h.acks.map(
        (a) => `${a.EventType}${a.FragmentTimecode !== undefined ? `:${a.FragmentTimecode}` : ''}${a.ErrorId !== undefined ? `:${a.ErrorId}` : ''}`,
      );
    },
  } as Harness & { ingest: PutMediaIngest };
  const { retention, ...rest } = options;
  h.ingest = new PutMediaIngest({
    timecodeType: 'ABSOLUTE',
    now: () => h.clock,
    maxFragmentMs: 20_000,
    maxFutureMs: 60_000,
    idleAckMs: 3_000,
    idleCloseMs: 30_000,
    maxConnectionMs: 45 * 60_000,
    nextFragmentNumber: () => String(91343852333181432000n + BigInt(++n)),
    onAck: (ack) => h.acks.push(ack),
    ...(retention === false
      ? {}
      : {
          persist: (f: IngestedFragment) => {
            h.stored.push(f);
          },
        }),
    ...rest,
  });
  return h;
}
