import { FieldcamError } from '../errors.ts';
import { parseSps } from './parseSps.ts';

/** Profiles for which ISO/IEC 14496-15 5.3.3.1.2 appends chroma format and bit depths to the record. */
const EXTENDED_RECORD_PROFILES = Object.freeze([100, 110, 122, 144] as const);
const MAX_PARAMETER_SET_BYTES = 0xffff; // sequenceParameterSetLength / pictureParameterSetLength are u16

/**
 * Builds the AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1; kvs-reference.md §5.5) that Matroska
 * carries as CodecPrivate for V_MPEG4/ISO/AVC, from one SPS and one PPS NAL unit (header byte first, no start
 * code, emulation prevention bytes kept as they are in the stream):
 *
 *   01 | profile | compat | level | FF (lengthSizeMinusOne = 3) | E1 (1 SPS) | u16 len | SPS | 01 | u16 len | PPS
 *   [high profiles: FC|chroma_format_idc, F8|bit_depth_luma_minus8, F8|bit_depth_chroma_minus8, 00 (no SPS ext)]
 *
 * Called once per parameter-set change, so it allocates its result.
 */
export function buildAvcDecoderConfig(sps: Uint8Array, pps: Uint8Array): Uint8Array {
  if (sps.length < 4 || ((sps[0] as number) & 0x1f) !== 7) {
    throw new FieldcamError('H264_SPS_INVALID', `SPS for the decoder configuration must be a type-7 NAL unit of at least 4 bytes (got ${sps.length})`);
  }
  if (sps.length > MAX_PARAMETER_SET_BYTES) throw new FieldcamError('H264_SPS_INVALID', `SPS is ${sps.length} bytes, more than 65535`);
  if (pps.length < 2 || ((pps[0] as number) & 0x1f) !== 8) {
    throw new FieldcamError('H264_PPS_INVALID', `PPS for the decoder configuration must be a type-8 NAL unit of at least 2 bytes (got ${pps.length})`);
  }
  if (pps.length > MAX_PARAMETER_SET_BYTES) throw new FieldcamError('H264_PPS_INVALID', `PPS is ${pps.length} bytes, more than 65535`);

  const profile = sps[1] as number;
  const extended = (EXTENDED_RECORD_PROFILES as readonly number[]).includes(profile);
  const out = new Uint8Array(11 + sps.length + pps.length + (extended ? 4 : 0));
  let p = 0;
  out[p++] = 1; // configurationVersion
  out[p++] = profile; // AVCProfileIndication
  out[p++] = sps[2] as number; // profile_compatibility (the constraint flags byte)
  out[p++] = sps[3] as number; // AVCLevelIndication
  out[p++] = 0xfc | 3; // reserved '111111' + lengthSizeMinusOne = 3: 4-byte NAL lengths
  out[p++] = 0xe0 | 1; // reserved '111' + numOfSequenceParameterSets = 1
  out[p++] = sps.length >> 8;
  out[p++] = sps.length & 0xff;
  out.set(sps, p);
  p += sps.length;
  out[p++] = 1; // numOfPictureParameterSets
  out[p++] = pps.length >> 8;
  out[p++] = pps.length & 0xff;
  out.set(pps, p);
  p += pps.length;
  if (extended) {
    const info = parseSps(sps, 0, sps.length);
    out[p++] = 0xfc | info.chromaFormatIdc; // reserved '111111' + chroma_format
    out[p++] = 0xf8 | (info.bitDepthLuma - 8); // reserved '11111' + bit_depth_luma_minus8
    out[p++] = 0xf8 | (info.bitDepthChroma - 8); // reserved '11111' + bit_depth_chroma_minus8
    out[p++] = 0; // numOfSequenceParameterSetExt
  }
  return out;
}
