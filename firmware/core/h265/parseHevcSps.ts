import { FieldcamError, isFieldcamError } from '../errors.ts';
import { BitReader } from '../h264/BitReader.ts';

/** What fieldcam needs from an H.265 sequence parameter set (7.3.2.2.1, VUI E.2.1). */
export interface HevcSpsInfo {
  readonly spsId: number;
  readonly maxSubLayers: number;
  readonly temporalIdNesting: boolean;
  /**
   * general_profile_tier_level (7.3.3) as it appears in the RBSP: byte 0 profile_space/tier/profile_idc,
   * bytes 1-4 compatibility flags, 5-10 constraint flags, 11 level_idc. The hvcC record copies them.
   */
  readonly generalProfile: Uint8Array;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (Table 6-1). */
  readonly chromaFormatIdc: number;
  readonly bitDepthLuma: number;
  readonly bitDepthChroma: number;
  /** Luma samples before / after the conformance window (the cropped size is what PixelWidth/Height carry). */
  readonly codedWidth: number;
  readonly codedHeight: number;
  readonly width: number;
  readonly height: number;
  /** log2_max_pic_order_cnt_lsb_minus4 + 4 (slice headers carry that many POC bits). */
  readonly log2MaxPicOrderCntLsb: number;
  /** sps_max_num_reorder_pics of the highest sub-layer: pictures a decoder holds back (> 0 with B-frames). */
  readonly maxNumReorderPics: number;
  /** Frame rate from VUI timing: time_scale / num_units_in_tick (E.3.1, one picture per tick), reduced. */
  readonly fps: { readonly num: number; readonly den: number } | undefined;
}

const NAL_SPS = 33;
/** Bits of general_profile_tier_level before level_idc's byte (7.3.3): 2+1+5+32+48. */
const GENERAL_PROFILE_BYTES = 12;

/**
 * Parses an H.265 SPS NAL unit (2-byte header first, emulation prevention in place) at `bytes[offset]`. Bounded
 * (every count is range-checked before it drives a loop); throws H265_SPS_INVALID for a malformed or cut SPS and
 * H265_SPS_UNSUPPORTED for what fieldcam does not stream (field pictures, layers > 0). Called once per SPS change.
 */
export function parseHevcSps(bytes: Uint8Array, offset: number, length: number): HevcSpsInfo {
  const r = new BitReader().reset(bytes, offset, length, 'SPS', 'H265_SPS_INVALID');
  try {
    return read(r);
  } catch (err) {
    if (isFieldcamError(err, 'H264_TRUNCATED_NAL')) throw new FieldcamError('H265_SPS_INVALID', err.message);
    throw err;
  }
}

function invalid(what: string): FieldcamError {
  return new FieldcamError('H265_SPS_INVALID', `SPS: ${what}`);
}

function ueMax(r: BitReader, max: number, name: string): number {
  const v = r.ue();
  if (v > max) throw invalid(`${name} ${v} out of range (0..${max})`);
  return v;
}

function read(r: BitReader): HevcSpsInfo {
  if (r.bit() !== 0) throw invalid('forbidden_zero_bit set');
  const type = r.u(6);
  if (type !== NAL_SPS) throw invalid(`NAL type ${type}, not 33`);
  const layer = r.u(6);
  if (layer !== 0) throw new FieldcamError('H265_SPS_UNSUPPORTED', `SPS for layer ${layer} (multi-layer streams are not supported)`);
  r.skip(3); // nuh_temporal_id_plus1
  r.skip(4); // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.u(3);
  if (maxSubLayersMinus1 > 6) throw invalid(`sps_max_sub_layers_minus1 ${maxSubLayersMinus1} (at most 6)`);
  const temporalIdNesting = r.flag();
  const generalProfile = new Uint8Array(GENERAL_PROFILE_BYTES);
  for (let i = 0; i < GENERAL_PROFILE_BYTES; i++) generalProfile[i] = r.u(8);
  skipSubLayerProfiles(r, maxSubLayersMinus1);
  const spsId = ueMax(r, 15, 'sps_seq_parameter_set_id');
  const chromaFormatIdc = ueMax(r, 3, 'chroma_format_idc');
  if (chromaFormatIdc === 3 && r.flag()) {
    throw new FieldcamError('H265_SPS_UNSUPPORTED', 'SPS: separate colour planes (4:4:4 coded as three monochrome pictures)');
  }
  const codedWidth = r.ue();
  const codedHeight = r.ue();
  if (codedWidth < 1 || codedHeight < 1 || codedWidth > 16888 || codedHeight > 16888) {
    throw invalid(`picture size ${codedWidth}x${codedHeight}`);
  }
  // Conformance window offsets count chroma samples (7-10/7-11): SubWidthC/SubHeightC luma samples each.
  const subW = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
  const subH = chromaFormatIdc === 1 ? 2 : 1;
  let width = codedWidth;
  let height = codedHeight;
  if (r.flag()) {
    const left = r.ue();
    const right = r.ue();
    const top = r.ue();
    const bottom = r.ue();
    width = codedWidth - subW * (left + right);
    height = codedHeight - subH * (top + bottom);
    if (width < 1 || height < 1) throw invalid(`conformance window leaves ${width}x${height} of ${codedWidth}x${codedHeight}`);
  }
  const bitDepthLuma = ueMax(r, 8, 'bit_depth_luma_minus8') + 8;
  const bitDepthChroma = ueMax(r, 8, 'bit_depth_chroma_minus8') + 8;
  const log2MaxPicOrderCntLsb = ueMax(r, 12, 'log2_max_pic_order_cnt_lsb_minus4') + 4;
  const orderingForAll = r.flag();
  let maxNumReorderPics = 0;
  for (let i = orderingForAll ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
    const maxDecBuffering = ueMax(r, 15, 'sps_max_dec_pic_buffering_minus1') + 1;
    maxNumReorderPics = r.ue(); // the last one read is the highest sub-layer's
    if (maxNumReorderPics >= maxDecBuffering) throw invalid(`sps_max_num_reorder_pics ${maxNumReorderPics} ≥ its DPB size ${maxDecBuffering}`);
    r.ue(); // sps_max_latency_increase_plus1
  }
  r.ue(); // log2_min_luma_coding_block_size_minus3
  r.ue(); // log2_diff_max_min_luma_coding_block_size
  r.ue(); // log2_min_luma_transform_block_size_minus2
  r.ue(); // log2_diff_max_min_luma_transform_block_size
  r.ue(); // max_transform_hierarchy_depth_inter
  r.ue(); // max_transform_hierarchy_depth_intra
  if (r.flag() && r.flag()) skipScalingListData(r); // scaling_list_enabled_flag, sps_scaling_list_data_present_flag
  r.skip(2); // amp_enabled_flag, sample_adaptive_offset_enabled_flag
  if (r.flag()) {
    // pcm_enabled_flag
    r.skip(8); // pcm_sample_bit_depth_luma_minus1, pcm_sample_bit_depth_chroma_minus1
    r.ue(); // log2_min_pcm_luma_coding_block_size_minus3
    r.ue(); // log2_diff_max_min_pcm_luma_coding_block_size
    r.skip(1); // pcm_loop_filter_disabled_flag
  }
  skipShortTermRefPicSets(r, ueMax(r, 64, 'num_short_term_ref_pic_sets'));
  if (r.flag()) {
    // long_term_ref_pics_present_flag
    const n = ueMax(r, 32, 'num_long_term_ref_pics_sps');
    for (let i = 0; i < n; i++) r.skip(log2MaxPicOrderCntLsb + 1); // lt_ref_pic_poc_lsb_sps, used_by_curr_pic_lt_sps_flag
  }
  r.skip(2); // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
  const fps = r.flag() ? readVuiTiming(r) : undefined;
  return Object.freeze({
    spsId,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    generalProfile,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    codedWidth,
    codedHeight,
    width,
    height,
    log2MaxPicOrderCntLsb,
    maxNumReorderPics,
    fps,
  });
}

/** profile_tier_level's sub-layer part (7.3.3), which fieldcam does not use. */
function skipSubLayerProfiles(r: BitReader, maxSubLayersMinus1: number): void {
  let profilePresent = 0;
  let levelPresent = 0;
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (r.flag()) profilePresent |= 1 << i;
    if (r.flag()) levelPresent |= 1 << i;
  }
  if (maxSubLayersMinus1 > 0) r.skip(2 * (8 - maxSubLayersMinus1)); // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent & (1 << i)) r.skip(88);
    if (levelPresent & (1 << i)) r.skip(8);
  }
}

/** scaling_list_data() (7.3.4): skipped, but every code read so the fields after it line up. */
function skipScalingListData(r: BitReader): void {
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let matrixId = 0; matrixId < 6; matrixId += sizeId === 3 ? 3 : 1) {
      if (!r.flag()) {
        r.ue(); // scaling_list_pred_matrix_id_delta
        continue;
      }
      const coefNum = Math.min(64, 1 << (4 + (sizeId << 1)));
      if (sizeId > 1) r.se(); // scaling_list_dc_coef_minus8
      for (let i = 0; i < coefNum; i++) r.se(); // scaling_list_delta_coef
    }
  }
}

/** st_ref_pic_set(i) for i in 0..count-1 as the SPS carries them (7.3.7): only NumDeltaPocs is kept, to size the next. */
function skipShortTermRefPicSets(r: BitReader, count: number): void {
  const numDeltaPocs = new Uint8Array(count);
  for (let idx = 0; idx < count; idx++) {
    if (idx !== 0 && r.flag()) {
      // inter_ref_pic_set_prediction_flag (delta_idx_minus1 is slice-header only)
      r.skip(1); // delta_rps_sign
      r.ue(); // abs_delta_rps_minus1
      const ref = numDeltaPocs[idx - 1] as number;
      let n = 0;
      for (let j = 0; j <= ref; j++) {
        const used = r.flag(); // used_by_curr_pic_flag; use_delta_flag is inferred 1 when absent
        if (used || r.flag()) n++;
      }
      if (n > 32) throw invalid(`short-term RPS ${idx} has ${n} pictures`);
      numDeltaPocs[idx] = n;
      continue;
    }
    const negative = ueMax(r, 16, 'num_negative_pics');
    const positive = ueMax(r, 16, 'num_positive_pics');
    for (let i = 0; i < negative + positive; i++) {
      r.ue(); // delta_poc_s0/s1_minus1
      r.skip(1); // used_by_curr_pic_s0/s1_flag
    }
    numDeltaPocs[idx] = negative + positive;
  }
}

/** vui_parameters() up to the timing (E.2.1): the frame rate, and field coding refused. */
function readVuiTiming(r: BitReader): { num: number; den: number } | undefined {
  if (r.flag() && r.u(8) === 255) r.skip(32); // aspect_ratio_info_present_flag, aspect_ratio_idc, sar_width/height
  if (r.flag()) r.skip(1); // overscan_info_present_flag, overscan_appropriate_flag
  if (r.flag()) {
    // video_signal_type_present_flag
    r.skip(4); // video_format, video_full_range_flag
    if (r.flag()) r.skip(24); // colour_description_present_flag: primaries, transfer, matrix
  }
  if (r.flag()) {
    // chroma_loc_info_present_flag
    r.ue();
    r.ue();
  }
  r.skip(1); // neutral_chroma_indication_flag
  if (r.flag()) throw new FieldcamError('H265_SPS_UNSUPPORTED', 'SPS: field_seq_flag (each picture is one field: interlaced video)');
  r.skip(1); // frame_field_info_present_flag
  if (r.flag()) for (let i = 0; i < 4; i++) r.ue(); // default_display_window_flag and its offsets
  if (!r.flag()) return undefined; // vui_timing_info_present_flag
  const unitsInTick = r.u(32);
  const timeScale = r.u(32);
  if (unitsInTick === 0 || timeScale === 0) return undefined;
  const g = gcd(timeScale, unitsInTick);
  return Object.freeze({ num: timeScale / g, den: unitsInTick / g });
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
