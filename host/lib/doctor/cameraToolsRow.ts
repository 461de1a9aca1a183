// The `camera source` check of `fieldcam doctor` (on this machine's PATH) and `fieldcam flash --verify` /
// `doctor --image` (in the image's root file system): the programs the board's camera adapter runs
// (host/lib/flash/cameraSource.ts). A missing one is a WARN, not a FAIL: the board boots and its service retries
// every 5 s, so installing the tool later (apt) is enough — but until then no frame is sent.
import { spawnSync } from 'node:child_process';
import { CAMERA_SOURCES, sourceTools, TOOL_PACKAGES, type CameraSource } from '../../shared/cameraSource.ts';
import type { CheckRow } from './runDoctor.ts';

/** Where the run script's `command -v` finds a tool on Raspberry Pi OS (systemd's default PATH). */
export const TOOL_DIRS = Object.freeze(['/usr/local/bin', '/usr/bin', '/bin']);

/** The tool's path on this machine's PATH, or undefined. */
export function hostHasTool(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

export function cameraToolsRow(
  board: { readonly camera: { readonly source?: CameraSource } },
  find: (tool: string) => string | undefined,
  where: string,
): CheckRow {
  const source = board.camera.source ?? { kind: 'rpicam' as const };
  const check = 'camera source';
  const found: string[] = [];
  const missing: (readonly string[])[] = [];
  for (const group of sourceTools(source)) {
    const hit = group.map((t) => find(t)).find((p) => p !== undefined);
    if (hit) found.push(hit);
    else missing.push(group);
  }
  const what = `${source.kind}${source.encoder === 'software' ? ' (software H.264)' : ''}: ${CAMERA_SOURCES[source.kind].summary}`;
  if (missing.length === 0) return { check, status: 'PASS', cause: `${what}; ${found.join(', ')} on ${where}` };
  const packages = [...new Set(missing.map((g) => TOOL_PACKAGES[g[0]!] ?? g[0]!))];
  return {
    check,
    status: 'WARN',
    cause: `${what}; ${missing.map((g) => g.join(' or ')).join(', ')} not on ${where}: the run script exits 10 and systemd retries every 5 s until it is installed`,
    fix: `on the board: sudo apt install ${packages.join(' ')}`,
  };
}
