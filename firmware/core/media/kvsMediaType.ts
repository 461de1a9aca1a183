import { AUDIO_CODECS, type AudioCodecId } from '../audio/audioCodecs.ts';
import { CODECS, type CodecId } from './codecs.ts';

/** A stream's KVS MediaType from the codec tables, video first: "video/h264", "video/h264,audio/aac". */
export function kvsMediaType(video: CodecId, audio: readonly AudioCodecId[] = []): string {
  let type = CODECS[video].kvsMediaType;
  for (const id of audio) type += `,${AUDIO_CODECS[id].kvsMediaType}`;
  return type;
}
