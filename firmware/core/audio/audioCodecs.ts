import type { Playback } from '../media/codecs.ts';

/** One audio codec fieldcam can carry as a second track (kvs-reference.md §5.2, §12). */
export interface AudioCodecSpec {
  readonly id: AudioCodecId;
  readonly label: string;
  /** Matroska CodecID: A_AAC (CodecPrivate = AudioSpecificConfig), A_MS/ACM (CodecPrivate = WAVEFORMATEX). */
  readonly mkvCodecId: string;
  /** The part of a KVS MediaType that names this track ("video/h264,audio/aac"). */
  readonly kvsMediaType: string;
  /** WAVEFORMATEX wFormatTag for A_MS/ACM (6 A-law, 7 µ-law), 0 for A_AAC. */
  readonly formatTag: number;
  readonly playback: Playback;
}

export type AudioCodecId = 'aac' | 'alaw' | 'mulaw';

const G711_CAVEAT =
  'KVS stores G.711 (A_MS/ACM) and GetClip/DASH carry it, but HLS cannot: an HLS session of this stream plays video without sound (use AAC for HLS and the console)';

/** Every audio codec, by id (the ids `mux --audio` takes). */
export const AUDIO_CODECS: Readonly<Record<AudioCodecId, AudioCodecSpec>> = Object.freeze({
  aac: Object.freeze({
    id: 'aac',
    label: 'AAC',
    mkvCodecId: 'A_AAC',
    kvsMediaType: 'audio/aac',
    formatTag: 0,
    playback: Object.freeze({ hls: true }),
  }),
  alaw: Object.freeze({
    id: 'alaw',
    label: 'G.711 A-law',
    mkvCodecId: 'A_MS/ACM',
    kvsMediaType: 'audio/alaw',
    formatTag: 6,
    playback: Object.freeze({ hls: false, caveat: G711_CAVEAT }),
  }),
  mulaw: Object.freeze({
    id: 'mulaw',
    label: 'G.711 µ-law',
    mkvCodecId: 'A_MS/ACM',
    kvsMediaType: 'audio/mulaw',
    formatTag: 7,
    playback: Object.freeze({ hls: false, caveat: G711_CAVEAT }),
  }),
});

export const AUDIO_CODEC_IDS: readonly AudioCodecId[] = Object.freeze(Object.keys(AUDIO_CODECS) as AudioCodecId[]);

export function isAudioCodecId(value: unknown): value is AudioCodecId {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(AUDIO_CODECS, value);
}
