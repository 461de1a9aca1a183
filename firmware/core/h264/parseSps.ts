import { FieldcamError, isFieldcamError } from '../errors.ts';
import { BitReader } from './BitReader.ts';

/** What fieldcam needs from a sequence parameter set (H.264 7.3.2.1.1, VUI E.1.1). */
export interface SpsInfo {
  readonly profileIdc: number;
  /** constraint_set0..5_flag and reserved_zero_2bits: the byte after profile_idc. */
  readonly constraintFlags: number;
  readonly levelIdc: number;
  readonly spsId: number;
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (Table 6-1). */
  readonly chromaFormatIdc: number;
  readonly bitDepthLuma: number;
  readonly bitDepthChroma: number;
  readonly log2MaxFrameNum: number;
  readonly picOrderCntType: number;
  /** log2_max_pic_order_cnt_lsb_minus4 + 4 for pic_order_cnt_type 0, else 0. */
  readonly log2MaxPicOrderCntLsb: number;
  readonly maxNumRefFrames: number;
  /** Macroblocks per picture (PicSizeInMbs for frames, 7-34): slices address MBs below it. */
  readonly picSizeInMbs: number;
  /** Decoded size before cropping (multiples of 16). */
  readonly codedWidth: number;
  readonly codedHeight: number;
  /** Cropping in luma samples (7-19..7-22). */
  readonly cropLeft: number;
  readonly cropRight: number;
  readonly cropTop: number;
  readonly cropBottom: number;
  /** Displayed size after cropping: what PixelWidth/PixelHeight carry. */
  readonly width: number;
  readonly height: number;
  /** Sample aspect ratio from VUI (Table E-1); undefined when not signalled. */
  readonly sar: { readonly width: number; readonly height: number } | undefined;
  /** Frame rate from VUI timing: time_scale / (2 * num_units_in_tick) (E.2.1), reduced. */
  readonly fps: { readonly num: number; readonly den: number } | undefined;
  readonly fixedFrameRate: boolean;
  /** VUI bitstream_restriction: frames a decoder may have to hold back for reordering (0 without B-frames). */
  readonly maxNumReorderFrames: number | undefined;
  readonly maxDecFrameBuffering: number | undefined;
  /** The VUI ended early; fields after the cut keep their defaults (some encoders emit such SPSs). */
  readonly vuiTruncated: boolean;
}

/**
 * Profiles whose SPS carries chroma_format_idc, bit depths and scaling lists (7.3.2.1.1), plus 144, the withdrawn
 * High 4:4:4 profile of the 2005 edition that used the same syntax.
 */
const HIGH_SYNTAX_PROFILES = Object.freeze([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135, 144] as const);
/** Table E-1, aspect_ratio_idc 1..16. */
const SAR_TABLE = Object.freeze([
  0, 0, 1, 1, 12, 11, 10, 11, 16, 11, 40, 33, 24, 11, 20, 11, 32, 11, 80, 33, 18, 11, 15, 11, 64, 33, 160, 99, 4, 3, 3, 2, 2, 1,
] as const);
const EXTENDED_SAR = 255;
/** Largest picture side fieldcam accepts; also keeps every product below 2^31. */
const MAX_SIDE = 16384;

function invalid(message: string): FieldcamError {
  return new FieldcamError('H264_SPS_INVALID', `SPS: ${message}`);
}

function check(value: number, max: number, name: string): number {
  if (value > max) throw invalid(`${name} is ${value}, at most ${max} is allowed`);
  return value;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** scaling_list() (7.3.2.1.1.1), read only to get past it; delta_scale is -128..127 (7.4.2.1.1.1). */
function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.se();
      if (delta < -128 || delta > 127) throw invalid(`delta_scale ${delta} is outside -128..127`);
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/** hrd_parameters() (E.1.2), skipped. */
function skipHrd(r: BitReader): void {
  const cpbCnt = check(r.ue(), 31, 'cpb_cnt_minus1') + 1;
  r.skip(8); // bit_rate_scale, cpb_size_scale
  for (let i = 0; i < cpbCnt; i++) {
    r.ue(); // bit_rate_value_minus1
    r.ue(); // cpb_size_value_minus1
    r.skip(1); // cbr_flag
  }
  r.skip(20); // four 5-bit delay/offset lengths
}

/**
 * Parses the SPS NAL unit at `bytes[offset]` (`length` bytes starting with the NAL header byte, no start code).
 * Throws H264_SPS_INVALID for impossible values, H264_SPS_UNSUPPORTED for interlaced coding or separate colour
 * planes, H264_TRUNCATED_NAL when the NAL ends before the syntax before the VUI does.
 */
export function parseSps(bytes: Uint8Array, offset: number, length: number): SpsInfo {
  const r = new BitReader().reset(bytes, offset, length, 'SPS', 'H264_SPS_INVALID');
  r.skip(1); // forbidden_zero_bit, checked by the NAL splitter
  r.skip(2); // nal_ref_idc
  const nalType = r.u(5);
  if (nalType !== 7) throw invalid(`NAL unit type is ${nalType}, not 7`);
  const profileIdc = r.u(8);
  const constraintFlags = r.u(8);
  const levelIdc = r.u(8);
  const spsId = check(r.ue(), 31, 'seq_parameter_set_id');

  let chromaFormatIdc = 1;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if ((HIGH_SYNTAX_PROFILES as readonly number[]).includes(profileIdc)) {
    chromaFormatIdc = check(r.ue(), 3, 'chroma_format_idc');
    if (chromaFormatIdc === 3 && r.flag()) {
      throw new FieldcamError('H264_SPS_UNSUPPORTED', 'SPS: separate_colour_plane_flag is set (4:4:4 coded as three planes)');
    }
    bitDepthLuma = check(r.ue(), 6, 'bit_depth_luma_minus8') + 8;
    bitDepthChroma = check(r.ue(), 6, 'bit_depth_chroma_minus8') + 8;
    r.skip(1); // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {
      // seq_scaling_matrix_present_flag: 6 4x4 lists, then 2 (or 6 for 4:4:4) 8x8 lists.
      const lists = chromaFormatIdc === 3 ? 12 : 8;
      for (let i = 0; i < lists; i++) if (r.flag()) skipScalingList(r, i < 6 ? 16 : 64);
    }
  }

  const log2MaxFrameNum = check(r.ue(), 12, 'log2_max_frame_num_minus4') + 4;
  const picOrderCntType = check(r.ue(), 2, 'pic_order_cnt_type');
  let log2MaxPicOrderCntLsb = 0;
  if (picOrderCntType === 0) {
    log2MaxPicOrderCntLsb = check(r.ue(), 12, 'log2_max_pic_order_cnt_lsb_minus4') + 4;
  } else if (picOrderCntType === 1) {
    r.skip(1); // delta_pic_order_always_zero_flag
    r.se(); // offset_for_non_ref_pic
    r.se(); // offset_for_top_to_bottom_field
    const cycle = check(r.ue(), 255, 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.se();
  }
  const maxNumRefFrames = check(r.ue(), 16, 'max_num_ref_frames');
  r.skip(1); // gaps_in_frame_num_value_allowed_flag
  const widthInMbs = check(r.ue(), MAX_SIDE / 16 - 1, 'pic_width_in_mbs_minus1') + 1;
  const heightInMapUnits = check(r.ue(), MAX_SIDE / 16 - 1, 'pic_height_in_map_units_minus1') + 1;
  if (!r.flag()) {
    throw new FieldcamError('H264_SPS_UNSUPPORTED', 'SPS: frame_mbs_only_flag is 0 (interlaced field or MBAFF coding)');
  }
  r.skip(1); // direct_8x8_inference_flag
  const codedWidth = widthInMbs * 16;
  const codedHeight = heightInMapUnits * 16; // FrameHeightInMbs = PicHeightInMapUnits when frame_mbs_only (7-18)

  let cropLeft = 0;
  let cropRight = 0;
  let cropTop = 0;
  let cropBottom = 0;
  if (r.flag()) {
    // CropUnitX/Y (7-19, 7-20): ChromaArrayType 0 crops in single samples, otherwise in chroma sample units.
    const cropUnitX = chromaFormatIdc === 1 || chromaFormatIdc === 2 ? 2 : 1;
    const cropUnitY = chromaFormatIdc === 1 ? 2 : 1;
    cropLeft = r.ue() * cropUnitX;
    cropRight = r.ue() * cropUnitX;
    cropTop = r.ue() * cropUnitY;
    cropBottom = r.ue() * cropUnitY;
    if (cropLeft + cropRight >= codedWidth || cropTop + cropBottom >= codedHeight) {
      throw invalid(`cropping ${cropLeft}+${cropRight} x ${cropTop}+${cropBottom} leaves nothing of ${codedWidth}x${codedHeight}`);
    }
  }
  const width = codedWidth - cropLeft - cropRight; // 7-21 .. 7-22
  const height = codedHeight - cropTop - cropBottom;

  const vui = {
    sar: undefined as SpsInfo['sar'],
    fps: undefined as SpsInfo['fps'],
    fixedFrameRate: false,
    maxNumReorderFrames: undefined as number | undefined,
    maxDecFrameBuffering: undefined as number | undefined,
    truncated: false,
  };
  if (r.flag()) {
    try {
      readVui(r, vui);
    } catch (err) {
      // Tolerate an SPS whose VUI stops early, as decoders do; keep what was read before the cut.
      if (!isFieldcamError(err, 'H264_TRUNCATED_NAL')) throw err;
      vui.truncated = true;
    }
  }

  return Object.freeze({
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    log2MaxFrameNum,
    picOrderCntType,
    log2MaxPicOrderCntLsb,
    maxNumRefFrames,
    picSizeInMbs: widthInMbs * heightInMapUnits,
    codedWidth,
    codedHeight,
    cropLeft,
    cropRight,
    cropTop,
    cropBottom,
    width,
    height,
    sar: vui.sar,
    fps: vui.fps,
    fixedFrameRate: vui.fixedFrameRate,
    maxNumReorderFrames: vui.maxNumReorderFrames,
    maxDecFrameBuffering: vui.maxDecFrameBuffering,
    vuiTruncated: vui.truncated,
  });
}

interface VuiFields {
  sar: SpsInfo['sar'];
  fps: SpsInfo['fps'];
  fixedFrameRate: boolean;
  maxNumReorderFrames: number | undefined;
  maxDecFrameBuffering: number | undefined;
  truncated: boolean;
}

/** vui_parameters() (E.1.1); fills `out` as it goes so a truncated VUI keeps its leading fields. */
function readVui(r: BitReader, out: VuiFields): void {
  if (r.flag()) {
    const idc = r.u(8); // aspect_ratio_idc
    if (idc === EXTENDED_SAR) {
      const w = r.u(16);
      const h = r.u(16);
      if (w > 0 && h > 0) out.sar = Object.freeze({ width: w, height: h });
    } else if (idc >= 1 && idc <= 16) {
      out.sar = Object.freeze({ width: SAR_TABLE[idc * 2] as number, height: SAR_TABLE[idc * 2 + 1] as number });
    }
  }
  if (r.flag()) r.skip(1); // overscan_info_present_flag, overscan_appropriate_flag
  if (r.flag()) {
    r.skip(4); // video_format, video_full_range_flag
    if (r.flag()) r.skip(24); // colour_primaries, transfer_characteristics, matrix_coefficients
  }
  if (r.flag()) {
    r.ue(); // chroma_sample_loc_type_top_field
    r.ue(); // chroma_sample_loc_type_bottom_field
  }
  if (r.flag()) {
    const numUnitsInTick = r.u(32);
    const timeScale = r.u(32);
    out.fixedFrameRate = r.flag();
    // Both "shall be greater than 0" (E.2.1); a frame lasts two ticks for progressive frames (DeltaTfiDivisor 2).
    if (numUnitsInTick > 0 && timeScale > 0) {
      const den = 2 * numUnitsInTick;
      const g = gcd(timeScale, den);
      out.fps = Object.freeze({ num: timeScale / g, den: den / g });
    }
  }
  const nalHrd = r.flag();
  if (nalHrd) skipHrd(r);
  const vclHrd = r.flag();
  if (vclHrd) skipHrd(r);
  if (nalHrd || vclHrd) r.skip(1); // low_delay_hrd_flag
  r.skip(1); // pic_struct_present_flag
  if (r.flag()) {
    r.skip(1); // motion_vectors_over_pic_boundaries_flag
    r.ue(); // max_bytes_per_pic_denom
    r.ue(); // max_bits_per_mb_denom
    r.ue(); // log2_max_mv_length_horizontal
    r.ue(); // log2_max_mv_length_vertical
    const reorder = r.ue();
    const buffering = r.ue();
    out.maxNumReorderFrames = check(reorder, 16, 'max_num_reorder_frames');
    out.maxDecFrameBuffering = check(buffering, 16, 'max_dec_frame_buffering');
  }
}
