import { FieldcamError } from '../shared/hostErrors.ts';
import type { FrameRate } from '../lib/Muxer.ts';
import { FragmentMetadata } from '../../firmware/core/mkv/FragmentMetadata.ts';
import { EXIT } from '../lib/CliError.ts';
import { listBoards, loadBoardManifest } from '../shared/loadBoardManifest.ts';
import { muxFile } from '../lib/muxFile.ts';
import { numberFlag, readCommandLine, type CommandSpec } from '../lib/parseCommandLine.ts';
import type { Command } from './fieldcam.ts';
import { CODEC_IDS, codecChoices, isCodecId } from '../../firmware/core/media/codecs.ts';
import { playbackWarnings } from '../../firmware/core/media/playbackWarnings.ts';
import { AUDIO_CODEC_IDS, isAudioCodecId } from '../../firmware/core/audio/audioCodecs.ts';

const spec: CommandSpec = {
  name: 'mux',
  usage: 'mux <input|-> -o <out.mkv> [options]',
  summary:
    'Frames a raw Annex-B H.264/H.265 or MJPEG stream exactly as a device would upload it to Kinesis Video Streams:\n' +
    "read into the board's frame pool, split into frames, one Matroska Cluster per fragment, KVS rules enforced.",
  options: {
    output: { type: 'string', short: 'o', value: 'out.mkv', help: 'where to write the Matroska file (written atomically)' },
    codec: { type: 'string', value: CODEC_IDS.join('|'), help: 'input codec (default: detected from the first bytes)' },
    audio: {
      type: 'string',
      multiple: true,
      value: 'file',
      help: "an audio track: AAC ADTS (.aac) or raw G.711 (.alaw, .ulaw), from the video's start; KVS takes 3 tracks in all",
    },
    'audio-codec': { type: 'string', value: AUDIO_CODEC_IDS.join('|'), help: 'codec of the --audio files (default: from the extension)' },
    fps: { type: 'string', value: 'N or N/M', help: 'frame rate (default: H.264/H.265 VUI timing, else 25)' },
    'fragment-ms': {
      type: 'string',
      value: 'ms',
      help: 'open a new fragment at the first key frame after this long (default: board, 1000; 0 = every key frame)',
    },
    'max-fragment-ms': { type: 'string', value: 'ms', help: 'refuse fragments longer than this (default: board, 10000; KVS max 20000)' },
    board: { type: 'string', value: 'name', help: 'board whose frame pool and defaults to use (default: sim-x86)' },
    'fragment-metadata': { type: 'string', multiple: true, value: 'name=value', help: 'metadata tag on every fragment (max 10)' },
    'end-of-fragment': { type: 'boolean', help: 'close each fragment with the KVS end-of-fragment tag' },
    'segment-uid': { type: 'string', value: '32 hex digits', help: 'pin the Matroska SegmentUID for reproducible output (default: random, as a device does)' },
    'start-time': { type: 'string', value: 'ms|ISO-8601', help: 'timecode of the first frame (default: 0)' },
    json: { type: 'boolean', help: 'print the summary as JSON' },
  },
  details: () =>
    `boards: ${listBoards().join(', ')}\n\nexample:\n  fieldcam mux test/fixtures/h264-320x240-10fps-gop10.h264 -o /tmp/out.mkv && mkvinfo /tmp/out.mkv`,
};

function parseFps(raw: unknown): FrameRate | undefined {
  if (raw === undefined) return undefined;
  const m = typeof raw === 'string' ? /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(raw.trim()) : null;
  if (!m) throw new FieldcamError('CLI_USAGE', `mux: --fps must look like 30, 29.97 or 30000/1001, got '${String(raw)}'`);
  let num = Number(m[1]);
  let den = m[2] ? Number(m[2]) : 1;
  if (!Number.isInteger(num)) {
    den *= 1000;
    num = Math.round(num * 1000);
  }
  if (!(num > 0 && den > 0 && num / den <= 240)) throw new FieldcamError('CLI_USAGE', `mux: --fps must be between 0 and 240, got '${raw as string}'`);
  return { num, den };
}

function parseStartTime(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const s = String(raw);
  const ms = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new FieldcamError('CLI_USAGE', `mux: --start-time must be epoch milliseconds or an ISO-8601 date, got '${s}'`);
  }
  return ms;
}

function parseSegmentUid(raw: unknown): Uint8Array | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[0-9a-fA-F]{32}$/.test(raw)) {
    throw new FieldcamError('CLI_USAGE', `mux: --segment-uid must be 32 hex digits (16 bytes), got '${String(raw)}'`);
  }
  return Uint8Array.from(raw.match(/../g)!, (h) => parseInt(h, 16));
}

export const muxCommand: Command = {
  summary: spec.summary,
  run(argv) {
    const parsed = readCommandLine(spec, argv);
    if (!parsed) return EXIT.OK;
    const { values, positionals } = parsed;
    if (positionals.length !== 1) throw new FieldcamError('CLI_USAGE', `mux: expected one input (a file or -), got ${positionals.length}`);
    if (typeof values.output !== 'string') throw new FieldcamError('CLI_USAGE', 'mux: -o <out.mkv> is required');
    const codec = values.codec;
    if (codec !== undefined && !isCodecId(codec)) {
      throw new FieldcamError('CLI_USAGE', `mux: --codec must be ${codecChoices()}, got '${String(codec)}'`);
    }
    const board = loadBoardManifest(typeof values.board === 'string' ? values.board : 'sim-x86');
    const audioCodec = values['audio-codec'];
    if (audioCodec !== undefined && !isAudioCodecId(audioCodec)) {
      throw new FieldcamError('CLI_USAGE', `mux: --audio-codec must be ${AUDIO_CODEC_IDS.join(', ')}, got '${String(audioCodec)}'`);
    }
    const audio = ((values.audio as string[] | undefined) ?? []).map((path) => ({ path, ...(audioCodec ? { codec: audioCodec } : {}) }));
    const fragmentMs = numberFlag(spec, 'fragment-ms', values['fragment-ms'], 0, 20000);
    const maxFragmentMs = numberFlag(spec, 'max-fragment-ms', values['max-fragment-ms'], 1000, 20000);
    let metadata: FragmentMetadata | undefined;
    for (const item of (values['fragment-metadata'] as string[] | undefined) ?? []) {
      const eq = item.indexOf('=');
      if (eq <= 0) throw new FieldcamError('CLI_USAGE', `mux: --fragment-metadata wants name=value, got '${item}'`);
      metadata ??= new FragmentMetadata();
      metadata.put(item.slice(0, eq), item.slice(eq + 1), true);
    }
    const fps = parseFps(values.fps);
    const startTimecode = parseStartTime(values['start-time']);
    const segmentUid = parseSegmentUid(values['segment-uid']);
    const input = positionals[0]!;
    const showProgress = process.stderr.isTTY && !values.json;
    let lastShown = 0;
    const result = muxFile({
      input,
      output: values.output,
      board,
      ...(codec ? { codec } : {}),
      ...(fps ? { fps } : {}),
      ...(fragmentMs !== undefined ? { fragmentMs } : {}),
      ...(maxFragmentMs !== undefined ? { maxFragmentMs } : {}),
      ...(startTimecode !== undefined ? { startTimecode } : {}),
      ...(metadata ? { metadata } : {}),
      ...(segmentUid ? { segmentUid } : {}),
      ...(audio.length ? { audio } : {}),
      endOfFragment: values['end-of-fragment'] === true,
      onProgress: (done, total) => {
        const now = Date.now();
        if (!showProgress || !total || now - lastShown < 250) return;
        lastShown = now;
        process.stderr.write(`\rmux: ${((100 * done) / total).toFixed(0)}% of ${(total / 1e6).toFixed(1)} MB`);
      },
    });
    if (showProgress && lastShown) process.stderr.write('\r\x1b[K');
    const { stats } = result;
    const fps_ = stats.fps.num / stats.fps.den;
    const summary = {
      input,
      output: values.output,
      codec: result.codec,
      width: stats.width,
      height: stats.height,
      fps: Number(fps_.toFixed(3)),
      fpsSource: stats.fpsSource,
      frames: stats.frames,
      keyFrames: stats.keyFrames,
      fragments: stats.fragments,
      durationMs: Math.round((stats.frames * 1000 * stats.fps.den) / stats.fps.num),
      bytesIn: result.bytesIn,
      bytesOut: result.bytesOut,
      ...(audio.length ? { audioPackets: stats.audioPackets, audioLeftOut: stats.audioLeftOut } : {}),
      board: board.name,
      pool: result.pool,
    };
    if (values.json) {
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    } else {
      process.stdout.write(
        `${summary.output}: ${summary.codec} ${summary.width}x${summary.height} @ ${summary.fps} fps (${summary.fpsSource}), ` +
          `${summary.frames} frames (${summary.keyFrames} key) in ${summary.fragments} fragments, ` +
          `${(summary.durationMs / 1000).toFixed(2)} s, ${summary.bytesIn} → ${summary.bytesOut} bytes\n`,
      );
      if (audio.length)
        process.stdout.write(
          `  + ${stats.audioPackets} audio packets in ${audio.length} track(s)${stats.audioLeftOut ? `, ${stats.audioLeftOut} after the video's end left out` : ''}\n`,
        );
      for (const w of playbackWarnings(result.codec, result.audioCodecs)) process.stderr.write(`mux: warning: ${w}\n`);
      if (stats.fpsSource === 'default') {
        process.stderr.write(`mux: warning: no frame rate in the input; assumed ${fps_} fps (set --fps)\n`);
      }
    }
    return EXIT.OK;
  },
};
