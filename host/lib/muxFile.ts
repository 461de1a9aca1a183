import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { derivePoolSizing } from '../../firmware/core/config/derivePoolSizing.ts';
import { FieldcamError } from '../shared/hostErrors.ts';
import { Muxer, type Codec, type FrameRate, type MuxerStats } from './Muxer.ts';
import { PREPARE } from '../../firmware/core/media/StreamCursor.ts';
import type { FragmentMetadata } from '../../firmware/core/mkv/FragmentMetadata.ts';
import { FramePool, type PoolSizing } from '../../firmware/core/pool/FramePool.ts';
import { AtomicFileWriter } from './AtomicFileWriter.ts';
import type { BoardManifest } from '../shared/loadBoardManifest.ts';
import { readIntoSlot } from './readIntoSlot.ts';
import { sniffCodec as sniffFirstBytes } from '../../firmware/core/media/codecs.ts';
import { AUDIO_CODEC_IDS, type AudioCodecId } from '../../firmware/core/audio/audioCodecs.ts';
import type { AudioPackets } from '../../firmware/core/audio/AudioPackets.ts';
import { readAdts } from '../../firmware/core/audio/readAdts.ts';
import { readG711 } from '../../firmware/core/audio/readG711.ts';

export interface MuxFileOptions {
  /** A file path, or '-' for standard input. */
  readonly input: string;
  readonly output: string;
  readonly board: BoardManifest;
  readonly codec?: Codec;
  readonly fps?: FrameRate;
  readonly fragmentMs?: number;
  readonly maxFragmentMs?: number;
  readonly startTimecode?: number;
  readonly metadata?: FragmentMetadata;
  readonly endOfFragment?: boolean;
  /** Pins the Matroska SegmentUID (16 bytes) for reproducible output. */
  readonly segmentUid?: Uint8Array;
  readonly onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
  /** Audio files for extra tracks (AAC ADTS, raw G.711 A-law/µ-law); the codec from `codec` or the extension. */
  readonly audio?: readonly { readonly path: string; readonly codec?: AudioCodecId }[];
}

export interface MuxFileResult {
  readonly stats: MuxerStats;
  readonly codec: Codec;
  readonly pool: PoolSizing;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly audioCodecs: readonly AudioCodecId[];
}

/** Guesses the codec from the first bytes of a file (the codec table's sniffers: JPEG SOI, the first NAL header). */
export function sniffCodec(fd: number): Codec | undefined {
  const head = new Uint8Array(64);
  const n = readSync(fd, head, 0, head.length, 0);
  return sniffFirstBytes(head, n);
}

/** Audio codecs by file extension (what ffmpeg's -f adts / -f alaw / -f mulaw are usually saved as). */
const AUDIO_EXTENSIONS: Readonly<Record<string, AudioCodecId>> = Object.freeze({
  '.aac': 'aac',
  '.adts': 'aac',
  '.alaw': 'alaw',
  '.al': 'alaw',
  '.ulaw': 'mulaw',
  '.mulaw': 'mulaw',
  '.ul': 'mulaw',
});

/** An audio file's codec from its extension, or undefined (`mux --audio`, `stream --audio`). */
export function audioCodecOfFile(path: string): AudioCodecId | undefined {
  return AUDIO_EXTENSIONS[extname(path).toLowerCase()];
}

/** Reads a whole audio file (offline: audio is small beside video) and splits it into packets. */
export function readAudioFile(path: string, codec?: AudioCodecId): AudioPackets {
  const chosen = codec ?? audioCodecOfFile(path);
  if (!chosen) {
    throw new FieldcamError('CLI_USAGE', `mux: cannot tell the codec of ${path} from its extension; give --audio-codec ${AUDIO_CODEC_IDS.join('|')}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new FieldcamError('CLI_INPUT_NOT_FOUND', `cannot open ${path}: ${(err as Error).message}`);
  }
  return chosen === 'aac' ? readAdts(bytes) : readG711(bytes, chosen);
}

/**
 * The offline device pipeline: reads the input straight into the board's frame pool and writes the
 * Matroska a device would upload, atomically (a failed run leaves no output file).
 */
export function muxFile(options: MuxFileOptions): MuxFileResult {
  const stdin = options.input === '-';
  let fd: number;
  try {
    fd = stdin ? 0 : openSync(options.input, 'r');
  } catch (err) {
    throw new FieldcamError('CLI_INPUT_NOT_FOUND', `cannot open ${options.input}: ${(err as Error).message}`);
  }
  const total = stdin ? undefined : fstatSync(fd).size;
  const codec = options.codec ?? (stdin ? options.board.camera.codec : (sniffCodec(fd) ?? 'h264'));
  const audio = (options.audio ?? []).map((a) => readAudioFile(a.path, a.codec));
  const sizing = derivePoolSizing(options.board.pool);
  const pool = new FramePool(sizing);
  const out = new AtomicFileWriter(options.output);
  const muxer = new Muxer({
    codec,
    pool,
    ...(options.fps ? { fps: options.fps } : {}),
    fragmentMs: options.fragmentMs ?? options.board.stream.fragmentMs,
    maxFragmentMs: options.maxFragmentMs ?? options.board.stream.maxFragmentMs,
    startTimecode: options.startTimecode ?? 0,
    ...(options.metadata ? { metadata: options.metadata } : {}),
    endOfFragment: options.endOfFragment ?? false,
    ...(options.segmentUid ? { segmentUid: options.segmentUid } : {}),
    sink: (views) => out.writeViews(views),
    ...(audio.length ? { audio } : {}),
  });
  let bytesIn = 0;
  try {
    for (;;) {
      const ready = muxer.prepare();
      if (ready === PREPARE.POOL_EXHAUSTED) {
        throw new FieldcamError('POOL_EXHAUSTED', `all ${sizing.slotCount} slots of board ${options.board.name} are held`);
      }
      if (ready === PREPARE.FRAME_TOO_LARGE) {
        throw new FieldcamError(
          'POOL_FRAME_TOO_LARGE',
          `a frame near input byte ${bytesIn} is larger than a ${sizing.slotBytes}-byte slot of board ${options.board.name}`,
        );
      }
      const n = readIntoSlot(fd, muxer.target, muxer.targetOffset, muxer.targetSpace, options.input);
      if (n === 0) break;
      bytesIn += n;
      muxer.push(n);
      options.onProgress?.(bytesIn, total);
    }
    muxer.end();
    if (muxer.stats.frames === 0) {
      throw new FieldcamError('INPUT_EMPTY', `${options.input} holds no complete frame`);
    }
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  } finally {
    if (!stdin) closeSync(fd);
  }
  return { stats: muxer.stats, codec, pool: sizing, bytesIn, bytesOut: out.bytes, audioCodecs: audio.map((a) => a.codec) };
}
