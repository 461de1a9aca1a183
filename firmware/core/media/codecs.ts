import type { ErrorCode } from '../errors.ts';
import { H264Reader } from '../h264/H264Reader.ts';
import { H265Reader } from '../h265/H265Reader.ts';
import { pushAvccPayload } from '../h264/pushAvccPayload.ts';
import { MjpegReader } from '../mjpeg/MjpegReader.ts';
import { pushMjpegPayload } from '../mjpeg/pushMjpegPayload.ts';
import type { Frame } from './Frame.ts';
import type { FrameReader, FrameReaderOptions } from './FrameReader.ts';
import type { ViewList } from './ViewList.ts';
import type { BlockPayload } from '../../io/MkvBlock.ts';

/** How well KVS's players take a codec (kvs-reference.md §12 playback requirements); warnings read it. */
export interface Playback {
  /** The KVS console and HLS/DASH/GetClip play it. */
  readonly hls: boolean;
  /** Why not, or the caveat, for a configuration-time warning (undefined: plays everywhere). */
  readonly caveat?: string;
}

/** One video codec fieldcam streams: everything that differs between codecs, in one place. */
export interface CodecSpec {
  readonly id: CodecId;
  /** For messages: 'H.264'. */
  readonly label: string;
  /** Matroska CodecID of the track. */
  readonly mkvCodecId: string;
  /** CodecPrivate the track carries (built by the reader from the parameter sets), or undefined. */
  readonly codecPrivate: 'AVCDecoderConfigurationRecord' | 'HEVCDecoderConfigurationRecord' | undefined;
  /** KVS CreateStream MediaType (a MIME type; "video/h264,audio/aac" with audio). */
  readonly kvsMediaType: string;
  /** What one frame is called in messages ("no H.264 access unit"). */
  readonly frameNoun: string;
  /** Frame records need NAL tables (FramePool nalsPerFrame); false: 0 entries (an ESP32 heap saves ~30 KiB). */
  readonly nalTables: boolean;
  /** The error code for "these bytes are not this codec's stream at all" (no start code, no SOI). */
  readonly notThisCodec: ErrorCode;
  /** The error code for parameter sets that changed mid-stream (one Matroska track, one CodecPrivate). */
  readonly parametersChanged: ErrorCode;
  readonly playback: Playback;
  /** The codec rpicam-vid/libcamera-vid produce it with (--codec), or undefined when they cannot. */
  readonly rpicamCodec: string | undefined;
  createReader(options: FrameReaderOptions): FrameReader;
  /** Appends the frame's block payload to `out` in place (no payload copies); `scratch` holds 4 bytes per NAL. */
  pushPayload(frame: Frame, out: ViewList, scratch: Uint8Array): void;
  /**
   * What a board's native block writer (MkvBlockNative, firmware/runtime/block.c) does in place of pushPayload,
   * or undefined where it has no equivalent (block.c knows H.264's NAL types only; H.265 keeps pushPayload).
   */
  readonly blockPayload?: BlockPayload;
  /** Does a stream beginning with `head[0..n)` look like this codec? (a file's first bytes) */
  sniff(head: Uint8Array, n: number): boolean;
}

export type CodecId = 'h264' | 'h265' | 'mjpeg';

/** Where the first NAL header byte after an Annex-B start code is (leading zero bytes allowed), or -1. */
export function firstNalHeader(head: Uint8Array, n: number): number {
  let i = 0;
  while (i < n && head[i] === 0) i++;
  if (i < 2 || i >= n - 1 || head[i] !== 1) return -1;
  return i + 1;
}

/** H.264 NAL types a stream may plausibly begin with: slice, IDR, SEI, SPS, PPS, AUD (7.4.1.2.3). */
const H264_FIRST_NALS: ReadonlySet<number> = new Set([1, 5, 6, 7, 8, 9]);

const H264: CodecSpec = Object.freeze({
  id: 'h264',
  label: 'H.264',
  mkvCodecId: 'V_MPEG4/ISO/AVC',
  codecPrivate: 'AVCDecoderConfigurationRecord',
  kvsMediaType: 'video/h264',
  frameNoun: 'H.264 access unit',
  nalTables: true,
  notThisCodec: 'H264_NOT_ANNEXB',
  parametersChanged: 'H264_PARAMETER_SETS_CHANGED',
  playback: Object.freeze({ hls: true }),
  rpicamCodec: 'h264',
  createReader: (o: FrameReaderOptions) =>
    new H264Reader({
      pool: o.pool,
      strict: o.strict,
      onFrame: o.onFrame,
      onParameterSets: o.onParameterSets,
      ...(o.byteScan ? { byteScan: o.byteScan } : {}),
      ...(o.onRead ? { onRead: o.onRead } : {}),
      ...(o.live ? { overflowBytes: o.live.overflowBytes, onNoFrameRecord: o.live.onNoFrameRecord } : {}),
    }),
  pushPayload: pushAvccPayload,
  blockPayload: 'avcc',
  sniff(head: Uint8Array, n: number): boolean {
    const at = firstNalHeader(head, n);
    const h = at < 0 ? 0x80 : (head[at] as number);
    if ((h & 0x80) !== 0 || !H264_FIRST_NALS.has(h & 0x1f)) return false;
    // SEI and AUD carry nal_ref_idc 0 (7.4.1): an HEVC AUD (0x46) reads as an H.264 SEI with nal_ref_idc 2.
    return ((h & 0x1f) !== 6 && (h & 0x1f) !== 9) || (h & 0x60) === 0;
  },
});

/** H.265 NAL types a stream may plausibly begin with: VPS, SPS, PPS, AUD, prefix SEI (7.4.2.4.4), or an IRAP slice. */
const H265_FIRST_NALS: ReadonlySet<number> = new Set([32, 33, 34, 35, 39, 19, 20, 21]);

const H265: CodecSpec = Object.freeze({
  id: 'h265',
  label: 'H.265',
  mkvCodecId: 'V_MPEGH/ISO/HEVC',
  codecPrivate: 'HEVCDecoderConfigurationRecord',
  kvsMediaType: 'video/h265',
  frameNoun: 'H.265 access unit',
  nalTables: true,
  notThisCodec: 'H265_NOT_ANNEXB',
  parametersChanged: 'H265_PARAMETER_SETS_CHANGED',
  playback: Object.freeze({
    hls: true,
    caveat:
      'KVS HLS/DASH serve H.265, but browsers without HEVC decoding (Firefox, Chrome without hardware support) cannot play it; the console and GetClip MP4 play it where the browser or player decodes HEVC',
  }),
  rpicamCodec: undefined,
  createReader: (o: FrameReaderOptions) =>
    new H265Reader({
      pool: o.pool,
      strict: o.strict,
      onFrame: o.onFrame,
      onParameterSets: o.onParameterSets,
      ...(o.byteScan ? { byteScan: o.byteScan } : {}),
      ...(o.onRead ? { onRead: o.onRead } : {}),
      ...(o.live ? { overflowBytes: o.live.overflowBytes, onNoFrameRecord: o.live.onNoFrameRecord } : {}),
    }),
  pushPayload: (frame: Frame, out: ViewList, scratch: Uint8Array) => pushAvccPayload(frame, out, scratch, false),
  sniff(head: Uint8Array, n: number): boolean {
    const at = firstNalHeader(head, n);
    const h = at < 0 ? 0x80 : (head[at] as number);
    if ((h & 0x80) !== 0 || !H265_FIRST_NALS.has(h >> 1)) return false;
    return at + 1 < n && head[at + 1] === 1; // the header's second byte: nuh_layer_id 0, nuh_temporal_id_plus1 1
  },
});

const MJPEG: CodecSpec = Object.freeze({
  id: 'mjpeg',
  label: 'MJPEG',
  mkvCodecId: 'V_MJPEG',
  codecPrivate: undefined,
  kvsMediaType: 'video/x-motion-jpeg',
  frameNoun: 'JPEG image',
  nalTables: false,
  notThisCodec: 'MJPEG_NOT_JPEG',
  parametersChanged: 'MJPEG_SIZE_CHANGED',
  playback: Object.freeze({
    hls: false,
    caveat:
      'KVS stores MJPEG (V_MJPEG) but the console, HLS, DASH and GetClip play only H.264/H.265 (UnsupportedStreamMediaTypeException); GetMedia and GetImages still work',
  }),
  rpicamCodec: 'mjpeg',
  createReader: (o: FrameReaderOptions) =>
    new MjpegReader({
      pool: o.pool,
      strict: o.strict,
      onFrame: o.onFrame,
      onFormat: o.onFormat,
      ...(o.byteScan ? { byteScan: o.byteScan } : {}),
      ...(o.onRead ? { onRead: o.onRead } : {}),
    }),
  pushPayload: (frame: Frame, out: ViewList) => pushMjpegPayload(frame, out),
  blockPayload: 'whole',
  sniff: (head: Uint8Array, n: number) => n >= 2 && head[0] === 0xff && head[1] === 0xd8,
});

/** Every codec, by id: the one table the CLI, the device configuration, the readers and the uploader read. */
export const CODECS: Readonly<Record<CodecId, CodecSpec>> = Object.freeze({ h264: H264, h265: H265, mjpeg: MJPEG });

export const CODEC_IDS: readonly CodecId[] = Object.freeze(Object.keys(CODECS) as CodecId[]);

/** Narrows a configuration or command-line value to a codec id. */
export function isCodecId(value: unknown): value is CodecId {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CODECS, value);
}

/** "h264, h265 or mjpeg" for usage messages. */
export function codecChoices(quote = ''): string {
  const ids = CODEC_IDS.map((id) => `${quote}${id}${quote}`);
  return ids.length > 1 ? `${ids.slice(0, -1).join(', ')} or ${ids[ids.length - 1]}` : ids.join('');
}

/** The codec a stream's first bytes look like, or undefined. */
export function sniffCodec(head: Uint8Array, n: number): CodecId | undefined {
  for (const id of CODEC_IDS) if (CODECS[id].sniff(head, n)) return id;
  return undefined;
}
