import { FieldcamError } from '../errors.ts';

/** Sampling rates by sampling_frequency_index (ISO/IEC 14496-3 Table 1.18). */
export const AAC_RATES: readonly number[] = Object.freeze([96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]);
/** Samples per channel in one AAC frame (one raw data block, 1024-sample frames). */
export const AAC_FRAME_SAMPLES = 1024;
/** Bytes of an ADTS header without CRC; with CRC it is 9 (ISO/IEC 13818-7 6.2). */
export const ADTS_HEADER_MIN = 7;

/**
 * One ADTS frame header (ISO/IEC 13818-7 6.2 / 14496-3 1.A.2), parsed into this reused record: the offline reader
 * (readAdts) and the device's streaming reader (AudioInput) share it, so both refuse exactly the same streams.
 * Bounded: sync word and layer 0, a known rate, a channel configuration, one raw block, a length that fits.
 */
export class AdtsHeader {
  profile = 0;
  rateIndex = 0;
  channels = 0;
  /** Header plus raw AAC frame, bytes. */
  frameLength = 0;
  /** 7, or 9 with a CRC. */
  headerBytes = 0;
  /** profile, rate and channels in one number: a stream may not change it. */
  config = 0;

  /**
   * Parses the header at `b[p]`; `available` is how many bytes of the stream follow `p` (the frame must fit when
   * `wholeFrame`). Throws AUDIO_ADTS_INVALID naming `at` (the stream offset for messages).
   */
  parse(b: Uint8Array, p: number, available: number, at: number, wholeFrame: boolean): void {
    if (available < ADTS_HEADER_MIN) throw new FieldcamError('AUDIO_ADTS_INVALID', `the ADTS stream ends inside a header at byte ${at}`);
    if (b[p] !== 0xff || ((b[p + 1] as number) & 0xf6) !== 0xf0) {
      throw new FieldcamError('AUDIO_ADTS_INVALID', `no ADTS sync word (FFF, layer 0) at byte ${at}`);
    }
    const protectionAbsent = (b[p + 1] as number) & 1;
    const rateIndex = ((b[p + 2] as number) >> 2) & 0xf;
    const channels = (((b[p + 2] as number) & 1) << 2) | ((b[p + 3] as number) >> 6);
    const frameLength = (((b[p + 3] as number) & 3) << 11) | ((b[p + 4] as number) << 3) | ((b[p + 5] as number) >> 5);
    const rawBlocks = (b[p + 6] as number) & 3;
    const headerBytes = protectionAbsent ? 7 : 9;
    if (rateIndex >= AAC_RATES.length) throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS sampling_frequency_index ${rateIndex} at byte ${at}`);
    if (channels === 0) throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS channel_configuration 0 (a program config element) at byte ${at} is not supported`);
    if (rawBlocks !== 0) throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS frame at byte ${at} holds ${rawBlocks + 1} raw blocks; encode one per frame`);
    if (frameLength <= headerBytes || (wholeFrame && frameLength > available)) {
      throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS frame at byte ${at} claims ${frameLength} bytes; ${available} remain`);
    }
    this.profile = (b[p + 2] as number) >> 6;
    this.rateIndex = rateIndex;
    this.channels = channels;
    this.frameLength = frameLength;
    this.headerBytes = headerBytes;
    this.config = (this.profile << 8) | (rateIndex << 4) | channels;
  }

  get sampleRate(): number {
    return AAC_RATES[this.rateIndex] as number;
  }
}
