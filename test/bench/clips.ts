// The bench's camera clips, made by ffmpeg (Debian bookworm: ffmpeg 5.1, libx264 164) on first use into the temp
// folder; too large to commit (the reference clip is 925 KB). Each recipe is here, once.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Clip {
  readonly label: string;
  readonly file: string;
  readonly codec: 'h264' | 'mjpeg';
  readonly fps: number;
}

function make(name: string, args: string[]): string {
  const file = join(tmpdir(), `fieldcam-bench-${name}`);
  if (!existsSync(file)) {
    const partial = `${file}.part`;
    const r = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args, partial]);
    if (r.status !== 0) throw new Error(`ffmpeg failed to make ${name}: ${String(r.stderr)}`);
    renameSync(partial, file);
  }
  return file;
}

/**
 * The reference clip of design.md §3, on which the official embedded C producer (aws-samples
 * producer-embedded-c) was measured at 40,411 ARM1176 instructions per frame: 640x360, 15 fps, baseline, GOP 15,
 * AUDs, 180 access units, 12 IDR, 5,143 B per frame. The recipe is the issue's, byte for byte.
 */
export const REFERENCE_SHA256 = 'd1e4d6ae574e337316bf1e42ca4d7117066c48b8a17d82b617973c38332acead';

export function referenceClip(): Clip {
  const file = make('ref-640x360-15fps.h264', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=15',
    '-frames:v',
    '180',
    '-c:v',
    'libx264',
    '-profile:v',
    'baseline',
    '-bf',
    '0',
    '-x264-params',
    'keyint=15:min-keyint=15:scenecut=0:aud=1',
    '-f',
    'h264',
  ]);
  const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
  // Another ffmpeg/x264 makes other bytes: the figures would not compare with the C producer's. Say so, do not stop.
  const label =
    sha === REFERENCE_SHA256 ? 'reference clip, 640x360 15 fps baseline' : `640x360 15 fps baseline (NOT the reference bytes: sha256 ${sha.slice(0, 12)}…)`;
  return { label, file, codec: 'h264', fps: 15 };
}

/** 720p30 at 2 Mbit/s, baseline, GOP 30: a Pi camera's usual stream. */
export function clip720p(): Clip {
  const file = make('720p-30fps-2mbps.h264', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1280x720:rate=30',
    '-t',
    '4',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-x264-params',
    'threads=1',
    '-profile:v',
    'baseline',
    '-b:v',
    '2M',
    '-maxrate',
    '2M',
    '-bufsize',
    '4M',
    '-bf',
    '0',
    '-g',
    '30',
    '-keyint_min',
    '30',
    '-sc_threshold',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-f',
    'h264',
  ]);
  return { label: '1280x720 30 fps, 2 Mbit/s', file, codec: 'h264', fps: 30 };
}

/**
 * 1080p at a camera-like bitrate (4 Mbit/s, 30 fps, GOP 30): the committed 1080p fixture is tiny (crf 38) and says
 * little about per-byte cost.
 */
export function clip1080p(): Clip {
  const file = make('1080p-4mbps.h264', [
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=1920x1080:rate=30',
    '-t',
    '4',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-x264-params',
    'threads=1',
    '-b:v',
    '4M',
    '-maxrate',
    '4M',
    '-bufsize',
    '8M',
    '-bf',
    '0',
    '-g',
    '30',
    '-keyint_min',
    '30',
    '-sc_threshold',
    '0',
    '-pix_fmt',
    'yuv420p',
    '-f',
    'h264',
  ]);
  return { label: '1920x1080 30 fps, 4 Mbit/s', file, codec: 'h264', fps: 30 };
}

/** MJPEG as an ESP32-CAM sends it, 640x480 (VGA), 10 fps, 3 s; 320x240 is the committed fixture. */
export function mjpeg640(): Clip {
  const file = make('mjpeg-640x480-10fps.mjpeg', [
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=640x480:rate=10',
    '-t',
    '3',
    '-c:v',
    'mjpeg',
    '-q:v',
    '8',
    '-pix_fmt',
    'yuvj420p',
    '-f',
    'mjpeg',
  ]);
  return { label: 'MJPEG 640x480 10 fps', file, codec: 'mjpeg', fps: 10 };
}
