import { FieldcamError } from '../errors.ts';
import { AdtsHeader, AAC_FRAME_SAMPLES } from './AdtsHeader.ts';
import { audioSpecificConfig } from './audioCodecPrivate.ts';
import { AudioPackets } from './AudioPackets.ts';

const MAX_FRAMES = 1 << 22;

/**
 * Splits a whole AAC ADTS stream (offline `mux --audio`) into raw AAC frames for an A_AAC track, and builds its
 * CodecPrivate (AudioSpecificConfig). Bounded: every header is checked (AdtsHeader) and the stream's configuration
 * may not change (AUDIO_ADTS_INVALID).
 */
export function readAdts(bytes: Uint8Array): AudioPackets {
  const h = new AdtsHeader();
  let count = 0;
  let config = -1;
  for (let p = 0; p < bytes.length; ) {
    h.parse(bytes, p, bytes.length - p, p, true);
    if (config < 0) config = h.config;
    else if (h.config !== config) throw new FieldcamError('AUDIO_ADTS_INVALID', `ADTS frame ${count} at byte ${p} changes the profile, rate or channels`);
    p += h.frameLength;
    if (++count > MAX_FRAMES) throw new FieldcamError('AUDIO_ADTS_INVALID', `more than ${MAX_FRAMES} ADTS frames`);
  }
  if (count === 0) throw new FieldcamError('AUDIO_ADTS_INVALID', 'the AAC input has no ADTS frame');
  const offset = new Uint32Array(count);
  const length = new Uint32Array(count);
  const samplesBefore = new Float64Array(count);
  for (let i = 0, p = 0; i < count; i++) {
    h.parse(bytes, p, bytes.length - p, p, true);
    offset[i] = p + h.headerBytes;
    length[i] = h.frameLength - h.headerBytes;
    samplesBefore[i] = i * AAC_FRAME_SAMPLES;
    p += h.frameLength;
  }
  h.parse(bytes, 0, bytes.length, 0, true);
  return new AudioPackets({
    codec: 'aac',
    bytes,
    sampleRate: h.sampleRate,
    channels: h.channels,
    bitDepth: 16,
    codecPrivate: audioSpecificConfig(h.profile, h.rateIndex, h.channels),
    offset,
    length,
    samplesBefore,
    count,
    totalSamples: count * AAC_FRAME_SAMPLES,
  });
}
