// Where the whole device's per-frame computrons go (docs/performance.md, "The upload side of the hot path"): the
// pi-zero-w configuration run natively (computrons are the same on x86-64 and ARM) against the local cloud, with
// test/bench/xs/uploadProfile.ts as its firmware (every method of the upload and media classes wrapped), the clip
// played once and twice; per method, (twice - once) / the extra frames. Prints a table grouped by part.
// Usage: node --import tsx test/bench/uploadProfile.ts [clip.h264] [--board pi-zero-w] [--json]
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT, runtimeFlags } from '../../host/lib/buildImage.ts';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { bootBoard } from '../../sim/board/bootBoard.ts';
import { writeDeviceConfig } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { referenceClip } from './clips.ts';

interface Row {
  readonly label: string;
  readonly calls: number;
  readonly self: number;
}
interface Profile {
  readonly total: number;
  readonly wrapperPerCall: number;
  readonly insidePerCall: number;
  readonly frames: number;
  readonly rows: Row[];
}

/** The part of the device a method belongs to (the table's groups). */
export function partOf(label: string): string {
  const cls = label.slice(0, label.indexOf('.'));
  if (['AckParser', 'AckObjectReader'].includes(cls)) return 'ACK parsing';
  if (cls === 'HttpResponseParser') return 'HTTP response (chunked ACK body)';
  if (['XsSocket', 'xsTimers', 'xsClock'].includes(cls)) return 'XS board (socket, timers, clock)';
  if (['ChunkFramer', 'PutMediaConnection'].includes(cls)) return 'PutMediaConnection and chunk framing';
  if (['PutMediaSession', 'InFlightSet', 'ConnectionSupervisor', 'LatencyStats', 'PoolFragmentSource', 'Backoff', 'PhaseDeadline', 'ServerClock'].includes(cls))
    return 'PutMediaSession (drain, in-flight ring, ACK handling, source)';
  if (['MkvWriter', 'ViewList'].includes(cls)) return 'Matroska writer and view list (shared with the media path)';
  if (cls === 'SigV4Signer') return 'SigV4 (connection set-up)';
  if (cls === 'CameraUploader') return 'CameraUploader (camera pump)';
  return 'media path (reader, FrameInput, pool, queue)';
}

function configFor(cloud: RunningCloud, dir: string, board: string, name: string): string {
  const url = new URL(cloud.endpoint);
  const path = join(dir, `${name}.json`);
  writeDeviceConfig(path, {
    board: loadBoardManifest(board),
    streamName: name,
    region: 'us-east-1',
    endpoint: { host: url.hostname, port: Number(url.port), caFile: cloud.caFile },
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    codec: 'h264',
    live: false,
    createRetentionHours: 24,
    statusIntervalMs: 0,
  });
  return path;
}

async function profileRun(imageDir: string, flags: readonly string[], config: string, video: string): Promise<Profile> {
  let profile: Omit<Profile, 'frames'> | undefined;
  let frames = 0;
  const booted = bootBoard({
    image: { dir: imageDir, runtimeFlags: flags },
    config,
    video,
    loop: false,
    bytesPerSecond: 0,
    cwd: ROOT,
    onRecord: (r) => {
      if (r.type === 'profile') profile = r as unknown as Omit<Profile, 'frames'>;
      if (r.type === 'summary') frames = Number(r.framesIn);
    },
  });
  const exit = await booted.exited;
  if (exit.code !== 0 || !profile) throw new Error(`profile run exited ${exit.code}: ${exit.stderr}`);
  return { ...profile, frames };
}

export async function uploadProfile(
  clip: string,
  boardName: string,
): Promise<{ perFrame: Row[]; totalPerFrame: number; frames: number; wrapperPerCall: number }> {
  const dir = join(tmpdir(), `fieldcam-upload-profile-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const cloud = await startCloud({ stateDir: join(dir, 'cloud'), port: 0, routes: [...mediaRoutes] });
  try {
    const image = join(dir, 'image');
    mkdirSync(image);
    symlinkSync(join(ROOT, 'build', 'xs', 'x86_64', 'fieldcam-runtime'), join(image, 'fieldcam-runtime'));
    await build({
      entryPoints: [join(ROOT, 'test', 'bench', 'xs', 'uploadProfile.ts')],
      outfile: join(image, 'firmware.js'),
      bundle: true,
      format: 'iife',
      platform: 'neutral',
      target: 'es2022',
      charset: 'ascii',
      logLevel: 'warning',
    });
    const board = loadBoardManifest(boardName);
    writeFileSync(join(image, 'board.json'), JSON.stringify(board));
    const { flags } = runtimeFlags(board);
    const twice = join(dir, 'twice.h264');
    const bytes = readFileSync(clip);
    writeFileSync(twice, Buffer.concat([bytes, bytes]));
    const once = await profileRun(image, flags, configFor(cloud, dir, boardName, 'profile-a'), clip);
    const two = await profileRun(image, flags, configFor(cloud, dir, boardName, 'profile-b'), twice);
    const frames = two.frames - once.frames;
    const before = new Map(once.rows.map((r) => [r.label, r]));
    const perFrame = two.rows
      .map((r) => {
        const b = before.get(r.label);
        return { label: r.label, calls: (r.calls - (b?.calls ?? 0)) / frames, self: (r.self - (b?.self ?? 0)) / frames };
      })
      .sort((a, b) => b.self - a.self);
    return { perFrame, totalPerFrame: (two.total - once.total) / frames, frames, wrapperPerCall: two.wrapperPerCall + two.insidePerCall };
  } finally {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--board');
  const board = at >= 0 ? args.splice(at, 2)[1]! : 'pi-zero-w';
  const json = args.includes('--json');
  const clip = args.find((a) => !a.startsWith('--')) ?? referenceClip().file;
  const r = await uploadProfile(clip, board);
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const parts = new Map<string, { self: number; calls: number; top: Row[] }>();
    for (const row of r.perFrame) {
      const part = partOf(row.label);
      const p = parts.get(part) ?? { self: 0, calls: 0, top: [] };
      p.self += row.self;
      p.calls += row.calls;
      if (Math.abs(row.self) >= 5) p.top.push(row);
      parts.set(part, p);
    }
    const sum = r.perFrame.reduce((s, x) => s + x.self, 0);
    const wrappers = r.perFrame.reduce((s, x) => s + x.calls, 0) * r.wrapperPerCall;
    const lines = [
      `whole device, ${board}, ${r.frames} extra frames: ${Math.round(r.totalPerFrame)} computrons/frame profiled, of which wrappers ${Math.round(wrappers)}; methods' self sum ${Math.round(sum)}`,
      '',
      '| part (per frame) | computrons (calls) | methods |',
      '| --- | --- | --- |',
    ];
    for (const [part, p] of [...parts].sort((a, b) => b[1].self - a[1].self))
      lines.push(
        `| ${part} | ${Math.round(p.self)} (${p.calls.toFixed(1)}) | ${p.top
          .slice(0, 8)
          .map((x) => `${x.label} ${Math.round(x.self)} (${x.calls.toFixed(2)})`)
          .join(', ')} |`,
      );
    lines.push(`| not in a wrapped method (dispatch, closures, promise jobs) | ${Math.round(r.totalPerFrame - sum - wrappers)} | |`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
