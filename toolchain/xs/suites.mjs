// The XS part of `npm test`: build the runtime for x86_64, armv6, armv7 and aarch64, bundle the core suites, run
// them in fieldcam-runtime natively and under `qemu-arm -cpu arm1176` (test.mjs starts the emulated run first,
// alongside the Node suites, since it is the long one), a smoke set of them under `qemu-aarch64 -cpu cortex-a53`,
// and compare the names of the passing tests with the Node run's. Used by toolchain/test.mjs; the group results come back as
// data, the caller prints and counts them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { bundleCoreTests } from './bundleTests.mjs';
import { buildRuntime, MAX_SHIPPED_RUNTIME_BYTES, QEMU_USER } from './build.mjs';

const root = join(import.meta.dirname, '..', '..');
const outDir = join(root, 'build', 'xs');

/**
 * Iteration scale under QEMU (test/harness/index.ts `scaled()`/`stride()`): the fuzz loops and the
 * "every cut point" loops run a tenth of their iterations there; Node and native XS run them in full.
 */
export const QEMU_SCALE = 0.1;

/**
 * The core suites run under qemu-aarch64 (every one would take the emulated aarch64 run past 15 minutes on 2
 * cores): the ones that reach the C natives (byte scans, hashes, the ACK walk and read) and the code where a 64-bit build could differ
 * (pointer-sized slots, integer and BigInt paths, DataView, UTF-8), all at QEMU_SCALE. Left out for time:
 * H264Reader (116 s) and EbmlReader (53 s) took 80% of a first 12-file set's 207 s on a loaded machine.
 */
export const AARCH64_SMOKE_FILES = Object.freeze([
  'test/firmware/core/cbor/decodeCbor.test.ts',
  'test/firmware/core/cbor/encodeCbor.test.ts',
  'test/firmware/core/h264/AnnexBScanner.test.ts',
  'test/firmware/core/h264/BitReader.test.ts',
  'test/firmware/core/kvs/followAck.test.ts',
  'test/firmware/core/mjpeg/JpegScanner.scanPort.test.ts',
  'test/firmware/core/mkv/MkvWriter.test.ts',
  'test/firmware/core/pool/FramePool.test.ts',
  'test/firmware/core/sigv4/SigV4Signer.test.ts',
  'test/firmware/core/sigv4/softHash.test.ts',
  'test/firmware/core/mqtt/MqttDecoder.test.ts',
  'test/firmware/core/text/utf8.test.ts',
]);

/** Why the XS groups cannot run here, or undefined when the tools are present. */
export function missingTools() {
  const need = ['make', 'gcc', 'arm-linux-gnueabi-gcc', 'arm-linux-gnueabihf-gcc', 'aarch64-linux-gnu-gcc', 'qemu-arm', 'qemu-aarch64'];
  const missing = need.filter((cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0);
  return missing.length ? `missing ${missing.join(', ')} (run toolchain/setup as root)` : undefined;
}

/** Builds every runtime and the suite bundles; throws with the reason. Returns the runtime and bundle paths. */
export async function prepare(log) {
  const started = Date.now();
  const runtimes = Object.fromEntries(['x86_64', 'armv6', 'armv7', 'aarch64'].map((arch) => [arch, buildRuntime(arch, { log })]));
  const { outfile, files } = await bundleCoreTests();
  const smoke = await bundleCoreTests({ files: [...AARCH64_SMOKE_FILES], name: 'core-smoke' });
  log(
    `xs: runtimes and bundles of ${files.length} core suite files (${smoke.files.length} in the aarch64 smoke set) ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return { runtimes, bundle: outfile, smokeBundle: smoke.outfile };
}

/**
 * When a group counts as hung and is killed: far beyond the emulated group's time on an idle 2-core machine, since
 * on a loaded one (helpers sharing it) 900 s cut a healthy armv6 run short; CI itself stops a run at 90 minutes.
 */
const GROUP_HANG_SECONDS = 1800;

/**
 * Runs one XS group to completion. Resolves to { name, counts?, passed: Set, output, code, seconds } where
 * counts come from the `@@fieldcam-results` marker (absent if the runtime died before printing it).
 */
export function runGroup(name, arch, command, args, timeoutSeconds = GROUP_HANG_SECONDS) {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    // A hung suite (no event loop yet, so only an endless loop) must not hang `npm test`.
    const timer = setTimeout(() => {
      err += `killed after ${timeoutSeconds} s\n`;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.stdout.on('data', (c) => (out += c.toString('utf8')));
    child.stderr.on('data', (c) => (err += c.toString('utf8')));
    child.on('error', (e) => (err += `${e.message}\n`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lines = out.split('\n');
      const marker = lines.find((l) => l.startsWith('@@fieldcam-results '));
      const counts = marker ? JSON.parse(marker.slice('@@fieldcam-results '.length)) : undefined;
      const passed = new Set(lines.filter((l) => l.startsWith('ok ')).map((l) => l.slice(3)));
      const log = join(outDir, `results-${arch}.txt`);
      writeFileSync(log, out + (err ? `\n--- stderr\n${err}` : ''));
      done({
        name,
        counts,
        passed,
        // What the caller echoes: failures, the cost summary, the slowest suites and stderr; every `ok` line is in
        // the log file.
        output: [...lines.filter((l) => l.startsWith('FAIL ') || l.startsWith('# xs total')), ...slowestSuites(lines)].join('\n'),
        stderr: err.trim(),
        code: code ?? signal,
        seconds: (Date.now() - started) / 1000,
        log: relative(root, log),
      });
    });
  });
}

const SLOWEST_SHOWN = 5;

/** The `# xs <suite>: N computrons, M ms` lines of the slowest suites, slowest first. */
function slowestSuites(lines) {
  const costs = lines.map((l) => /^# xs (.*): \d+ computrons, (\d+) ms$/.exec(l)).filter(Boolean);
  const top = costs.sort((a, b) => Number(b[2]) - Number(a[2])).slice(0, SLOWEST_SHOWN);
  return top.length
    ? [`slowest ${top.length} of ${costs.length} suites:`, ...top.map((m) => `${(Number(m[2]) / 1000).toFixed(1).padStart(7)} s  ${m[1]}`)]
    : [];
}

export const GROUPS = Object.freeze({
  native: 'XS x86_64',
  qemu: 'XS armv6 (qemu-arm -cpu arm1176)',
  aarch64: 'XS aarch64 smoke set (qemu-aarch64 -cpu cortex-a53)',
});

export function runNative({ runtimes, bundle }) {
  return runGroup(GROUPS.native, 'x86_64', runtimes.x86_64, [relative(root, bundle)]);
}

export function runQemu({ runtimes, bundle }) {
  const args = ['-cpu', 'arm1176', runtimes.armv6, relative(root, bundle), '--scale', String(QEMU_SCALE)];
  return runGroup(GROUPS.qemu, 'armv6', 'qemu-arm', args);
}

export function runAarch64Smoke({ runtimes, smokeBundle }) {
  const args = ['-cpu', 'cortex-a53', runtimes.aarch64, relative(root, smokeBundle), '--scale', String(QEMU_SCALE)];
  return runGroup(GROUPS.aarch64, 'aarch64', QEMU_USER.aarch64, args);
}

/**
 * What ships: each cross-built runtime static, stripped (no .symtab: `readelf -S` reads any architecture's
 * ELF) and at most MAX_SHIPPED_RUNTIME_BYTES with mbedTLS. Returns [{ name, problem? }].
 */
export function shippedSizeChecks(runtimes) {
  return Object.keys(QEMU_USER).map((arch) => {
    const path = runtimes[arch];
    const name = `${arch}: the shipped runtime is static, stripped and at most ${MAX_SHIPPED_RUNTIME_BYTES} bytes`;
    if (!path) return { name, problem: 'not built' };
    const bytes = statSync(path).size;
    const r = spawnSync('readelf', ['-S', '-l', '-W', path], { encoding: 'utf8' });
    const problems = [
      r.status !== 0 ? `readelf failed: ${(r.stderr ?? '').trim()}` : '',
      /\.symtab\b/.test(r.stdout) ? 'it has a symbol table (not stripped)' : '',
      /\bINTERP\b|\bDYNAMIC\b/.test(r.stdout) ? 'it is dynamically linked' : '',
      bytes > MAX_SHIPPED_RUNTIME_BYTES ? `${bytes} bytes` : '',
    ].filter(Boolean);
    return { name: `${name} (${bytes})`, problem: problems.length ? problems.join('; ') : undefined };
  });
}

/**
 * The runtime's own contract, on one target: `--version`, named errors and exit codes for bad bundles
 * (runtime.h), a fatal unhandled rejection, and the patched unaligned BigInt64 DataView getter. Returns
 * [{ name, problem? }]; `prefix` runs the binary under QEMU when given.
 */
export function runtimeChecks(arch, runtime, prefix = []) {
  const dir = join(outDir, 'checks');
  mkdirSync(dir, { recursive: true });
  const file = (name, text) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const exec = (args) => {
    const [cmd, ...rest] = [...prefix, runtime, ...args];
    const r = spawnSync(cmd, rest, { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, signal: r.signal, out: r.stdout ?? '', err: r.stderr ?? '' };
  };
  const cases = [
    ['--version names the version, engine and target', ['--version'], 0, (r) => r.out.includes(`target ${arch}`) && r.out.includes('XS 13.3.0')],
    ['a missing bundle is BUNDLE_UNREADABLE, exit 3', [join(dir, 'missing.js')], 3, (r) => r.err.includes('BUNDLE_UNREADABLE')],
    ['an empty bundle is BUNDLE_EMPTY, exit 3', [file('empty.js', '')], 3, (r) => r.err.includes('BUNDLE_EMPTY')],
    ['a binary bundle is BUNDLE_INVALID, exit 4', [file('binary.js', '\x00\x01\x02garbage')], 4, (r) => r.err.includes('BUNDLE_INVALID')],
    ['a bundle that does not parse is BUNDLE_INVALID, exit 4', [file('syntax.js', 'let x = ;')], 4, (r) => r.err.includes('BUNDLE_INVALID: SyntaxError')],
    ['an uncaught exception exits 1 and prints it', [file('throw.js', 'throw new RangeError("top")')], 1, (r) => r.err.includes('RangeError: top')],
    ['an unhandled rejection is fatal, exit 5', [file('reject.js', 'Promise.reject(new TypeError("boom"))')], 5, (r) => r.err.includes('TypeError: boom')],
    [
      'the heap limit ends the machine cleanly, exit 6',
      [file('memory.js', 'const a = []; for (;;) a.push(new ArrayBuffer(1 << 20));')],
      6,
      (r) => r.err.includes('OUT_OF_MEMORY: the JS heap reached its limit of 67108864 bytes'),
    ],
    [
      'runaway recursion is a stack overflow, exit 7',
      [file('stack.js', 'function f() { return f() + 1; } f();')],
      7,
      (r) => r.err.includes('JS stack overflow'),
    ],
    [
      'promise jobs are drained before exit',
      [file('jobs.js', '(async () => { await null; await null; native.print("drained"); })()')],
      0,
      (r) => r.out === 'drained\n',
    ],
    [
      'unaligned BigInt64/Float64 DataView access reads all 8 bytes (patched getters)',
      [
        file(
          'unaligned.js',
          [
            'const v = new DataView(new ArrayBuffer(24));',
            'v.setBigUint64(3, 0x1122334455667788n, true); v.setFloat64(13, Math.PI, false);',
            'native.print([v.getBigUint64(3, true).toString(16), v.getBigInt64(3, false).toString(16), v.getFloat64(13, false)].join(" "));',
          ].join('\n'),
        ),
      ],
      0,
      (r) => r.out === `1122334455667788 -778899aabbccddef ${Math.PI}\n`,
    ],
  ];
  return cases.map(([name, args, code, ok]) => {
    const r = exec(args);
    const good = r.code === code && !r.signal && ok(r);
    return {
      name: `${arch}: ${name}`,
      problem: good ? undefined : `exit ${r.code ?? r.signal}; stdout ${JSON.stringify(r.out.slice(0, 200))}; stderr ${JSON.stringify(r.err.slice(0, 200))}`,
    };
  });
}

/** Names of the tests that passed on Node in the core suite files (test/firmware/, or just `only`), from node.ts's file. */
export function nodeCorePassed(file, only) {
  if (!existsSync(file)) return undefined;
  const byFile = JSON.parse(readFileSync(file, 'utf8'));
  const wanted = (f) => (only ? only.includes(f) : f.startsWith('test/firmware/'));
  return new Set(
    Object.entries(byFile)
      .filter(([f]) => wanted(f))
      .flatMap(([, names]) => names),
  );
}

/** Differences between two sets of test names, as printable lines (empty when equal). */
export function compareNames(expected, actual, expectedLabel, actualLabel) {
  const lines = [];
  for (const n of expected) if (!actual.has(n)) lines.push(`passes on ${expectedLabel}, not on ${actualLabel}: ${n}`);
  for (const n of actual) if (!expected.has(n)) lines.push(`passes on ${actualLabel}, not on ${expectedLabel}: ${n}`);
  return lines;
}
