// `fieldcam mux` end to end: the real CLI on committed ffmpeg fixtures, judged by mkvmerge, ffprobe and
// ffmpeg; and every kind of bad input, which must give a named error and leave no output behind.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, suite } from '../harness/index.ts';
import {
  clusterBlocks,
  clusterCount,
  decodedFrameCount,
  decodeErrors,
  fieldcam,
  FIXTURES,
  frameHashes,
  framePts,
  mkvmerge,
  tempDir,
  tool,
  audioPacketCount,
} from './tools.ts';

const test = suite('fieldcam mux (e2e)');
const tmp = tempDir('fieldcam-mux-');

interface Case {
  readonly fixture: string;
  readonly args: readonly string[];
  readonly frames: number;
  readonly fps: number;
  readonly fragments: number;
  readonly size: string;
  readonly codecId: string;
}

const CASES: readonly Case[] = [
  { fixture: 'h264-320x240-10fps-gop10.h264', args: [], frames: 100, fps: 10, fragments: 10, size: '320x240', codecId: 'V_MPEG4/ISO/AVC' },
  { fixture: 'h264-aud-sei-3byte.h264', args: [], frames: 30, fps: 10, fragments: 3, size: '320x240', codecId: 'V_MPEG4/ISO/AVC' },
  { fixture: 'h264-1080p-30fps.h264', args: [], frames: 30, fps: 30, fragments: 1, size: '1920x1080', codecId: 'V_MPEG4/ISO/AVC' },
  { fixture: 'mjpeg-320x240-10fps.mjpeg', args: ['--fps', '10'], frames: 30, fps: 10, fragments: 3, size: '320x240', codecId: 'V_MJPEG' },
  { fixture: 'h265-320x240-10fps-gop10.h265', args: [], frames: 100, fps: 10, fragments: 10, size: '320x240', codecId: 'V_MPEGH/ISO/HEVC' },
];

for (const c of CASES) {
  test(`${c.fixture}: mkvmerge clean, ${c.frames} frames decoded, cadence ${c.fps} fps, ${c.fragments} fragments`, () => {
    const out = join(tmp.dir, `${c.fixture}.mkv`);
    const run = fieldcam(['mux', join(FIXTURES, c.fixture), '-o', out, '--json', ...c.args]);
    assert.is(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { frames: number; fragments: number };
    assert.is(summary.frames, c.frames);
    assert.is(summary.fragments, c.fragments);

    const report = mkvmerge(out);
    assert.equal(report.errors, [], 'mkvmerge errors');
    assert.equal(report.warnings, [], 'mkvmerge warnings');
    assert.ok(report.container.recognized && report.container.supported, 'mkvmerge recognises the file');
    assert.is(report.tracks.length, 1);
    assert.is(report.tracks[0]!.properties.codec_id, c.codecId);
    assert.is(report.tracks[0]!.properties.pixel_dimensions, c.size);

    assert.is(decodedFrameCount(out), c.frames, 'frames decoded by ffprobe');
    assert.is(decodeErrors(out), '', 'ffmpeg decodes without a message');
    assert.is(clusterCount(out), c.fragments, 'one Cluster per fragment');

    const pts = framePts(out);
    assert.is(pts.length, c.frames);
    for (let i = 0; i < pts.length; i++) {
      // Timecodes are whole milliseconds (TimecodeScale 1 ms), rounded from i/fps.
      assert.ok(Math.abs(pts[i]! - i / c.fps) <= 0.0006, `frame ${i} at ${pts[i]} s, expected ${(i / c.fps).toFixed(4)} s`);
    }
  });
}

test("H.265: sniffed without --codec; the hvcC CodecPrivate is VPS+SPS+PPS; the decoded pictures are exactly the input's", () => {
  const input = join(FIXTURES, 'h265-320x240-10fps-gop10.h265');
  const out = join(tmp.dir, 'golden-h265.mkv');
  const run = fieldcam(['mux', input, '-o', out, '--json']);
  assert.is(run.status, 0, run.stderr);
  assert.is((JSON.parse(run.stdout) as { codec: string }).codec, 'h265');
  const track = mkvmerge(out).tracks[0]!;
  const cpd = Buffer.from(String(track.properties.codec_private_data), 'hex');
  assert.is(cpd[0], 1, 'hvcC configurationVersion');
  assert.is(cpd[22], 3, 'VPS, SPS and PPS arrays');
  assert.equal([cpd[23]! & 0x3f], [32]);
  assert.is(track.properties.codec_private_length, cpd.length);
  assert.equal(frameHashes(out), frameHashes(input), 'ffmpeg decodes the same 100 pictures from the MKV as from the raw stream');
});

test('configuration-time check: MJPEG and H.265 warn with the reason (KVS stores them, HLS/browsers may not play them); H.264 does not', () => {
  const mjpeg = fieldcam(['mux', join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg'), '--fps', '10', '-o', join(tmp.dir, 'warn.mkv')]);
  assert.is(mjpeg.status, 0, mjpeg.stderr);
  assert.ok(/mux: warning: MJPEG: KVS stores MJPEG .*HLS/.test(mjpeg.stderr), mjpeg.stderr);
  const h265 = fieldcam(['mux', join(FIXTURES, 'h265-320x240-10fps-gop10.h265'), '-o', join(tmp.dir, 'warn.mkv')]);
  assert.ok(/mux: warning: H\.265: .*browsers/.test(h265.stderr), h265.stderr);
  const h264 = fieldcam(['mux', join(FIXTURES, 'h264-aud-sei-3byte.h264'), '-o', join(tmp.dir, 'warn.mkv')]);
  assert.is(h264.stderr, '');
});

for (const [audio, codecId, rate, packets, cpd] of [
  ['aac-16khz-mono-10s.aac', 'A_AAC', 16000, 157, '1408'], // AudioSpecificConfig: AAC-LC (2), index 8 (16 kHz), mono
  ['alaw-8khz-mono-10s.alaw', 'A_MS/ACM', 8000, 500, '06000100401f0000401f0000010008000000'], // WAVEFORMATEX: tag 6, 1 ch, 8000 Hz
] as const) {
  test(`--audio ${audio}: a second ${codecId} track, audio in every fragment, interleaved by timecode; ffmpeg decodes both`, () => {
    const out = join(tmp.dir, `${audio}.mkv`);
    const run = fieldcam(['mux', join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), '--audio', join(FIXTURES, audio), '-o', out, '--json']);
    assert.is(run.status, 0, run.stderr);
    assert.is((JSON.parse(run.stdout) as { audioPackets: number }).audioPackets, packets);
    const report = mkvmerge(out);
    assert.equal([report.errors, report.warnings], [[], []]);
    assert.is(report.tracks.length, 2);
    const a = report.tracks[1]!;
    assert.equal([a.type, a.properties.codec_id, a.properties.audio_sampling_frequency, a.properties.audio_channels], ['audio', codecId, rate, 1]);
    assert.is(a.properties.codec_private_data, cpd);
    assert.is(audioPacketCount(out), packets, 'ffprobe reads every audio packet');
    assert.is(decodeErrors(out), '', 'ffmpeg decodes video and audio without a message');
    assert.is(decodedFrameCount(out), 100);
    const clusters = clusterBlocks(out);
    assert.is(clusters.length, 10);
    for (const [i, blocks] of clusters.entries()) {
      assert.ok(blocks.some((b) => b.track === 1) && blocks.some((b) => b.track === 2), `fragment ${i} carries both tracks`);
      for (let k = 1; k < blocks.length; k++) assert.ok(blocks[k]!.t >= blocks[k - 1]!.t, `fragment ${i}: block ${k} is not before block ${k - 1}`);
    }
  });
}

test('G.711 audio decodes to exactly the input samples', () => {
  const out = join(tmp.dir, 'alaw-identity.mkv');
  assert.is(fieldcam(['mux', join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), '--audio', join(FIXTURES, 'alaw-8khz-mono-10s.alaw'), '-o', out]).status, 0);
  const md5 = (args: string[]) => tool('ffmpeg', ['-nostdin', '-v', 'error', ...args, '-map', '0:a:0', '-f', 'md5', '-']).stdout.trim();
  assert.is(md5(['-i', out]), md5(['-f', 'alaw', '-ar', '8000', '-ac', '1', '-i', join(FIXTURES, 'alaw-8khz-mono-10s.alaw')]));
});

test('KVS track rules, refused before a byte is written: 4 tracks (MKV_TOO_MANY_TRACKS), audio missing from a fragment (MKV_TRACK_MISSING_IN_FRAGMENT)', () => {
  const aac = join(FIXTURES, 'aac-16khz-mono-10s.aac');
  const out = join(tmp.dir, 'rules.mkv');
  const four = fieldcam(['mux', join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), '--audio', aac, '--audio', aac, '--audio', aac, '-o', out]);
  assert.is(four.status, 1);
  assert.ok(/error MKV_TOO_MANY_TRACKS: 1 video and 3 audio tracks make 4/.test(four.stderr), four.stderr);
  const short = join(tmp.dir, 'short.alaw');
  writeFileSync(short, readFileSync(join(FIXTURES, 'alaw-8khz-mono-10s.alaw')).subarray(0, 8000 * 3)); // 3 s of 10
  const missing = fieldcam(['mux', join(FIXTURES, 'h264-320x240-10fps-gop10.h264'), '--audio', short, '-o', out]);
  assert.is(missing.status, 1);
  assert.ok(/error MKV_TRACK_MISSING_IN_FRAGMENT: the fragment at 3000 ms .*no block of audio track 2/.test(missing.stderr), missing.stderr);
  assert.ok(!existsSync(out), 'nothing written');
});

test('stdin gives byte-identical output to the file path (pinned SegmentUID)', () => {
  const fixture = join(FIXTURES, 'h264-320x240-10fps-gop10.h264');
  const a = join(tmp.dir, 'file.mkv');
  const b = join(tmp.dir, 'stdin.mkv');
  const uid = ['--segment-uid', '00112233445566778899aabbccddeeff'];
  assert.is(fieldcam(['mux', fixture, '-o', a, ...uid]).status, 0);
  const run = fieldcam(['mux', '-', '-o', b, '--codec', 'h264', ...uid], readFileSync(fixture));
  assert.is(run.status, 0, run.stderr);
  assert.equal(readFileSync(b), readFileSync(a));
});

test('fragment metadata lands as tags; --end-of-fragment adds the KVS end-of-fragment tag', () => {
  const out = join(tmp.dir, 'tags.mkv');
  const run = fieldcam([
    'mux',
    join(FIXTURES, 'h264-aud-sei-3byte.h264'),
    '-o',
    out,
    '--fragment-metadata',
    'site=north-gate',
    '--fragment-metadata',
    'event=motion',
    '--end-of-fragment',
  ]);
  assert.is(run.status, 0, run.stderr);
  const report = mkvmerge(out);
  assert.equal(report.errors, []);
  assert.equal(report.warnings, []);
  const bytes = readFileSync(out).toString('latin1');
  assert.is(bytes.split('north-gate').length - 1, 3, 'the persistent tag is on each of the 3 fragments');
  assert.is(bytes.split('AWS_KINESISVIDEO_END_OF_FRAGMENT').length - 1, 3, 'each fragment is closed');
  assert.is(decodedFrameCount(out), 30);
  assert.is(decodeErrors(out), '');
});

// ── bad input: a named error, a non-zero exit, and nothing at the output path ──

function h264Nals(bytes: Uint8Array): { at: number; type: number }[] {
  const nals: { at: number; type: number }[] = [];
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0 && bytes[i + 1] === 0 && bytes[i + 2] === 1) nals.push({ at: i + 3, type: bytes[i + 3]! & 0x1f });
  }
  return nals;
}

const gop10 = new Uint8Array(readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264')));
const nals = h264Nals(gop10);
const firstSlice = nals.find((n) => n.type === 1)!;
const sps = nals.find((n) => n.type === 7)!;
const idr = nals.find((n) => n.type === 5)!;

function seeded(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) out[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

/** SPS+PPS(+SEI) of the fixture, then an IDR slice NAL of `size` bytes with no zero bytes in it. */
function hugeIdr(size: number): Uint8Array {
  const head = gop10.subarray(0, idr.at - 4);
  const body = new Uint8Array(size).fill(0x55);
  body.set(gop10.subarray(idr.at, idr.at + 16)); // the real IDR NAL header and slice header
  return new Uint8Array([...head, 0, 0, 0, 1, ...body]);
}

const BAD: readonly { name: string; bytes: () => Uint8Array; args?: string[]; code: string; exit?: number }[] = [
  { name: 'empty file', bytes: () => new Uint8Array(0), code: 'INPUT_EMPTY' },
  { name: 'garbage', bytes: () => seeded(65536, 7), args: ['--codec', 'h264'], code: 'H264_NOT_ANNEXB' },
  { name: 'truncated NAL (cut inside the SPS)', bytes: () => gop10.subarray(0, sps.at + 3), code: 'H264_TRUNCATED_NAL' },
  { name: 'slice before any SPS/PPS', bytes: () => gop10.subarray(firstSlice.at - 4), code: 'H264_NO_PARAMETER_SETS' },
  { name: 'NAL larger than a slot', bytes: () => hugeIdr(1_200_000), code: 'POOL_FRAME_TOO_LARGE' },
  { name: 'GOP longer than the fragment limit', bytes: () => readFileSync(join(FIXTURES, 'h264-long-gop.h264')), code: 'MKV_FRAGMENT_TOO_LONG' },
  { name: 'B-frames', bytes: () => readFileSync(join(FIXTURES, 'h264-bframes.h264')), code: 'H264_B_FRAMES_UNSUPPORTED' },
  { name: 'H.265 B-frames', bytes: () => readFileSync(join(FIXTURES, 'h265-bframes.h265')), code: 'H265_B_FRAMES_UNSUPPORTED' },
  { name: 'garbage as H.265', bytes: () => seeded(65536, 7), args: ['--codec', 'h265'], code: 'H265_NOT_ANNEXB' },
  { name: 'unknown --codec', bytes: () => gop10, args: ['--codec', 'vp9'], code: 'CLI_USAGE', exit: 2 },
  {
    name: '100 metadata tags',
    bytes: () => gop10,
    args: Array.from({ length: 100 }, (_, i) => ['--fragment-metadata', `k${i}=v`]).flat(),
    code: 'METADATA_TOO_MANY',
  },
  {
    name: 'MJPEG cut mid-image',
    bytes: () => readFileSync(join(FIXTURES, 'mjpeg-320x240-10fps.mjpeg')).subarray(0, 12345),
    args: ['--codec', 'mjpeg'],
    code: 'MJPEG_TRUNCATED',
  },
  { name: 'unknown flag', bytes: () => gop10, args: ['--frobnicate'], code: 'CLI_USAGE', exit: 2 },
  { name: 'bad --fps', bytes: () => gop10, args: ['--fps', 'fast'], code: 'CLI_USAGE', exit: 2 },
  { name: 'unknown board', bytes: () => gop10, args: ['--board', 'toaster'], code: 'CONFIG_BOARD_UNKNOWN' },
];

for (const bad of BAD) {
  test(`bad input: ${bad.name} → ${bad.code}, old output untouched`, () => {
    const input = join(tmp.dir, 'bad-input.bin');
    const out = join(tmp.dir, 'bad-output.mkv');
    writeFileSync(input, bad.bytes());
    writeFileSync(out, 'previous content');
    const run = fieldcam(['mux', input, '-o', out, ...(bad.args ?? [])]);
    assert.is(run.status, bad.exit ?? 1, `exit status (stderr: ${run.stderr})`);
    assert.ok(run.stderr.includes(`error ${bad.code}:`), `stderr names ${bad.code}: ${run.stderr}`);
    assert.ok(run.stderr.includes('→'), 'stderr says what to do');
    assert.ok(!run.stderr.includes('    at '), 'no stack trace');
    assert.is(readFileSync(out, 'utf8'), 'previous content', 'the old file is intact');
  });
}

test('a missing input is CLI_INPUT_NOT_FOUND and creates no output', () => {
  const out = join(tmp.dir, 'never.mkv');
  const run = fieldcam(['mux', join(tmp.dir, 'does-not-exist.h264'), '-o', out]);
  assert.is(run.status, 1);
  assert.ok(run.stderr.includes('error CLI_INPUT_NOT_FOUND:'), run.stderr);
  assert.ok(!existsSync(out));
});

test('--help documents every option', () => {
  const run = fieldcam(['mux', '--help']);
  assert.is(run.status, 0);
  for (const flag of ['--output', '--codec', '--fps', '--fragment-ms', '--max-fragment-ms', '--board', '--fragment-metadata', '--end-of-fragment', '--json']) {
    assert.ok(run.stdout.includes(flag), `help mentions ${flag}`);
  }
});

test.after(() => tmp.remove());
test.run();
