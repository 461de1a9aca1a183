import type { AudioCodecId } from './audioCodecs.ts';

/**
 * One packet of silence, built once at boot, that fills a fragment whose audio did not arrive (AudioInput: KVS
 * refuses a fragment missing a declared track, ACK 4011). AAC-LC raw data blocks with no spectral data, checked to
 * decode to zeros with ffmpeg (test/firmware/core/audio): mono, a single_channel_element — id 0, tag 0, global_gain 0,
 * ics_info of a long window with max_sfb 0, no pulse/TNS/gain control — then ID_END (ISO/IEC 14496-3 4.4.2); stereo,
 * a channel_pair_element without common window holding two such channel streams. G.711: µ-law 0xFF (0); A-law has
 * no zero, 0xD5 is its smallest level (+8 of 32768; ITU-T G.711 tables 1a/2a). undefined: no silence for this layout (AAC with > 2 channels).
 */
export function silentPacket(codec: AudioCodecId, channels: number, packetBytes: number): Uint8Array | undefined {
  if (codec === 'aac') {
    if (channels === 1) return new Uint8Array([0x00, 0x00, 0x00, 0x07]);
    if (channels === 2) return new Uint8Array([0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e]);
    return undefined;
  }
  return new Uint8Array(packetBytes).fill(codec === 'alaw' ? 0xd5 : 0xff);
}
