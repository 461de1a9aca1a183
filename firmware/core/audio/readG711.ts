import { FieldcamError } from '../errors.ts';
import { AUDIO_CODECS } from './audioCodecs.ts';
import { g711WaveFormat } from './audioCodecPrivate.ts';
import { AudioPackets } from './AudioPackets.ts';

/** G.711 is 8 kHz, 8-bit, one byte per sample (ITU-T G.711); packets of 20 ms as RTP and KVS producers send them. */
const RATE = 8000;
const PACKET_SAMPLES = 160;

/**
 * Splits raw G.711 A-law or µ-law samples (mono, as `ffmpeg -f alaw` / `-f mulaw` write them) into 20 ms packets
 * for an A_MS/ACM track, whose CodecPrivate is a WAVEFORMATEX (wFormatTag 6 A-law, 7 µ-law; 18 bytes, little-endian).
 */
export function readG711(bytes: Uint8Array, codec: 'alaw' | 'mulaw'): AudioPackets {
  if (bytes.length === 0) throw new FieldcamError('INPUT_EMPTY', `the ${AUDIO_CODECS[codec].label} input has no samples`);
  const count = Math.ceil(bytes.length / PACKET_SAMPLES);
  const offset = new Uint32Array(count);
  const length = new Uint32Array(count);
  const samplesBefore = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    offset[i] = i * PACKET_SAMPLES;
    length[i] = Math.min(PACKET_SAMPLES, bytes.length - i * PACKET_SAMPLES);
    samplesBefore[i] = i * PACKET_SAMPLES;
  }
  const wfx = g711WaveFormat(codec, RATE, 1);
  return new AudioPackets({
    codec,
    bytes,
    sampleRate: RATE,
    channels: 1,
    bitDepth: 8,
    codecPrivate: wfx,
    offset,
    length,
    samplesBefore,
    count,
    totalSamples: bytes.length,
  });
}
