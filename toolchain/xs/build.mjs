// Fetches, verifies, patches and builds the XS engine with our C host (firmware/runtime) for each target.
// Usage: node toolchain/xs/build.mjs [x86_64] [armv6] [armv7] [aarch64]       (default: x86_64)
// Everything lands in build/xs/ (git-ignored): the npm tarball, the patched sources, and per target
// build/xs/<arch>/fieldcam-runtime. Idempotent: the sources are unpacked once (a stamp records the pinned
// integrity and the patch set), and make rebuilds only what changed, so a second run does nothing.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { patches } from './patches.mjs';

export const ENGINE = Object.freeze({
  spec: '@agoric/xsnap@0.15.0',
  tarball: 'agoric-xsnap-0.15.0.tgz',
  integrity: 'sha512-ZBm4DZxbtfacxMHVVdJjZi0Y8zOxN77vpu1WwI5RWfPkaRh0aHkz/dVdTGKXalDNzWfz183lljKxlxl3/h0n+A==',
  moddable: 'XS 13.3.0 (Moddable, via @agoric/xsnap 0.15.0)',
});
export const TARGETS = Object.freeze(['x86_64', 'armv6', 'armv7', 'aarch64']);
/**
 * The QEMU user-mode emulator that runs each cross-built target on this machine (no binfmt: always called
 * by name); x86_64 runs natively. Boards name the CPU model (`qemuCpu`); the emulator follows from the target.
 */
export const QEMU_USER = Object.freeze({ armv6: 'qemu-arm', armv7: 'qemu-arm', aarch64: 'qemu-aarch64' });
/** The most a shipped (static, stripped) runtime may weigh, mbedTLS included (docs/boards.md). */
export const MAX_SHIPPED_RUNTIME_BYTES = 2.5 * 1024 * 1024;

const root = join(import.meta.dirname, '..', '..');
const buildDir = join(root, 'build', 'xs');
const srcDir = join(buildDir, 'src');

class BuildError extends Error {}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { cwd: buildDir, encoding: 'utf8', ...options });
  if (r.error) throw new BuildError(`${command}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new BuildError(`${command} ${args.join(' ')} exited ${r.status}\n${(r.stderr ?? '').trim()}`);
  }
  return r;
}

function sri(bytes) {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/** The tarball, fetched with `npm pack` once and verified against the pinned integrity every run. */
function fetchEngine() {
  const path = join(buildDir, ENGINE.tarball);
  if (!existsSync(path)) {
    process.stdout.write(`xs: fetching ${ENGINE.spec} with npm pack\n`);
    run('npm', ['pack', ENGINE.spec, '--silent', '--pack-destination', buildDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  }
  const actual = sri(readFileSync(path));
  if (actual !== ENGINE.integrity) {
    rmSync(path, { force: true });
    throw new BuildError(
      `${ENGINE.tarball} does not match the pinned integrity; refusing to build it (deleted it).\n` + `  expected ${ENGINE.integrity}\n  actual   ${actual}`,
    );
  }
  return path;
}

function applyPatches(dir) {
  for (const p of patches) {
    const file = join(dir, p.file);
    const text = readFileSync(file, 'utf8');
    const found = text.split(p.find).length - 1;
    if (found !== p.count) {
      throw new BuildError(`patch ${p.name}: expected ${p.count} occurrence(s) in ${p.file}, found ${found}`);
    }
    writeFileSync(file, text.split(p.find).join(p.replace));
  }
}

/** Unpacks and patches into build/xs/src unless the stamp says that exact state is already there. */
function prepareSources(tarball) {
  const stamp = JSON.stringify({ integrity: ENGINE.integrity, patches });
  const stampFile = join(srcDir, '.fieldcam-stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return false;
  process.stdout.write(`xs: unpacking and patching into ${srcDir}\n`);
  const tmp = join(buildDir, 'src.tmp');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  run('tar', ['-xzf', tarball, '-C', tmp, '--strip-components=1']);
  applyPatches(tmp);
  writeFileSync(join(tmp, '.fieldcam-stamp'), stamp);
  rmSync(srcDir, { recursive: true, force: true });
  renameSync(tmp, srcDir);
  return true;
}

/** Builds (or brings up to date) build/xs/<arch>/fieldcam-runtime; returns its path. */
export function buildRuntime(arch, { log = (line) => process.stdout.write(line) } = {}) {
  if (!TARGETS.includes(arch)) throw new BuildError(`unknown target ${arch} (known: ${TARGETS.join(', ')})`);
  mkdirSync(buildDir, { recursive: true });
  prepareSources(fetchEngine());
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  const output = join(buildDir, arch, 'fieldcam-runtime');
  if (!existsSync(output)) log(`xs: building ${arch} (first build compiles the whole engine: about 10 s on 2 cores)\n`);
  const started = Date.now();
  const r = run('make', [
    '-C',
    join(root, 'firmware', 'runtime'),
    `-j${availableParallelism()}`,
    arch,
    `XS_SRC=${srcDir}`,
    `OUT=${buildDir}`,
    `FIELDCAM_VERSION=${version}`,
    `ENGINE=${ENGINE.moddable}`,
  ]);
  const built = /\bcc\b|\blink\b/.test(r.stdout);
  if (built) log(`xs: built ${arch} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return output;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const archs = process.argv.slice(2);
  try {
    for (const arch of archs.length ? archs : ['x86_64']) {
      const out = buildRuntime(arch);
      process.stdout.write(`xs: ${arch} ready: ${out}\n`);
    }
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    process.stderr.write(`xs: ${err.message}\n`);
    process.exit(1);
  }
}
