import type { AudioCodecId } from './audioCodecs.ts';

/**
 * An audio track's packets, as views into one buffer holding the whole input (offline `mux --audio`): where each
 * packet is and when it starts. Tables are sized once, from the count the reader found; nothing is copied.
 */
export class AudioPackets {
  readonly codec: AudioCodecId;
  readonly bytes: Uint8Array;
  readonly sampleRate: number;
  readonly channels: number;
  /** 16 for AAC (decoded), 8 for G.711 (Matroska BitDepth). */
  readonly bitDepth: number;
  /** AudioSpecificConfig (A_AAC) or WAVEFORMATEX (A_MS/ACM). */
  readonly codecPrivate: Uint8Array;
  readonly offset: Uint32Array;
  readonly length: Uint32Array;
  /** Samples per channel before each packet (its start time is samples / sampleRate). */
  readonly samplesBefore: Float64Array;
  readonly count: number;
  /** Samples per channel in the whole track. */
  readonly totalSamples: number;

  constructor(o: {
    codec: AudioCodecId;
    bytes: Uint8Array;
    sampleRate: number;
    channels: number;
    bitDepth: number;
    codecPrivate: Uint8Array;
    offset: Uint32Array;
    length: Uint32Array;
    samplesBefore: Float64Array;
    count: number;
    totalSamples: number;
  }) {
    this.codec = o.codec;
    this.bytes = o.bytes;
    this.sampleRate = o.sampleRate;
    this.channels = o.channels;
    this.bitDepth = o.bitDepth;
    this.codecPrivate = o.codecPrivate;
    this.offset = o.offset;
    this.length = o.length;
    this.samplesBefore = o.samplesBefore;
    this.count = o.count;
    this.totalSamples = o.totalSamples;
  }

  /** Start of packet `i` in ms after the track's start, rounded (Matroska timecodes here are whole ms). */
  timeMs(i: number): number {
    return Math.round(((this.samplesBefore[i] as number) * 1000) / this.sampleRate);
  }
}
