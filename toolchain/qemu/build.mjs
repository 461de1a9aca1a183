// Builds the instruction-counting QEMU plugin (toolchain/qemu/insncount.c) and runs guest programs under it.
//   node toolchain/qemu/build.mjs                                   build (or bring up to date) the plugin
//   node toolchain/qemu/build.mjs count [--cpu C] [--marker NR] [--per tb] PROGRAM [ARG …]
//                                                                   run PROGRAM under qemu-arm, print the count
// The plugin lands in build/qemu/libinsncount.so (git-ignored), compiled with the host gcc: qemu-arm is a host
// program and dlopen()s it. Rebuilt only when a source or the compile command changed.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const sourceDir = import.meta.dirname;
const outDir = join(root, 'build', 'qemu');
export const PLUGIN = join(outDir, 'libinsncount.so');
const SOURCES = ['insncount.c', 'plugin-abi.h'].map((f) => join(sourceDir, f));
const CFLAGS = ['-std=c11', '-D_GNU_SOURCE', '-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-fvisibility=hidden'];

/**
 * Syscall number our measurement builds use to bracket a region (see insncount.c): above Linux's table,
 * below the ARM private range, so a real kernel answers ENOSYS and does nothing else.
 */
export const MARKER_SYSCALL = 0xfcfc;

export class QemuPluginError extends Error {}

function have(command) {
  return spawnSync('sh', ['-c', `command -v "$1"`, 'sh', command], { stdio: 'ignore' }).status === 0;
}

const pluginCapable = new Map();
/** Throws unless `qemu` exists and can load plugins (qemu-user-static cannot: it has no dlopen). */
function checkQemu(qemu) {
  if (pluginCapable.get(qemu)) return;
  if (!have(qemu)) throw new QemuPluginError(`${qemu} not found: install Debian's qemu-user (toolchain/setup)`);
  const help = spawnSync(qemu, ['--help'], { encoding: 'utf8' });
  if (!/^-plugin\b/m.test(help.stdout ?? '')) {
    throw new QemuPluginError(`${qemu} cannot load TCG plugins (no -plugin in --help): use the dynamic qemu-user, not qemu-user-static`);
  }
  pluginCapable.set(qemu, true);
}

/** Builds build/qemu/libinsncount.so if missing or stale; returns its path. Throws QemuPluginError with the reason. */
export function buildInsnPlugin({ qemu = 'qemu-arm', log = () => {} } = {}) {
  if (!have('gcc')) throw new QemuPluginError('gcc not found: the plugin is compiled with the host gcc (toolchain/setup installs it)');
  checkQemu(qemu);
  const command = ['gcc', ...CFLAGS, '-o', PLUGIN, join(sourceDir, 'insncount.c')];
  const stampFile = join(outDir, 'libinsncount.stamp');
  const stamp = JSON.stringify(command);
  if (existsSync(PLUGIN) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    const built = statSync(PLUGIN).mtimeMs;
    if (SOURCES.every((s) => statSync(s).mtimeMs <= built)) return PLUGIN;
  }
  mkdirSync(outDir, { recursive: true });
  // Compile next to the target, then rename: a concurrent reader never dlopen()s a half-written file.
  const tmp = `${PLUGIN}.${process.pid}.tmp`;
  const r = spawnSync('gcc', [...CFLAGS, '-o', tmp, join(sourceDir, 'insncount.c')], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new QemuPluginError(`gcc failed to build the plugin:\n${r.error?.message ?? r.stderr.trim()}`);
  }
  renameSync(tmp, PLUGIN);
  writeFileSync(stampFile, stamp);
  log(`qemu: built ${PLUGIN}\n`);
  return PLUGIN;
}

/** Parses the plugin's output file. */
function parseCounts(text) {
  const line = (name) => new RegExp(`^@@${name} (.*)$`, 'm').exec(text)?.[1];
  const total = line('qemu-insns');
  const marked = line('qemu-insns-marked');
  const vcpus = line('qemu-insns-vcpus');
  const stages = [...text.matchAll(/^@@qemu-insns-stage (\S+) (\d+)$/gm)].map((m) => [m[1], BigInt(m[2])]);
  return {
    instructions: total === undefined ? undefined : BigInt(total),
    marked: marked === undefined ? undefined : BigInt(marked.split(' ')[0]),
    windows: marked === undefined ? undefined : Number(marked.split(' ')[1]),
    vcpus: vcpus === undefined ? 1 : Number(vcpus),
    stages: stages.length ? Object.fromEntries(stages) : undefined,
  };
}

/**
 * Runs `program` under `qemu -cpu cpu` with the plugin and resolves to
 * { instructions: bigint, marked?: bigint, windows?: number, code, signal, stdout, stderr }.
 * The guest gets `env` as its whole environment, empty by default: libc start-up scans every variable, so
 * the caller's environment would move the count (an ordinary shell environment adds ~19,000 instructions).
 * Rejects when no count was written (qemu failed to start, the guest exec()ed away) or when the guest ran
 * more than one thread (inline counters race then, so the figure would not be exact).
 */
export async function countInstructions({ qemu = 'qemu-arm', cpu, program, args = [], cwd = root, stdin, stdinFile, per = 'insn', marker, stages, env = {} }) {
  if (!cpu) throw new TypeError('countInstructions: cpu is required (e.g. arm1176, from the board manifest)');
  if (!program) throw new TypeError('countInstructions: program is required');
  // qemu-arm exits 1 without a word when the program is missing: say it here.
  if (!existsSync(resolve(cwd, program))) throw new QemuPluginError(`no program at ${resolve(cwd, program)}`);
  if (per !== 'insn' && per !== 'tb') throw new TypeError(`countInstructions: per must be 'insn' or 'tb', got ${per}`);
  const plugin = buildInsnPlugin({ qemu });
  const dir = mkdtempSync(join(tmpdir(), 'fieldcam-insns-'));
  const outfile = join(dir, 'count.txt');
  // QEMU splits -plugin arguments at commas and has no escape for them.
  if (plugin.includes(',') || outfile.includes(',')) throw new QemuPluginError(`a path contains a comma: ${plugin} ${outfile}`);
  const pluginArg = [plugin, `outfile=${outfile}`, `count=${per}`];
  if (marker !== undefined) pluginArg.push(`marker=${marker}`);
  // stages: [{ start, size, stage }] address ranges (numbers or bigints); instructions outside them count as rest.
  if (stages !== undefined) {
    const file = join(dir, 'stages.txt');
    writeFileSync(file, stages.map((r) => `${r.start.toString(16)} ${r.size.toString(16)} ${r.stage}\n`).join(''));
    pluginArg.push(`stages=${file}`);
  }
  // stdinFile: the guest's stdin is that regular file, so its reads never block or split by pipe timing (the
  // media-cost bench reads its camera bytes there with native.readInput, as the device reads its camera fd).
  const inputFd = stdinFile === undefined ? undefined : openSync(stdinFile, 'r');
  try {
    const run = await new Promise((resolve, reject) => {
      const child = spawn(qemu, ['-cpu', cpu, '-plugin', pluginArg.join(','), program, ...args], {
        cwd,
        env,
        stdio: [inputFd ?? 'pipe', 'pipe', 'pipe'],
      });
      const out = [];
      const err = [];
      child.stdout.on('data', (c) => out.push(c));
      child.stderr.on('data', (c) => err.push(c));
      child.on('error', reject);
      child.stdin?.on('error', () => {}); // a guest that exits without reading its input is not our failure
      child.on('close', (code, signal) =>
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
      child.stdin?.end(stdin ?? '');
    });
    const text = existsSync(outfile) ? readFileSync(outfile, 'utf8') : '';
    const counts = parseCounts(text);
    if (counts.instructions === undefined) {
      throw new QemuPluginError(`no instruction count from ${qemu} (exit ${run.code ?? run.signal}):\n${run.stderr.trim()}`);
    }
    if (counts.vcpus > 1) {
      throw new QemuPluginError(`${program} ran ${counts.vcpus} guest threads: the counters race, so the count is not exact`);
    }
    const result = { instructions: counts.instructions, ...run };
    if (counts.marked !== undefined) Object.assign(result, { marked: counts.marked, windows: counts.windows });
    if (counts.stages !== undefined) Object.assign(result, { stages: counts.stages });
    return result;
  } finally {
    if (inputFd !== undefined) closeSync(inputFd);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  try {
    if (argv[0] !== 'count') {
      process.stdout.write(`qemu: plugin ready: ${buildInsnPlugin({ log: (l) => process.stdout.write(l) })}\n`);
    } else {
      const options = { cpu: 'arm1176', per: 'insn', marker: undefined };
      let i = 1;
      for (; i < argv.length && argv[i].startsWith('--'); i += 2) {
        const name = argv[i].slice(2);
        if (!(name in options) || argv[i + 1] === undefined) throw new QemuPluginError(`unknown option ${argv[i]}`);
        options[name] = argv[i + 1];
      }
      const [program, ...args] = argv.slice(i);
      if (!program) throw new QemuPluginError('usage: build.mjs count [--cpu C] [--marker NR] [--per insn|tb] PROGRAM [ARG …]');
      const r = await countInstructions({ ...options, program, args, cwd: process.cwd() });
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      process.stdout.write(`@@qemu-insns ${r.instructions}\n`);
      if (r.marked !== undefined) process.stdout.write(`@@qemu-insns-marked ${r.marked} ${r.windows}\n`);
      process.exitCode = r.code ?? 1;
    }
  } catch (err) {
    if (!(err instanceof QemuPluginError)) throw err;
    process.stderr.write(`qemu: ${err.message}\n`);
    process.exitCode = 1;
  }
}
