import type { Frame } from '../media/Frame.ts';
import type { ViewList } from '../media/ViewList.ts';
import type { BlockPayload } from './MkvBlockPort.ts';

/** The one video track of a KVS stream (Matroska TrackEntry, kvs-reference.md §5.2). */
export interface TrackSpec {
  /** Matroska CodecID: 'V_MPEG4/ISO/AVC' or 'V_MJPEG' (1-32 printable ASCII). */
  readonly codecId: string;
  /** Track Name; KVS producers use 'kinesis_video' (the default). 1-32 bytes of UTF-8. */
  readonly name?: string;
  /** PixelWidth / PixelHeight (from the SPS with cropping, or the JPEG SOF). */
  readonly width: number;
  readonly height: number;
  /** AVCDecoderConfigurationRecord for H.264 (required for V_MPEG4/ISO/AVC, ≤ 1 MiB); absent for MJPEG. */
  readonly codecPrivate?: Uint8Array;
  /** DefaultDuration in ns, when the frame rate is constant. */
  readonly defaultDurationNs?: number;
  /**
   * Appends the frame's bytes as they go into the SimpleBlock (for H.264: AVCC, converted in h264/).
   * Must only push (no other use of `out`); the writer measures the pushed bytes to size the block.
   */
  pushPayload(frame: Frame, out: ViewList): void;
  /**
   * What `pushPayload` does, when it is one of the conversions a board's native knows (MkvBlockPort): then a
   * writer given the port builds the block there. Absent: always `pushPayload`.
   */
  readonly payload?: BlockPayload;
}

/** An audio track after the video track (TrackNumber 2, 3): kvs-reference.md §5.2's audio TrackEntry. */
export interface AudioTrackSpec {
  /** 'A_AAC' or 'A_MS/ACM'. */
  readonly codecId: string;
  /** Track Name (default 'audio'). */
  readonly name?: string;
  /** AudioSpecificConfig for A_AAC, WAVEFORMATEX for A_MS/ACM. */
  readonly codecPrivate: Uint8Array;
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitDepth: number;
}
