import { FieldcamError } from '../errors.ts';
import { AudioPackets } from './AudioPackets.ts';

/** Sampling rates by sampling_frequency_index (ISO/IEC 14496-3 Table 1.18). */
const AAC_RATES = Object.freeze([96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]);
const SAMPLES_PER_FRAME = 1024;
const MAX_FRAMES = 1 << 22;

/**
 * Splits an AAC ADTS stream (ISO/IEC 13818-7 6.2 / 14496-3 1.A.2) into raw AAC frames for an A_AAC track, and
 * builds its CodecPrivate, the 2-byte AudioSpecificConfig: audioObjectType (profile + 1), sampling index,
 * channel configuration, then frameLengthFlag/dependsOnCoreCoder/extensionFlag 0. Bounded: every header is checked
 * (sync word, layer 0, a length that fits) and the stream's configuration may not change (AUDIO_ADTS_INVALID).
 */
export function readAdts(bytes: Uint8Array): AudioPackets {
  let count = 0;
  let config = -1;
  for (let p = 0; p < bytes.length; ) {
    const h = header(bytes, p);
    if (config < 0) config = h.config;
    else if (h.config !== config) throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS frame ${count} at byte ${p} changes the profile, rate or channels`);
    p += h.frameLength;
    if (++count > MAX_FRAMES) throw new FieldcamError('AUDIO_ADTS_INVALID', `more than ${MAX_FRAMES} ADTS frames`);
  }
  if (count === 0) throw new FieldcamError('AUDIO_ADTS_INVALID', 'the AAC input has no ADTS frame');
  const offset = new Uint32Array(count);
  const length = new Uint32Array(count);
  const samplesBefore = new Float64Array(count);
  const first = header(bytes, 0);
  for (let i = 0, p = 0; i < count; i++) {
    const h = header(bytes, p);
    offset[i] = p + h.headerBytes;
    length[i] = h.frameLength - h.headerBytes;
    samplesBefore[i] = i * SAMPLES_PER_FRAME;
    p += h.frameLength;
  }
  const objectType = first.profile + 1;
  const asc = new Uint8Array([(objectType << 3) | (first.rateIndex >> 1), ((first.rateIndex & 1) << 7) | (first.channels << 3)]);
  return new AudioPackets({
    codec: 'aac', bytes, sampleRate: AAC_RATES[first.rateIndex] as number, channels: first.channels, bitDepth: 16, codecPrivate: asc,
    offset, length, samplesBefore, count, totalSamples: count * SAMPLES_PER_FRAME,
  });
}

function header(b: Uint8Array, p: number) {
  if (p + 7 > b.length) throw new FieldcamError('AUDIO_ADTS_INVALID', `the ADTS stream ends inside a header at byte ${p}`);
  if (b[p] !== 0xff || ((b[p + 1] as number) & 0xf6) !== 0xf0) {
    throw new FieldcamError('AUDIO_ADTS_INVALID', `no ADTS sync word (FFF, layer 0) at byte ${p}`);
  }
  const protectionAbsent = (b[p + 1] as number) & 1;
  const profile = (b[p + 2] as number) >> 6;
  const rateIndex = ((b[p + 2] as number) >> 2) & 0xf;
  const channels = (((b[p + 2] as number) & 1) << 2) | ((b[p + 3] as number) >> 6);
  const frameLength = (((b[p + 3] as number) & 3) << 11) | ((b[p + 4] as number) << 3) | ((b[p + 5] as number) >> 5);
  const rawBlocks = (b[p + 6] as number) & 3;
  const headerBytes = protectionAbsent ? 7 : 9;
  if (rateIndex >= AAC_RATES.length) throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS sampling_frequency_index ${rateIndex} at byte ${p}`);
  if (channels === 0) throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS channel_configuration 0 (a program config element) at byte ${p} is not supported`);
  if (rawBlocks !== 0) throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS frame at byte ${p} holds ${rawBlocks + 1} raw blocks; encode one per frame`);
  if (frameLength <= headerBytes || p + frameLength > b.length) {
    throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS frame at byte ${p} claims ${frameLength} bytes; ${b.length - p} remain`);
  }
  return { profile, rateIndex, channels, frameLength, headerBytes, config: (profile << 8) | (rateIndex << 4) | channels };
}
