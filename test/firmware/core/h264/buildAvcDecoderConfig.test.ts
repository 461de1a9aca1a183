// Expected records are FFmpeg's own avcC for the same streams: `ffmpeg -i x.h264 -c copy x.mkv` (or .mp4) and
// `ffprobe -show_streams -show_data` (extradata), so the byte layout is checked against an independent writer.
import { buildAvcDecoderConfig } from '../../../../firmware/core/h264/buildAvcDecoderConfig.ts';
import { assert, fixture, suite } from '../../../harness/index.ts';
import { findNals, hex, toHex } from './h264TestKit.ts';

const test = suite('h264/buildAvcDecoderConfig');

function parameterSets(name: string): { sps: Uint8Array; pps: Uint8Array } {
  const data = fixture(name);
  const nals = findNals(data);
  const sps = nals.find((n) => n.type === 7)!;
  const pps = nals.find((n) => n.type === 8)!;
  return { sps: data.subarray(sps.header, sps.end), pps: data.subarray(pps.header, pps.end) };
}

test('baseline: 01 | profile | compat | level | FF | E1 | len SPS | 01 | len PPS (11 bytes of overhead)', () => {
  const { sps, pps } = parameterSets('h264-320x240-10fps-gop10.h264');
  const record = buildAvcDecoderConfig(sps, pps);
  assert.is(toHex(record), '0142c00bffe100186742c00bd90141fb011000000300100000030140f142a48001000568cb83cb20');
  assert.is(record.length, 11 + sps.length + pps.length);
  assert.equal(Array.from(record.subarray(0, 6)), [1, sps[1], sps[2], sps[3], 0xff, 0xe1]);
  assert.is((record[6]! << 8) | record[7]!, sps.length);
  assert.equal(record.subarray(8, 8 + sps.length), sps);
  assert.is(record[8 + sps.length], 1);
  assert.is((record[9 + sps.length]! << 8) | record[10 + sps.length]!, pps.length);
  assert.equal(record.subarray(11 + sps.length), pps);
});

test('High profile appends chroma_format, bit depths and numOfSequenceParameterSetExt = 0', () => {
  const { sps, pps } = parameterSets('h264-1080p-30fps.h264');
  const record = buildAvcDecoderConfig(sps, pps);
  assert.is(toHex(record), '01640028ffe1001b67640028acb200f0044fcb8088000003000800000301e078c1924001000668ebc0c4b22cfdf8f800');
  assert.equal(Array.from(record.subarray(record.length - 4)), [0xfc | 1, 0xf8, 0xf8, 0]);
});

test('High 10 and High 4:2:2 carry their chroma format and bit depths; main profile does not', () => {
  const ten = buildAvcDecoderConfig(hex('676e000ba6cd942c4ec044000003000400000300c83c50a658'), hex('68ebe3cb22c0'));
  assert.is(toHex(ten), '016e000bffe10019676e000ba6cd942c4ec044000003000400000300c83c50a65801000668ebe3cb22c0fdfafa00');
  const s422 = buildAvcDecoderConfig(hex('677a000bbcd942c4fa93011000000300100000030320f1429960'), hex('68ebe3cb3002c0'));
  assert.is(toHex(s422), '017a000bffe1001a677a000bbcd942c4fa93011000000300100000030320f142996001000768ebe3cb3002c0fef8f800');
  const { sps, pps } = parameterSets('h264-bframes.h264');
  assert.is(buildAvcDecoderConfig(sps, pps).length, 11 + sps.length + pps.length);
});

test('rejects NAL units that are not an SPS and a PPS', () => {
  const { sps, pps } = parameterSets('h264-320x240-10fps-gop10.h264');
  assert.throws(() => buildAvcDecoderConfig(pps, pps), 'H264_SPS_INVALID');
  assert.throws(() => buildAvcDecoderConfig(sps, sps), 'H264_PPS_INVALID');
  assert.throws(() => buildAvcDecoderConfig(sps.subarray(0, 3), pps), 'H264_SPS_INVALID');
  assert.throws(() => buildAvcDecoderConfig(sps, new Uint8Array(0)), 'H264_PPS_INVALID');
});

test.run();
