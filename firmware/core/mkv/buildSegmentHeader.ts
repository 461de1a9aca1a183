import { FieldcamError } from '../errors.ts';
import { utf8Length } from '../text/utf8.ts';
import { EbmlBuilder } from './EbmlBuilder.ts';
import { EBML_IDS } from './ebmlIds.ts';
import { MKV_LIMITS } from './mkvLimits.ts';
import type { AudioTrackSpec, TrackSpec } from './TrackSpec.ts';

/** Matroska MuxingApp of every stream fieldcam writes. */
export const MUXING_APP = 'fieldcam';
/** Track Name the KVS producers use (kvs-reference.md §1 item 7). */
export const DEFAULT_TRACK_NAME = 'kinesis_video';
/** CodecID whose CodecPrivate (the AVCDecoderConfigurationRecord) players and KVS HLS need. */
export const CODEC_ID_H264 = 'V_MPEG4/ISO/AVC';
/** KVS's track limit (kvs-reference.md §2 item 5, ACK 4012): the video track and at most two audio tracks. */
export const MAX_TRACKS = 3;
/** TimecodeScale in ns: all times are milliseconds (kvs-reference.md §5.3). */
export const TIMECODE_SCALE_NS = 1_000_000;
export const SEGMENT_UID_BYTES = 16;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
/** PixelWidth/PixelHeight: the KVS PIC writes them as 2-octet integers, so larger values are refused. */
const MAX_PIXELS = 0xffff;

function validateTrack(track: TrackSpec): string {
  if (typeof track !== 'object' || track === null) throw new TypeError('track must be an object');
  const { codecId, width, height, codecPrivate, defaultDurationNs } = track;
  if (typeof codecId !== 'string') throw new TypeError('track.codecId must be a string');
  if (codecId.length < 1 || codecId.length > MKV_LIMITS.codecIdMaxBytes || !PRINTABLE_ASCII.test(codecId)) {
    throw new FieldcamError('MKV_CODEC_ID_INVALID', `track.codecId "${codecId}" is not 1-${MKV_LIMITS.codecIdMaxBytes} printable ASCII characters`);
  }
  const name = track.name ?? DEFAULT_TRACK_NAME;
  if (typeof name !== 'string') throw new TypeError('track.name must be a string');
  const nameBytes = utf8Length(name);
  if (nameBytes < 1 || nameBytes > MKV_LIMITS.trackNameMaxBytes) {
    throw new FieldcamError('MKV_TRACK_NAME_INVALID', `track.name is ${nameBytes} bytes of UTF-8; 1-${MKV_LIMITS.trackNameMaxBytes} allowed`);
  }
  for (const [key, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_PIXELS) throw new RangeError(`track.${key} must be an integer 1-${MAX_PIXELS}, got ${String(v)}`);
  }
  if (codecPrivate !== undefined && !(codecPrivate instanceof Uint8Array)) throw new TypeError('track.codecPrivate must be a Uint8Array');
  if (codecPrivate !== undefined && codecPrivate.length > MKV_LIMITS.codecPrivateMaxBytes) {
    throw new FieldcamError(
      'MKV_CODEC_PRIVATE_INVALID',
      `track.codecPrivate is ${codecPrivate.length} bytes; at most ${MKV_LIMITS.codecPrivateMaxBytes} allowed`,
    );
  }
  if (codecId === CODEC_ID_H264 && (codecPrivate === undefined || codecPrivate.length === 0)) {
    throw new FieldcamError('MKV_CODEC_PRIVATE_INVALID', `track.codecPrivate (the AVCDecoderConfigurationRecord) is required for ${CODEC_ID_H264}`);
  }
  if (defaultDurationNs !== undefined && (!Number.isSafeInteger(defaultDurationNs) || defaultDurationNs < 1)) {
    throw new RangeError(`track.defaultDurationNs must be a positive integer, got ${String(defaultDurationNs)}`);
  }
  if (typeof track.pushPayload !== 'function') throw new TypeError('track.pushPayload must be a function');
  return name;
}

/**
 * The bytes that open every PutMedia body (kvs-reference.md §4.3, §5.2): EBML header, Segment of unknown
 * size (8-octet 0x01FFFFFFFFFFFFFF), Info and Tracks. Built once; validates the track (FieldcamError
 * MKV_CODEC_ID_INVALID / MKV_TRACK_NAME_INVALID / MKV_CODEC_PRIVATE_INVALID, TypeError/RangeError for
 * programmer errors) and the Info arguments (RangeError).
 */
export function buildSegmentHeader(track: TrackSpec, segmentUid: Uint8Array, writingApp: string, audio: readonly AudioTrackSpec[] = []): Uint8Array {
  const name = validateTrack(track);
  if (1 + audio.length > MAX_TRACKS) {
    throw new FieldcamError('MKV_TOO_MANY_TRACKS', `1 video and ${audio.length} audio tracks make ${1 + audio.length}; KVS takes at most ${MAX_TRACKS}`);
  }
  let audioBytes = 0;
  for (const a of audio) {
    if (!PRINTABLE_ASCII.test(a.codecId) || a.codecId.length < 1 || a.codecId.length > MKV_LIMITS.codecIdMaxBytes) {
      throw new FieldcamError('MKV_CODEC_ID_INVALID', `audio codecId "${a.codecId}" is not 1-${MKV_LIMITS.codecIdMaxBytes} printable ASCII characters`);
    }
    if (!(a.codecPrivate instanceof Uint8Array) || a.codecPrivate.length === 0 || a.codecPrivate.length > MKV_LIMITS.codecPrivateMaxBytes) {
      throw new FieldcamError('MKV_CODEC_PRIVATE_INVALID', `the ${a.codecId} track needs its CodecPrivate (1-${MKV_LIMITS.codecPrivateMaxBytes} bytes)`);
    }
    if (!(a.sampleRate > 0) || !Number.isInteger(a.channels) || a.channels < 1 || a.channels > 8) {
      throw new RangeError(`audio track: sampleRate ${a.sampleRate} / channels ${a.channels} out of range`);
    }
    audioBytes += 64 + a.codecPrivate.length;
  }
  if (!(segmentUid instanceof Uint8Array) || segmentUid.length !== SEGMENT_UID_BYTES || segmentUid.every((b) => b === 0)) {
    // SegmentUUID: 16 octets, "not 0" (RFC 9559 \Segment\Info\SegmentUUID).
    throw new RangeError(`segmentUid must be ${SEGMENT_UID_BYTES} bytes, not all zero`);
  }
  if (typeof writingApp !== 'string') throw new TypeError('writingApp must be a string');
  const appBytes = utf8Length(writingApp);
  if (appBytes < 1 || appBytes > MKV_LIMITS.writingAppMaxBytes) {
    throw new RangeError(`writingApp is ${appBytes} bytes of UTF-8; 1-${MKV_LIMITS.writingAppMaxBytes} allowed`);
  }
  const cpd = track.codecPrivate;
  const b = new EbmlBuilder(1024 + appBytes + (cpd?.length ?? 0) + audioBytes);

  // EBML header: the same values the KVS PIC and embedded producer send (DocTypeVersion 2: SimpleBlock).
  b.begin(EBML_IDS.EBML)
    .uint(EBML_IDS.EBMLVersion, 1)
    .uint(EBML_IDS.EBMLReadVersion, 1)
    .uint(EBML_IDS.EBMLMaxIDLength, 4)
    .uint(EBML_IDS.EBMLMaxSizeLength, 8)
    .string(EBML_IDS.DocType, 'matroska')
    .uint(EBML_IDS.DocTypeVersion, 2)
    .uint(EBML_IDS.DocTypeReadVersion, 2)
    .end();

  // One Segment per PutMedia connection; live, so its size is unknown.
  b.beginUnknown(EBML_IDS.Segment, 8);

  b.begin(EBML_IDS.Info)
    .uint(EBML_IDS.TimecodeScale, TIMECODE_SCALE_NS)
    .string(EBML_IDS.MuxingApp, MUXING_APP)
    .string(EBML_IDS.WritingApp, writingApp)
    .binary(EBML_IDS.SegmentUID, segmentUid)
    .end();

  b.begin(EBML_IDS.Tracks)
    .begin(EBML_IDS.TrackEntry)
    .uint(EBML_IDS.TrackNumber, 1) // SimpleBlocks address it as VINT 0x81
    .uint(EBML_IDS.TrackUID, 1) // unique within the Segment is all Matroska asks; fixed for reproducible bytes
    .uint(EBML_IDS.TrackType, 1) // video
    .uint(EBML_IDS.FlagLacing, 0) // one frame per SimpleBlock
    .string(EBML_IDS.Name, name)
    .string(EBML_IDS.CodecID, track.codecId);
  if (cpd !== undefined && cpd.length > 0) b.binary(EBML_IDS.CodecPrivate, cpd);
  if (track.defaultDurationNs !== undefined) b.uint(EBML_IDS.DefaultDuration, track.defaultDurationNs);
  b.begin(EBML_IDS.Video).uint(EBML_IDS.PixelWidth, track.width).uint(EBML_IDS.PixelHeight, track.height).end();
  b.end();
  for (let i = 0; i < audio.length; i++) {
    const a = audio[i]!;
    const rate = new Uint8Array(8);
    new DataView(rate.buffer).setFloat64(0, a.sampleRate); // EBML float: big-endian IEEE 754 binary64
    b.begin(EBML_IDS.TrackEntry)
      .uint(EBML_IDS.TrackNumber, 2 + i) // SimpleBlocks address it as VINT 0x82, 0x83
      .uint(EBML_IDS.TrackUID, 2 + i)
      .uint(EBML_IDS.TrackType, 2) // audio
      .uint(EBML_IDS.FlagLacing, 0)
      .string(EBML_IDS.Name, a.name ?? 'audio')
      .string(EBML_IDS.CodecID, a.codecId)
      .binary(EBML_IDS.CodecPrivate, a.codecPrivate)
      .begin(EBML_IDS.Audio)
      .binary(EBML_IDS.SamplingFrequency, rate)
      .uint(EBML_IDS.Channels, a.channels)
      .uint(EBML_IDS.BitDepth, a.bitDepth)
      .end()
      .end();
  }
  b.end();

  return b.toUint8Array();
}
