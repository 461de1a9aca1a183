import { AUDIO_CODECS, type AudioCodecId } from '../audio/audioCodecs.ts';
import { CODECS, type CodecId } from './codecs.ts';

/**
 * The configuration-time check (user-needs row 20): combinations KVS stores but its console/HLS cannot play, each
 * as one sentence saying what and why. Empty when everything plays. Read from the codec tables' `playback`, so a
 * new codec brings its own caveat.
 */
export function playbackWarnings(video: CodecId, audio: readonly AudioCodecId[] = []): string[] {
  const out: string[] = [];
  const v = CODECS[video].playback;
  if (v.caveat) out.push(`${CODECS[video].label}: ${v.caveat}`);
  for (const id of new Set(audio)) {
    const a = AUDIO_CODECS[id].playback;
    if (a.caveat) out.push(`${AUDIO_CODECS[id].label}: ${a.caveat}`);
  }
  return out;
}
