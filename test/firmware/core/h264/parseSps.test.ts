// Expected values come from the encoder output itself, read by FFmpeg 5.1:
//   ffprobe -show_streams <file>                      (profile, level, width/height, coded size, r_frame_rate)
//   ffmpeg -v trace -i <file> -c copy -bsf:v trace_headers -f null -   (every SPS syntax element)
// The hex SPSs below were produced by Debian's x264 through ffmpeg (commands next to each) and read the same way.
import { parseSps, type SpsInfo } from '../../../../firmware/core/h264/parseSps.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';
import { BitWriter, findNals, hex } from './h264TestKit.ts';

const test = suite('h264/parseSps');

function spsOf(name: string): Uint8Array {
  const data = fixture(name);
  const nal = findNals(data).find((n) => n.type === 7);
  if (!nal) throw new Error(`${name} has no SPS`);
  return data.subarray(nal.header, nal.end);
}

function parse(bytes: Uint8Array): SpsInfo {
  return parseSps(bytes, 0, bytes.length);
}

function pick(info: SpsInfo, keys: (keyof SpsInfo)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = info[k];
  return out;
}

const KEYS: (keyof SpsInfo)[] = [
  'profileIdc',
  'constraintFlags',
  'levelIdc',
  'chromaFormatIdc',
  'bitDepthLuma',
  'bitDepthChroma',
  'log2MaxFrameNum',
  'picOrderCntType',
  'log2MaxPicOrderCntLsb',
  'maxNumRefFrames',
  'codedWidth',
  'codedHeight',
  'width',
  'height',
  'fps',
  'fixedFrameRate',
  'maxNumReorderFrames',
  'maxDecFrameBuffering',
  'vuiTruncated',
];

test('320x240 baseline fixture: Constrained Baseline level 1.1, 10 fps from VUI timing', () => {
  // ffprobe: profile=Constrained Baseline level=11 320x240 r_frame_rate=10/1; trace: constraint_set0/1=1,
  // pic_order_cnt_type=2 max_num_ref_frames=3 time_scale=20 num_units_in_tick=1 fixed_frame_rate_flag=0.
  const expected = {
    profileIdc: 66,
    constraintFlags: 0xc0,
    levelIdc: 11,
    chromaFormatIdc: 1,
    bitDepthLuma: 8,
    bitDepthChroma: 8,
    log2MaxFrameNum: 4,
    picOrderCntType: 2,
    log2MaxPicOrderCntLsb: 0,
    maxNumRefFrames: 3,
    codedWidth: 320,
    codedHeight: 240,
    width: 320,
    height: 240,
    fps: { num: 10, den: 1 },
    fixedFrameRate: false,
    maxNumReorderFrames: 0,
    maxDecFrameBuffering: 3,
    vuiTruncated: false,
  };
  assert.equal(pick(parse(spsOf('h264-320x240-10fps-gop10.h264')), KEYS), expected);
  assert.equal(pick(parse(spsOf('h264-aud-sei-3byte.h264')), KEYS), expected);
  const info = parse(spsOf('h264-320x240-10fps-gop10.h264'));
  assert.is(info.picSizeInMbs, 300);
  assert.equal(info.sar, { width: 1, height: 1 });
});

test('1080p High fixture: coded 1920x1088, cropped to 1920x1080, 30 fps', () => {
  // ffprobe: profile=High level=40 width=1920 height=1080 coded_height=1088 r_frame_rate=30/1;
  // trace: frame_crop_bottom_offset=4 (x CropUnitY 2 = 8 rows), time_scale=60 num_units_in_tick=1.
  const info = parse(spsOf('h264-1080p-30fps.h264'));
  assert.equal(pick(info, KEYS), {
    profileIdc: 100,
    constraintFlags: 0,
    levelIdc: 40,
    chromaFormatIdc: 1,
    bitDepthLuma: 8,
    bitDepthChroma: 8,
    log2MaxFrameNum: 4,
    picOrderCntType: 2,
    log2MaxPicOrderCntLsb: 0,
    maxNumRefFrames: 3,
    codedWidth: 1920,
    codedHeight: 1088,
    width: 1920,
    height: 1080,
    fps: { num: 30, den: 1 },
    fixedFrameRate: false,
    maxNumReorderFrames: 0,
    maxDecFrameBuffering: 3,
    vuiTruncated: false,
  });
  assert.equal([info.cropLeft, info.cropRight, info.cropTop, info.cropBottom], [0, 0, 0, 8]);
});

test('160x120 fixtures: coded 160x128; the B-frame one is Main with POC type 0 and 2 reorder frames', () => {
  // ffprobe: 160x120 coded 160x128, level 10; trace (bframes): profile_idc=77 constraint_set1=1
  // pic_order_cnt_type=0 log2_max_pic_order_cnt_lsb_minus4=2 max_num_ref_frames=4 max_num_reorder_frames=2.
  const long = parse(spsOf('h264-long-gop.h264'));
  assert.equal([long.profileIdc, long.levelIdc, long.codedWidth, long.codedHeight, long.width, long.height], [66, 10, 160, 128, 160, 120]);
  assert.equal(long.fps, { num: 10, den: 1 });
  const b = parse(spsOf('h264-bframes.h264'));
  assert.equal(
    pick(b, [
      'profileIdc',
      'constraintFlags',
      'picOrderCntType',
      'log2MaxPicOrderCntLsb',
      'maxNumRefFrames',
      'width',
      'height',
      'maxNumReorderFrames',
      'maxDecFrameBuffering',
    ]),
    {
      profileIdc: 77,
      constraintFlags: 0x40,
      picOrderCntType: 0,
      log2MaxPicOrderCntLsb: 6,
      maxNumRefFrames: 4,
      width: 160,
      height: 120,
      maxNumReorderFrames: 2,
      maxDecFrameBuffering: 4,
    },
  );
});

test('high-profile branch: 4:2:2, monochrome, 4:4:4, 10-bit and crop units per chroma format (7-19, 7-20)', () => {
  // ffmpeg -f lavfi -i testsrc=size=174x141 -pix_fmt yuv422p -profile:v high422 ...: crop right 1 x SubWidthC 2,
  // bottom 3 x SubHeightC 1 -> ffprobe 174x141, High 4:2:2, r_frame_rate 25/1.
  const s422 = parse(hex('677a000bbcd942c4fa93011000000300100000030320f1429960'));
  assert.equal(pick(s422, ['profileIdc', 'chromaFormatIdc', 'codedWidth', 'codedHeight', 'width', 'height', 'fps']), {
    profileIdc: 122,
    chromaFormatIdc: 2,
    codedWidth: 176,
    codedHeight: 144,
    width: 174,
    height: 141,
    fps: { num: 25, den: 1 },
  });
  // -pix_fmt gray, 175x143: chroma_format_idc 0 crops in single samples -> ffprobe 175x143.
  const gray = parse(hex('6764000bf3650b13eab016c80000030008000003019078a14cb0'));
  assert.equal([gray.chromaFormatIdc, gray.width, gray.height], [0, 175, 143]);
  // -pix_fmt yuv444p: profile 244 (High 4:4:4 Predictive), separate_colour_plane_flag 0.
  const s444 = parse(hex('67f4000b919b28589d80880000030008000003019078a14cb0'));
  assert.equal([s444.profileIdc, s444.chromaFormatIdc, s444.width, s444.height], [244, 3, 176, 144]);
  // -pix_fmt yuv420p10le: High 10, bit_depth_luma/chroma_minus8 = 2.
  const ten = parse(hex('676e000ba6cd942c4ec044000003000400000300c83c50a658'));
  assert.equal([ten.profileIdc, ten.bitDepthLuma, ten.bitDepthChroma, ten.width], [110, 10, 10, 176]);
});

test('HRD parameters are skipped correctly: 100x60 at 30000/1001 with NAL HRD', () => {
  // -x264-params nal-hrd=vbr:vbv-maxrate=500:vbv-bufsize=500, rate 30000/1001: trace shows nal_hrd_parameters_present_flag=1
  // with cpb_cnt_minus1=0, then bitstream_restriction max_num_reorder_frames=2 — reachable only if the HRD was skipped right.
  const info = parse(hex('6764000dacd947279ef01100000303e90000ea60602001e840007a12930c01e28532c0'));
  const keys: (keyof SpsInfo)[] = [
    'levelIdc',
    'codedWidth',
    'codedHeight',
    'width',
    'height',
    'fps',
    'maxNumReorderFrames',
    'maxDecFrameBuffering',
    'vuiTruncated',
  ];
  assert.equal(pick(info, keys), {
    levelIdc: 13,
    codedWidth: 112,
    codedHeight: 64,
    width: 100,
    height: 60,
    fps: { num: 30000, den: 1001 },
    maxNumReorderFrames: 2,
    maxDecFrameBuffering: 4,
    vuiTruncated: false,
  });
});

test('scaling lists, POC type 1, extended SAR and two-entry HRD (synthetic SPS read back by FFmpeg)', () => {
  // Written with BitWriter (see synthesize below) and checked with trace_headers: seq_scaling_list_present_flag[0,1,6]=1
  // (list 0 stops early: delta_scale -8 -> nextScale 0), pic_order_cnt_type=1 with a 3-entry cycle, 1280x720 cropped
  // 2/3/1/4 -> ffprobe 1270x710, sample_aspect_ratio=4:3, r_frame_rate=30000/1001, cpb_cnt_minus1=1.
  const ffmpegChecked =
    '6764001fad8465314c5314c5314c5314c101fc0101492492492492492492492492492492492492492492492' +
    '48d0e2888a3980a00b7b222ffe00080007ea020203e000007d20001d4c1a23007d2007d1000bb9001f43bdef81b41108dc0';
  const bytes = synthesize();
  assert.equal(bytes, hex(ffmpegChecked));
  const info = parse(bytes);
  assert.equal(
    pick(info, [
      'profileIdc',
      'levelIdc',
      'log2MaxFrameNum',
      'picOrderCntType',
      'maxNumRefFrames',
      'width',
      'height',
      'sar',
      'fps',
      'fixedFrameRate',
      'maxNumReorderFrames',
      'maxDecFrameBuffering',
      'vuiTruncated',
    ]),
    {
      profileIdc: 100,
      levelIdc: 31,
      log2MaxFrameNum: 6,
      picOrderCntType: 1,
      maxNumRefFrames: 2,
      width: 1270,
      height: 710,
      sar: { width: 4, height: 3 },
      fps: { num: 30000, den: 1001 },
      fixedFrameRate: true,
      maxNumReorderFrames: 0,
      maxDecFrameBuffering: 2,
      vuiTruncated: false,
    },
  );
  assert.equal([info.cropLeft, info.cropRight, info.cropTop, info.cropBottom], [4, 6, 2, 8]);
});

test('parses in place at an offset inside a larger buffer', () => {
  const sps = spsOf('h264-320x240-10fps-gop10.h264');
  const padded = new Uint8Array(sps.length + 10).fill(0xee);
  padded.set(sps, 5);
  assert.is(parseSps(padded, 5, sps.length).width, 320);
});

test('a cut SPS: H264_TRUNCATED_NAL before the VUI, tolerated (vuiTruncated) inside it', () => {
  const sps = spsOf('h264-320x240-10fps-gop10.h264');
  // The vui_parameters_present_flag is bit 62 (trace_headers offsets), so any cut to 7 bytes or fewer must throw.
  for (let cut = 1; cut < sps.length; cut++) {
    let info: SpsInfo | undefined;
    try {
      info = parseSps(sps, 0, cut);
    } catch (err) {
      assert.is((err as { code?: string }).code, 'H264_TRUNCATED_NAL', `cut ${cut}`);
      continue;
    }
    assert.ok(cut >= 8, `cut ${cut} must not parse`);
    // The last byte (0x80) is only rbsp_trailing_bits: without it every field is still there.
    assert.is(info.vuiTruncated, cut < sps.length - 1, `cut ${cut}`);
    assert.equal([info.width, info.height], [320, 240]);
  }
});

test('interlaced coding and separate colour planes are H264_SPS_UNSUPPORTED', () => {
  // x264 -x264-params interlaced=1 (ffprobe field_order=tt): frame_mbs_only_flag=0.
  assert.throws(() => parse(hex('67640015acd942cafcb8088000000300800000190f8a14cb')), 'H264_SPS_UNSUPPORTED');
  const w = new BitWriter().u(8, 0x67).u(8, 244).u(8, 0).u(8, 30).ue(0).ue(3).u(1, 1).ue(0).ue(0).u(2, 0);
  assert.throws(() => parse(w.nal()), 'H264_SPS_UNSUPPORTED');
});

test('impossible values are H264_SPS_INVALID', () => {
  const base = (width: number, crop?: number[]) => {
    const w = new BitWriter().u(8, 0x67).u(8, 66).u(8, 0xc0).u(8, 30).ue(0).ue(0).ue(2).ue(1).u(1, 0).ue(width).ue(10).u(1, 1).u(1, 1);
    if (crop) {
      w.u(1, 1);
      for (const c of crop) w.ue(c);
    } else {
      w.u(1, 0);
    }
    return w.u(1, 0).nal();
  };
  assert.is(parse(base(1023)).width, 16384);
  assert.throws(() => parse(base(1024)), 'H264_SPS_INVALID'); // wider than 16384
  assert.throws(() => parse(base(19, [0, 160, 0, 0])), 'H264_SPS_INVALID'); // cropped to nothing
  assert.throws(() => parse(hex('68ce3c80')), 'H264_SPS_INVALID'); // a PPS
  assert.throws(() => parse(hex('6742c00b 00000000 0080')), 'H264_SPS_INVALID'); // seq_parameter_set_id: 33 leading zeros
  const w = new BitWriter().u(8, 0x67).u(8, 66).u(8, 0).u(8, 30).ue(32); // seq_parameter_set_id > 31
  assert.throws(() => parse(w.nal()), /seq_parameter_set_id is 32/);
  const p = new BitWriter().u(8, 0x67).u(8, 66).u(8, 0).u(8, 30).ue(0).ue(0).ue(3); // pic_order_cnt_type 3
  assert.throws(() => parse(p.nal()), 'H264_SPS_INVALID');
});

/** The synthetic SPS of the scaling-list test. */
function synthesize(): Uint8Array {
  const w = new BitWriter();
  w.u(8, 0x67).u(8, 100).u(8, 0).u(8, 31).ue(0); // header, profile_idc, constraint flags, level_idc, seq_parameter_set_id
  w.ue(1).ue(0).ue(0).u(1, 0); // chroma_format_idc 4:2:0, bit depths 8, qpprime_y_zero_transform_bypass_flag
  w.u(1, 1); // seq_scaling_matrix_present_flag
  w.u(1, 1).se(-8); // list 0: nextScale becomes 0 at once (use the default matrix)
  w.u(1, 1);
  for (let j = 0; j < 16; j++) w.se(j % 2 ? 3 : -2); // list 1: 16 deltas
  w.u(1, 0).u(1, 0).u(1, 0).u(1, 0); // lists 2..5
  w.u(1, 1);
  for (let j = 0; j < 64; j++) w.se(j === 0 ? 127 : j === 1 ? -128 : 1); // list 6 (8x8), delta_scale extremes
  w.u(1, 0); // list 7
  w.ue(2); // log2_max_frame_num_minus4
  w.ue(1).u(1, 0).se(-3).se(5).ue(3).se(1).se(-2).se(7); // pic_order_cnt_type 1 and its cycle
  w.ue(2).u(1, 0); // max_num_ref_frames, gaps_in_frame_num_value_allowed_flag
  w.ue(79).ue(44).u(1, 1).u(1, 1); // 80x45 MBs, frame_mbs_only_flag, direct_8x8_inference_flag
  w.u(1, 1).ue(2).ue(3).ue(1).ue(4); // frame cropping
  w.u(1, 1); // vui_parameters_present_flag
  w.u(1, 1).u(8, 255).u(16, 4).u(16, 3); // Extended_SAR 4:3
  w.u(1, 1).u(1, 1); // overscan
  w.u(1, 1).u(3, 5).u(1, 0).u(1, 1).u(8, 1).u(8, 1).u(8, 1); // video signal type + colour description
  w.u(1, 1).ue(0).ue(0); // chroma sample location
  w.u(1, 1).u(32, 1001).u(32, 60000).u(1, 1); // timing, fixed_frame_rate_flag
  w.u(1, 1).ue(1).u(4, 2).u(4, 3).ue(1000).ue(2000).u(1, 0).ue(3000).ue(4000).u(1, 1).u(5, 23).u(5, 23).u(5, 23).u(5, 24); // NAL HRD
  w.u(1, 0).u(1, 0).u(1, 0); // vcl_hrd, low_delay_hrd_flag, pic_struct_present_flag
  w.u(1, 1).u(1, 1).ue(2).ue(1).ue(16).ue(16).ue(0).ue(2); // bitstream_restriction
  return w.nal();
}

test.run();
