import { AUDIO_CODECS } from './audioCodecs.ts';

/**
 * The A_AAC CodecPrivate, a 2-byte AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1): audioObjectType (ADTS profile + 1),
 * sampling_frequency_index, channel configuration, then frameLengthFlag/dependsOnCoreCoder/extensionFlag 0.
 */
export function audioSpecificConfig(profile: number, rateIndex: number, channels: number): Uint8Array {
  const objectType = profile + 1;
  return new Uint8Array([(objectType << 3) | (rateIndex >> 1), ((rateIndex & 1) << 7) | (channels << 3)]);
}

/** The A_MS/ACM CodecPrivate for G.711: a WAVEFORMATEX (18 bytes, little-endian; wFormatTag 6 A-law, 7 µ-law), 8 bits. */
export function g711WaveFormat(codec: 'alaw' | 'mulaw', sampleRate: number, channels: number): Uint8Array {
  const wfx = new Uint8Array(18);
  const v = new DataView(wfx.buffer);
  v.setUint16(0, AUDIO_CODECS[codec].formatTag, true); // wFormatTag
  v.setUint16(2, channels, true); // nChannels
  v.setUint32(4, sampleRate, true); // nSamplesPerSec
  v.setUint32(8, sampleRate * channels, true); // nAvgBytesPerSec
  v.setUint16(12, channels, true); // nBlockAlign
  v.setUint16(14, 8, true); // wBitsPerSample
  v.setUint16(16, 0, true); // cbSize
  return wfx;
}
