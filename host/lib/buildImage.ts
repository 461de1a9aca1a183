import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { derivePoolSizing } from '../../firmware/core/config/derivePoolSizing.ts';
import { FieldcamError } from '../../firmware/core/errors.ts';
import { buildRuntime, ENGINE, QEMU_USER } from '../../toolchain/xs/build.mjs';
import type { BoardManifest } from '../shared/loadBoardManifest.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const ENTRY = join(ROOT, 'firmware', 'app', 'main.ts');

/**
 * What `dist/<board>/image.json` says: how to start this image (the simulator and the board's service unit
 * read it) and what it weighs. Memory: the frame pool is allocated outside the JS heap (native framePoolMemory),
 * so the runtime's hard heap limit is the board's JS budget alone.
 */
export interface ImageManifest {
  readonly board: string;
  readonly target: string;
  readonly qemuCpu?: string;
  /** The QEMU user-mode emulator for the target (qemu-arm, qemu-aarch64); absent for x86_64. */
  readonly qemu?: string;
  readonly version: string;
  readonly engine: string;
  readonly runtime: 'fieldcam-runtime';
  readonly bundle: 'firmware.js';
  /** Flags before the bundle path: the memory budget from the board manifest. */
  readonly runtimeFlags: readonly string[];
  readonly sizes: {
    readonly runtimeBytes: number;
    readonly bundleBytes: number;
    readonly poolBytes: number;
    readonly jsBudgetBytes: number;
    readonly heapLimitBytes: number;
    readonly ramBytes: number;
  };
}

export function imageDir(board: string): string {
  return join(ROOT, 'dist', board);
}

export function runtimeFlags(board: BoardManifest): { flags: string[]; poolBytes: number; heapLimitBytes: number } {
  const sizing = derivePoolSizing(board.pool);
  const poolBytes = sizing.slotCount * sizing.slotBytes;
  const m = board.memory;
  const heapLimitBytes = m.jsBudgetBytes;
  return {
    poolBytes,
    heapLimitBytes,
    flags: [
      '--heap-limit',
      String(heapLimitBytes),
      '--initial-chunk',
      String(m.initialChunkBytes),
      '--initial-slots',
      String(m.initialSlots),
      '--stack-slots',
      String(m.stackSlots),
    ],
  };
}

/**
 * Type-checks the firmware with only the ES library XS provides (a Node API in firmware fails here). tsc keeps
 * its incremental state in build/tsc/ (shared with toolchain/typecheck.mjs), so a build after a check, or a
 * second build, re-checks only what changed.
 */
function typecheckFirmware(): void {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const state = join(ROOT, 'build', 'tsc', 'firmware.tsbuildinfo');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', join(ROOT, 'firmware', 'tsconfig.json'), '--incremental', '--tsBuildInfoFile', state], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new FieldcamError('CONFIG_INVALID', `the firmware does not type-check:\n${(r.stdout + r.stderr).trim()}`);
}

/** Bundles firmware/app/main.ts into one self-contained script (XS has no module loader for bare specifiers). */
async function bundleFirmware(outfile: string): Promise<void> {
  await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    format: 'iife', // the runtime evaluates the bundle as a global script
    platform: 'neutral',
    target: 'es2022',
    charset: 'ascii', // astral characters reach XS as escapes
    logLevel: 'silent',
  });
}

/**
 * `fieldcam build --board <name>`: dist/<board>/ with the runtime binary for the board's target, the firmware
 * bundle, the board manifest and image.json (start flags and sizes). Every file is written beside its final
 * name and renamed into place, so an interrupted build never leaves a half-written image.
 */
export async function buildImage(board: BoardManifest, options: { log?: (line: string) => void; typecheck?: boolean } = {}): Promise<ImageManifest> {
  const log = options.log ?? (() => {});
  const dir = imageDir(board.name);
  mkdirSync(dir, { recursive: true });
  if (options.typecheck !== false) {
    log('build: type-checking the firmware (ES library only)\n');
    typecheckFirmware();
  }
  let runtime: string;
  try {
    runtime = buildRuntime(board.target, { log });
  } catch (err) {
    throw new FieldcamError('CONFIG_INVALID', `cannot build the ${board.target} runtime: ${(err as Error).message}`);
  }
  const place = (name: string, write: (tmp: string) => void | Promise<void>) => async () => {
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    await write(tmp);
    renameSync(tmp, join(dir, name));
  };
  await place('fieldcam-runtime', (tmp) => copyFileSync(runtime, tmp))();
  await place('firmware.js', (tmp) => bundleFirmware(tmp))();
  await place('board.json', (tmp) => writeFileSync(tmp, JSON.stringify(board, null, 2) + '\n'))();
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const { flags, poolBytes, heapLimitBytes } = runtimeFlags(board);
  const image: ImageManifest = {
    board: board.name,
    target: board.target,
    ...(board.qemuCpu ? { qemuCpu: board.qemuCpu } : {}),
    ...(QEMU_USER[board.target] ? { qemu: QEMU_USER[board.target] } : {}),
    version,
    engine: ENGINE.moddable,
    runtime: 'fieldcam-runtime',
    bundle: 'firmware.js',
    runtimeFlags: flags,
    sizes: {
      runtimeBytes: statSync(join(dir, 'fieldcam-runtime')).size,
      bundleBytes: statSync(join(dir, 'firmware.js')).size,
      poolBytes,
      jsBudgetBytes: board.memory.jsBudgetBytes,
      heapLimitBytes,
      ramBytes: board.memory.ramBytes,
    },
  };
  await place('image.json', (tmp) => writeFileSync(tmp, JSON.stringify(image, null, 2) + '\n'))();
  return image;
}

/** The image in dist/<board>/ if it was built, else undefined. */
export function readImage(board: string): ImageManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(imageDir(board), 'image.json'), 'utf8')) as ImageManifest;
  } catch {
    return undefined;
  }
}
