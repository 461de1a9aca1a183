// Helpers for end-to-end suites (Node only): run the real CLI and ask real tools about the result.
// Never trust an exit code alone: mkvinfo and ffprobe return 0 on truncated files, so every check reads
// what the tool reports.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
const BIN = join(ROOT, 'host', 'cli', 'bin.mjs');

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function fieldcam(args: readonly string[], input?: Uint8Array): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tool(command: string, args: readonly string[]): Run {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'fieldcam-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls `check` every 20 ms until it holds; rejects naming `what` after `ms` of wall time (a hang guard, not a timing assertion). */
export function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`not within ${ms} ms: ${what}`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

export interface MkvmergeReport {
  errors: string[];
  warnings: string[];
  container: { recognized: boolean; supported: boolean; type?: string };
  tracks: {
    codec: string;
    type?: string;
    properties: {
      codec_id?: string;
      pixel_dimensions?: string;
      codec_private_length?: number;
      codec_private_data?: string;
      audio_sampling_frequency?: number;
      audio_channels?: number;
    };
  }[];
  global_tags?: unknown[];
  track_tags?: unknown[];
}

export function mkvmerge(file: string): MkvmergeReport {
  const r = tool('mkvmerge', ['-J', file]);
  return JSON.parse(r.stdout) as MkvmergeReport;
}

/** Frames ffprobe decodes (not the container's claim). */
export function decodedFrameCount(file: string): number {
  const r = tool('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]);
  return Number(r.stdout.trim());
}

/** Packets ffprobe reads in the first audio stream (each one an AAC or G.711 frame the muxer wrote). */
export function audioPacketCount(file: string): number {
  const r = tool('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'a:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
  return Number(r.stdout.trim());
}

/** Everything ffmpeg complains about while decoding the whole file (must be empty). */
export function decodeErrors(file: string): string {
  const r = tool('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-']);
  return (r.stderr + (r.status === 0 ? '' : `\n(exit ${r.status})`)).trim();
}

/** Presentation timestamps (seconds) of the decoded frames, in order. */
export function framePts(file: string): number[] {
  const r = tool('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pts_time', '-of', 'json', file]);
  const frames = (JSON.parse(r.stdout) as { frames?: { pts_time?: string }[] }).frames ?? [];
  return frames.map((f) => Number(f.pts_time));
}

/** MD5 of every decoded picture of the first video stream (ffmpeg framemd5), in order: what a viewer sees. */
export function frameHashes(file: string): string[] {
  const r = tool('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-']);
  if (r.status !== 0) throw new Error(`ffmpeg framemd5 ${file}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',').pop()!.trim());
}

/** Each Cluster's blocks as mkvinfo lists them, in file order: track number and timestamp (s). */
export function clusterBlocks(file: string): { track: number; t: number }[][] {
  const r = tool('mkvinfo', ['-a', file]);
  const clusters: { track: number; t: number }[][] = [];
  for (const line of r.stdout.split('\n')) {
    if (/^\|\+ Cluster\s*$/.test(line)) clusters.push([]);
    const m = /Simple block: .*track number (\d+), .*timestamp (\d+):(\d+):([\d.]+)/.exec(line);
    if (m && clusters.length) clusters[clusters.length - 1]!.push({ track: Number(m[1]), t: Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]) });
  }
  return clusters;
}

/** Number of Matroska Clusters (= KVS fragments), as mkvinfo sees them. */
export function clusterCount(file: string): number {
  const r = tool('mkvinfo', ['-a', file]); // without -a, mkvinfo stops at the first Cluster
  return r.stdout.split('\n').filter((l) => /^\|\+ Cluster\s*$/.test(l)).length; // not '| + Cluster timestamp'
}
