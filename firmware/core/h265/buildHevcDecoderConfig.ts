import { FieldcamError } from '../errors.ts';
import type { HevcSpsInfo } from './parseHevcSps.ts';

const MAX_PARAMETER_SET_BYTES = 0xffff; // nalUnitLength is u16
const NAL_VPS = 32;
const NAL_SPS = 33;
const NAL_PPS = 34;

/**
 * Builds the HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1.2) that Matroska carries as CodecPrivate
 * for V_MPEGH/ISO/HEVC, from one VPS, SPS and PPS NAL unit each (2-byte header first, no start code, emulation
 * prevention kept) and the parsed SPS:
 *
 *   01 | general profile_tier_level (12 bytes) | F000 (min_spatial_segmentation 0) | FC (parallelism unknown)
 *   | FC|chroma_format | F8|bit_depth_luma-8 | F8|bit_depth_chroma-8 | 0000 (avgFrameRate unknown)
 *   | 00|numTemporalLayers<<3|temporalIdNested<<2|3 (4-byte NAL lengths) | 03 (arrays)
 *   | per array: 80|type (complete) | 0001 | u16 length | NAL unit
 *
 * Called once per parameter-set change, so it allocates its result.
 */
export function buildHevcDecoderConfig(vps: Uint8Array, sps: Uint8Array, pps: Uint8Array, info: HevcSpsInfo): Uint8Array {
  const sets = [
    [NAL_VPS, vps, 'VPS'],
    [NAL_SPS, sps, 'SPS'],
    [NAL_PPS, pps, 'PPS'],
  ] as const;
  let size = 23;
  for (const [type, nal, name] of sets) {
    if (nal.length < 3 || (((nal[0] as number) >> 1) & 0x3f) !== type) {
      throw new FieldcamError(
        type === NAL_PPS ? 'H265_PPS_INVALID' : 'H265_SPS_INVALID',
        `${name} for the decoder configuration must be a type-${type} NAL unit of at least 3 bytes (got ${nal.length})`,
      );
    }
    if (nal.length > MAX_PARAMETER_SET_BYTES) throw new FieldcamError('H265_SPS_INVALID', `${name} is ${nal.length} bytes, more than 65535`);
    size += 5 + nal.length;
  }
  const out = new Uint8Array(size);
  let p = 0;
  out[p++] = 1; // configurationVersion
  out.set(info.generalProfile, p); // profile_space..level_idc, as in the SPS's RBSP
  p += info.generalProfile.length;
  out[p++] = 0xf0; // reserved '1111' + min_spatial_segmentation_idc (12 bits) = 0: unknown
  out[p++] = 0x00;
  out[p++] = 0xfc; // reserved '111111' + parallelismType 0: unknown
  out[p++] = 0xfc | info.chromaFormatIdc;
  out[p++] = 0xf8 | (info.bitDepthLuma - 8);
  out[p++] = 0xf8 | (info.bitDepthChroma - 8);
  out[p++] = 0; // avgFrameRate 0: unspecified
  out[p++] = 0;
  // constantFrameRate 0 (unknown), numTemporalLayers, temporalIdNested, lengthSizeMinusOne = 3.
  out[p++] = (info.maxSubLayers << 3) | (info.temporalIdNesting ? 4 : 0) | 3;
  out[p++] = sets.length; // numOfArrays
  for (const [type, nal] of sets) {
    out[p++] = 0x80 | type; // array_completeness 1: every set of this type is in the record
    out[p++] = 0;
    out[p++] = 1; // numNalus
    out[p++] = nal.length >> 8;
    out[p++] = nal.length & 0xff;
    out.set(nal, p);
    p += nal.length;
  }
  return out;
}
