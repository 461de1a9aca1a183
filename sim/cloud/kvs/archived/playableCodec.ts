import { CloudError } from '../../types.ts';
import type { TrackInfo } from './readTracks.ts';

/** Track-1 codecs KVS packages for HLS, DASH and GetClip (GetClip and GetHLSStreamingSessionURL API reference). */
const PLAYABLE: ReadonlySet<string> = new Set(['V_MPEG4/ISO/AVC', 'V_MPEGH/ISO/HEVC']);

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/**
 * The RFC 6381 codec string of a playable track 1 (`avc1.PPCCLL` from the AVCDecoderConfigurationRecord,
 * ISO/IEC 14496-15 §5.3.3.1; `hvc1.…` from the HEVCDecoderConfigurationRecord, §8.3.3.1 and RFC 6381 §3.4
 * as Apple's HLS authoring spec writes it), or the KVS error for a stream it cannot play:
 * UnsupportedStreamMediaTypeException for other codecs (an esp32-cam's V_MJPEG), MissingCodecPrivateData
 * without CodecPrivate, InvalidCodecPrivateData for a record too short to be one.
 */
export function playableCodec(tracks: readonly TrackInfo[]): { codecs: string; width?: number; height?: number } {
  const video = tracks.find((t) => t.number === 1) ?? tracks[0];
  if (!video || !PLAYABLE.has(video.codecId)) {
    throw new CloudError(
      400,
      'UnsupportedStreamMediaTypeException',
      `The type of the media could not be determined from the codec IDs of the tracks in the first fragment for a playback session (track 1: ${video?.codecId ?? 'none'}). ` +
        'The codec ID for track 1 should be V_MPEG/ISO/AVC and, optionally, the codec ID for track 2 should be A_AAC.',
    );
  }
  const cpd = video.codecPrivate;
  if (!cpd || cpd.length === 0) throw new CloudError(400, 'MissingCodecPrivateDataException', 'No codec private data was found in the video track.');
  const size = { ...(video.width ? { width: video.width } : {}), ...(video.height ? { height: video.height } : {}) };
  if (video.codecId === 'V_MPEG4/ISO/AVC') {
    if (cpd.length < 7 || cpd[0] !== 1)
      throw new CloudError(400, 'InvalidCodecPrivateDataException', 'The codec private data of the video track is not an AVCDecoderConfigurationRecord.');
    return { codecs: `avc1.${hex2(cpd[1]!)}${hex2(cpd[2]!)}${hex2(cpd[3]!)}`, ...size };
  }
  if (cpd.length < 23 || cpd[0] !== 1)
    throw new CloudError(400, 'InvalidCodecPrivateDataException', 'The codec private data of the video track is not an HEVCDecoderConfigurationRecord.');
  const space = ['', 'A', 'B', 'C'][cpd[1]! >> 6]!;
  const tier = cpd[1]! & 0x20 ? 'H' : 'L';
  const profile = cpd[1]! & 0x1f;
  let compat = 0;
  for (let i = 0; i < 32; i++) if (cpd[2 + (i >> 3)]! & (0x80 >> (i & 7))) compat |= 1 << i; // bit-reversed
  const constraints = Array.from(cpd.subarray(6, 12));
  while (constraints.length > 0 && constraints.at(-1) === 0) constraints.pop();
  const tail = constraints.map((b) => b.toString(16).toUpperCase()).join('.');
  return { codecs: `hvc1.${space}${profile}.${(compat >>> 0).toString(16).toUpperCase()}.${tier}${cpd[12]}${tail ? `.${tail}` : ''}`, ...size };
}
