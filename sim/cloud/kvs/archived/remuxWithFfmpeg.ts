// Remuxing stored Matroska to the containers players read, with ffmpeg as a subprocess and `-c copy`: the
// H.264 payload is never re-encoded, only re-packaged. ffmpeg is already a dependency of the project (it
// is the judge of every media test, installed by toolchain/setup) and its mov/mpegts muxers are the most
// exercised fMP4/TS writers there are; an npm library would add a second implementation to trust, and a
// hand-written box writer a third. The cost is one process per fragment (100-200 ms on a loaded 2-core
// host, docs/performance.md), paid once per fragment and container thanks to RemuxCache.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudError } from '../../types.ts';

export type RemuxFormat = 'fmp4' | 'ts' | 'mp4';

/**
 * ffmpeg output options per container. Video track 1 only (what KVS plays: track 1 H.264/H.265, track 2
 * audio is optional and fieldcam sends none).
 * - fmp4: one fragment per key frame, init in an empty moov; `frag_discont` with timestamps kept
 *   (`-copyts`, negative-ts shifting disabled) makes each moof's tfdt the fragment's own time, so fragments
 *   remuxed one by one line up in a player exactly as if remuxed together; 90 kHz is HLS's clock.
 * - ts: MPEG-TS with the timestamps kept (PTS wraps at 2^33 / 90 kHz, which players handle).
 * - mp4: a plain MP4 clip starting at 0, moov first (written to a file: the moov needs a seekable output).
 */
const OUTPUT_ARGS: Readonly<Record<RemuxFormat, readonly string[]>> = Object.freeze({
  fmp4: [
    '-avoid_negative_ts',
    'disabled',
    '-video_track_timescale',
    '90000',
    '-f',
    'mp4',
    '-movflags',
    'empty_moov+default_base_moof+frag_keyframe+frag_discont',
  ],
  ts: ['-avoid_negative_ts', 'disabled', '-f', 'mpegts', '-mpegts_copyts', '1', '-muxdelay', '0', '-muxpreload', '0'],
  mp4: ['-f', 'mp4', '-movflags', '+faststart'],
});

/** ffmpeg runs at most this many at once: a player's burst of segment requests must not fork-bomb the host. */
const MAX_RUNNING = 2;
/** One remux may take this long before it is killed (a clip of 200 fragments takes well under a second). */
const TIMEOUT_MS = 30_000;
let running = 0;
const waiting: (() => void)[] = [];

async function slot(): Promise<() => void> {
  if (running >= MAX_RUNNING) await new Promise<void>((go) => waiting.push(go));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

/**
 * `mkv` (a segment header followed by stored fragments) in `format`. Throws CloudError 400
 * InvalidMediaFrameException when ffmpeg cannot read the media (what GetClip answers for frames it cannot
 * parse).
 */
export async function remuxWithFfmpeg(mkv: Uint8Array, format: RemuxFormat): Promise<Buffer> {
  const release = await slot();
  const dir = format === 'mp4' ? mkdtempSync(join(tmpdir(), 'fieldcam-clip-')) : undefined;
  try {
    const target = dir ? join(dir, 'clip.mp4') : 'pipe:1';
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      ...(format === 'mp4' ? [] : ['-copyts']),
      '-f',
      'matroska',
      '-i',
      'pipe:0',
      '-map',
      '0:v:0',
      '-c',
      'copy',
      ...OUTPUT_ARGS[format],
      '-y',
      target,
    ];
    const out = await run(args, mkv);
    return dir ? readFileSync(target) : out;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
    release();
  }
}

/** Runs ffmpeg with `args` (reading `input` on stdin, writing stdout) within the shared concurrency limit. */
export async function runFfmpeg(args: readonly string[], input: Uint8Array): Promise<Buffer> {
  const release = await slot();
  try {
    return await run(['-hide_banner', '-nostdin', '-loglevel', 'error', ...args], input);
  } finally {
    release();
  }
}

function run(args: readonly string[], input: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < 4096) err += b.toString('utf8');
    });
    child.stdin.on('error', () => {}); // ffmpeg may exit before reading everything; the exit code tells
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new CloudError(500, 'InternalFailure', `ffmpeg could not be started: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else
        reject(new CloudError(400, 'InvalidMediaFrameException', `The media could not be packaged: ${err.trim().split('\n').at(-1) ?? `ffmpeg exit ${code}`}`));
    });
    child.stdin.end(input);
  });
}
