// One table of stable error codes, grouped by area. Retry decisions and tests read `code`, never the
// message. Each entry carries the remedy a user should read next to the specific message.
// KVS/PIC status names are cited where an entry mirrors one (kvs-reference.md §8).

export interface ErrorSpec {
  readonly area: 'input' | 'h264' | 'mjpeg' | 'pool' | 'mkv' | 'metadata' | 'config' | 'cli';
  readonly retryable: boolean;
  readonly remedy: string;
}

function spec(area: ErrorSpec['area'], retryable: boolean, remedy: string): ErrorSpec {
  return Object.freeze({ area, retryable, remedy });
}

export const ERRORS = Object.freeze({
  // ── input ──
  INPUT_EMPTY: spec('input', false, 'the input has no bytes; check the capture command or file path'),
  INPUT_READ_FAILED: spec('input', true, 'the frame source could not be read; check the device or file permissions'),

  // ── H.264 (ITU-T H.264 Annex B, 7.3) ──
  H264_NOT_ANNEXB: spec('h264', false,
    'the input is not an Annex-B H.264 elementary stream; extract one with `ffmpeg -i in.mp4 -c:v copy -bsf:v h264_mp4toannexb -f h264 out.h264`'),
  H264_FORBIDDEN_BIT: spec('h264', false, 'a NAL unit has forbidden_zero_bit set: the stream is corrupt'),
  H264_TRUNCATED_NAL: spec('h264', false, 'a NAL unit ends before its syntax does (PIC 0x3200000d); the stream was cut or corrupted'),
  H264_NO_PARAMETER_SETS: spec('h264', false,
    'a slice arrived before any SPS/PPS (PIC 0x3200002b/2c); make the encoder repeat SPS/PPS before every IDR (x264 repeat-headers, v4l2 repeat_sequence_header=1)'),
  H264_SPS_INVALID: spec('h264', false, 'the sequence parameter set could not be parsed (PIC 0x32000015); the stream is corrupt'),
  H264_SPS_UNSUPPORTED: spec('h264', false, 'this SPS uses a feature fieldcam does not stream (interlaced or 4:4:4 separate planes); encode progressive 4:2:0'),
  H264_PPS_INVALID: spec('h264', false, 'the picture parameter set is malformed; the stream is corrupt'),
  H264_B_FRAMES_UNSUPPORTED: spec('h264', false,
    'B-frames make PTS differ from DTS and KVS fragments need PTS == DTS at the start; encode with bframes=0 (ffmpeg -bf 0, x264enc bframes=0)'),
  H264_TOO_MANY_NALS: spec('h264', false, 'an access unit has more NAL units than the frame record holds; use fewer slices per picture'),
  H264_SLICE_INVALID: spec('h264', false, 'a slice header has an impossible value or a picture lost its first slice; the stream is corrupt'),
  H264_PARAMETER_SETS_CHANGED: spec('h264', false,
    'the SPS/PPS changed mid-stream (new resolution or profile); one Matroska segment has one CodecPrivate, so split the input there'),

  // ── MJPEG (ITU-T T.81 Annex B) ──
  MJPEG_NOT_JPEG: spec('mjpeg', false, 'the input is not a sequence of JPEG images (no SOI marker FFD8); check the camera format'),
  MJPEG_TRUNCATED: spec('mjpeg', false, 'a JPEG image ends before its EOI marker; the stream was cut or corrupted'),
  MJPEG_SEGMENT_INVALID: spec('mjpeg', false, 'a JPEG marker segment has an impossible length; the image is corrupt'),
  MJPEG_NO_FRAME_SIZE: spec('mjpeg', false, 'a JPEG image has no SOF header giving its width and height'),
  MJPEG_SIZE_CHANGED: spec('mjpeg', false, 'the image size changed mid-stream; one Matroska track has one size, so keep the camera resolution fixed'),

  // ── frame pool ──
  POOL_CONFIG_INVALID: spec('pool', false, 'pool.slotCount/slotBytes/maxFrames in the board manifest must be positive integers'),
  POOL_FRAME_TOO_LARGE: spec('pool', false,
    'an access unit is larger than a pool slot; raise pool.slotBytes in the board manifest or lower the bitrate / resolution'),
  POOL_EXHAUSTED: spec('pool', true, 'every slot holds frames awaiting acknowledgement; frames are dropped until one is released'),

  // ── Matroska / KVS fragment rules (kvs-reference.md §5.3, §6.2) ──
  MKV_BLOCK_TIMECODE_RANGE: spec('mkv', false, 'a frame is more than 32767 ms from its fragment start (int16 block timecode, PIC 0x3200000c); shorten the GOP'),
  MKV_FRAGMENT_NOT_MONOTONIC: spec('mkv', false, 'fragment timecodes must increase (KVS ACK 4004); check the source timestamps'),
  MKV_FRAME_NOT_MONOTONIC: spec('mkv', false, 'frame timestamps must satisfy DTS(n) >= DTS(n-1) + duration(n-1) (PIC 0x30000005); check the source timestamps'),
  MKV_FRAGMENT_START_NOT_KEY: spec('mkv', false, 'a fragment must start on a key frame'),
  MKV_FRAGMENT_START_PTS_DTS: spec('mkv', false, 'the key frame starting a fragment must have PTS == DTS (PIC 0x32000011)'),
  MKV_FRAGMENT_TOO_LONG: spec('mkv', false,
    'key frames are further apart than the maximum fragment duration (KVS ACK 4002); set the encoder key-frame interval lower (ffmpeg -g, x264 keyint, v4l2 h264_i_frame_period)'),
  MKV_FRAGMENT_TOO_LARGE: spec('mkv', false, 'a fragment exceeds 50 MB (KVS ACK 4001); lower the bitrate or the key-frame interval'),
  MKV_VIEW_LIST_FULL: spec('mkv', false, 'the output view list is too small for this frame; raise its capacity'),
  MKV_CODEC_PRIVATE_INVALID: spec('mkv', false, 'codec private data is missing or longer than 1 MiB (PIC 0x32000008/9)'),
  MKV_CODEC_ID_INVALID: spec('mkv', false, 'the Matroska CodecID must be 1-32 printable ASCII characters (PIC STATUS_MKV_INVALID_CODEC_ID_LENGTH)'),
  MKV_TRACK_NAME_INVALID: spec('mkv', false, 'the track name must be 1-32 bytes of UTF-8 (PIC STATUS_MKV_INVALID_TRACK_NAME_LENGTH)'),
  MKV_CALL_ORDER: spec('mkv', false,
    'the writer was called out of order: header() once per connection, startFragment() before block(), endFragment() only inside a fragment'),

  // ── fragment metadata (kvs-reference.md §5.6) ──
  METADATA_TOO_MANY: spec('metadata', false, 'a fragment carries at most 10 metadata items (KVS ACK 4009); remove some'),
  METADATA_NAME_INVALID: spec('metadata', false, 'metadata names are 1-128 bytes of UTF-8'),
  METADATA_NAME_RESERVED: spec('metadata', false, 'names starting with "AWS" are reserved for KVS (PIC 0x52000077); rename the item'),
  METADATA_VALUE_TOO_LONG: spec('metadata', false, 'metadata values are at most 256 bytes of UTF-8'),

  // ── configuration and CLI ──
  CONFIG_INVALID: spec('config', false, 'fix the named field in the configuration file'),
  CONFIG_BOARD_UNKNOWN: spec('config', false, 'use one of the boards in manifests/boards/ (fieldcam mux --help lists them)'),
  CLI_USAGE: spec('cli', false, 'run the command with --help for its usage'),
  CLI_INPUT_NOT_FOUND: spec('cli', false, 'check the input path'),
  CLI_OUTPUT_FAILED: spec('cli', false, 'check that the output directory exists and is writable'),
} as const);

export type ErrorCode = keyof typeof ERRORS;

/** The one error class of fieldcam: `code` is stable, `retryable` comes from the table. */
export class FieldcamError extends Error {
  override name = 'FieldcamError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly remedy: string;

  constructor(code: ErrorCode, message: string) {
    super(message);
    const entry: ErrorSpec = ERRORS[code];
    this.code = code;
    this.retryable = entry.retryable;
    this.remedy = entry.remedy;
  }
}

export function isFieldcamError(err: unknown, code?: ErrorCode): err is FieldcamError {
  return err instanceof FieldcamError && (code === undefined || err.code === code);
}
