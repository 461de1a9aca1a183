// Node runner: imports each suite file and runs its registered suites with uvu before the next file, prints the
// slowest files (wall and CPU seconds), and reports the totals on a marker line that toolchain/test.mjs aggregates
// into the final `N passed, N failed` line.
// Usage: node --import tsx test/harness/node.ts [file-or-dir …]   (default: all of test/)
import { closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { nodeCamera } from '../../firmware/boards/node/nodeCamera.ts';
import { nodeStorage } from '../../firmware/boards/node/nodeStorage.ts';
import { setBoardCameraFds, setBoardStorage, setFixtureLoader, takeRegisteredSuites } from './index.ts';

// The AWS SDK warns on Node 20 about releases we do not use (versions are pinned); keep test output clean.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = resolve(import.meta.dirname, '..', '..');
const fixtureDir = join(root, 'test', 'fixtures');
setFixtureLoader((name) => new Uint8Array(readFileSync(join(fixtureDir, name))));
const storageScratch = mkdtempSync(join(tmpdir(), 'fieldcam-storage-'));
setBoardStorage(nodeStorage, storageScratch);
process.on('exit', () => rmSync(storageScratch, { recursive: true, force: true }));
// Camera fds: files and FIFOs in the scratch folder, unlinked once open (the fd keeps them).
let cameraFiles = 0;
setBoardCameraFds({
  camera: (fd) => nodeCamera(fd),
  file(bytes) {
    const path = join(storageScratch, `camera-${cameraFiles++}`);
    writeFileSync(path, bytes);
    const fd = openSync(path, 'r');
    unlinkSync(path);
    return fd;
  },
  pipe() {
    const path = join(storageScratch, `camera-${cameraFiles++}`);
    execFileSync('mkfifo', ['-m', '600', path]);
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    unlinkSync(path);
    return fd;
  },
  write(fd, bytes, offset, length) {
    for (let done = 0; done < length; ) done += writeSync(fd, bytes, offset + done, length - done);
  },
  close: (fd) => closeSync(fd),
});

function collect(path: string, out: string[]): void {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) {
      if (entry === 'node_modules' || entry === 'fixtures' || entry === 'harness') continue;
      collect(join(path, entry), out);
    }
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
}

/**
 * No test may hang the run: one that has not settled after this long fails with a message naming it (the
 * longest suites take about two minutes on a loaded 2-core machine; CI stops a run at 90).
 */
const TEST_TIMEOUT_MS = 8 * 60_000;

function settleWithin<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${TEST_TIMEOUT_MS / 60_000} minutes (a hang)`)), TEST_TIMEOUT_MS);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

const targets = process.argv.slice(2);
const files: string[] = [];
for (const t of targets.length ? targets : [join(root, 'test')]) collect(resolve(t), files);

(globalThis as { UVU_DEFER?: number }).UVU_DEFER = 1;
const uvu = await import('uvu');
const queue = (globalThis as unknown as { UVU_QUEUE: unknown[][] }).UVU_QUEUE;
const counts = { passed: 0, failed: 0, skipped: 0 };
// With FIELDCAM_PASSED_FILE set, the names of passing tests (`<suite> › <test>`, by file) are written there so
// toolchain/test.mjs can check that the XS runs pass exactly the same core tests.
const passedFile = process.env.FIELDCAM_PASSED_FILE;
const passedByFile: Record<string, string[]> = {};

/**
 * CPU seconds this process and its finished children (QEMU, ffmpeg, tsc…) have used: utime, stime, cutime and
 * cstime of /proc/self/stat, in clock ticks of 1/100 s. Beside a file's wall time it tells work from waiting.
 */
function cpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

/** Wall and CPU seconds per file (import, set-ups, tests, clean-ups); the slowest are printed last. */
const costs: { file: string; wall: number; cpu: number }[] = [];
const SLOWEST_SHOWN = 15;
const runStarted = performance.now();
const totals = { tests: 0, ran: 0, skipped: 0 };

// Each file is imported right before its suites run (not every file first, then every suite): what a file starts
// at its top level (clouds, brokers, connections) lives only while its own tests run, so one file's servers and
// timers never wait through, or disturb, the rest of the run.
for (const [index, file] of files.entries()) {
  (globalThis as { UVU_INDEX?: number }).UVU_INDEX = index;
  const name = relative(root, file);
  const wall0 = performance.now();
  const cpu0 = cpuSeconds();
  queue.push([name]);
  await import(pathToFileURL(file).href);
  const passed = (passedByFile[name] = [] as string[]);
  for (const registered of takeRegisteredSuites()) {
    const s = uvu.suite(registered.name);
    // A set-up that throws fails every test of the suite with its error (counted), instead of uvu's own report.
    let setupError: unknown;
    if (registered.before.length > 0) {
      s.before(async () => {
        try {
          for (const fn of registered.before) await settleWithin(Promise.resolve().then(fn), `${registered.name} › (before)`);
        } catch (err) {
          setupError = err;
        }
      });
    }
    for (const t of registered.tests) {
      s(t.name, async () => {
        try {
          if (setupError !== undefined) throw setupError;
          await settleWithin(Promise.resolve().then(t.fn), `${registered.name} › ${t.name}`);
          counts.passed++;
          passed.push(`${registered.name} › ${t.name}`);
        } catch (err) {
          counts.failed++;
          throw err;
        }
      });
    }
    for (const fn of registered.after) s.after(fn);
    s.run();
  }
  // What uvu.exec() does for the whole queue, for this file's group: its name, then each suite's line and failures.
  const group = queue[index]!;
  process.stdout.write(`${index ? '\n' : ''}${String(group.shift())}\n`);
  for (const run of group as (() => Promise<[string | true, number, number, number]>)[]) {
    const [errors, ran, skipped, total] = await run();
    totals.tests += total;
    totals.ran += ran;
    totals.skipped += skipped;
    if (errors !== true) process.stdout.write(`\n${errors}\n`);
  }
  costs.push({ file: name, wall: (performance.now() - wall0) / 1000, cpu: cpuSeconds() - cpu0 });
}

const seconds = (performance.now() - runStarted) / 1000;
process.stdout.write(`\n  Total:     ${totals.tests}\n  Passed:    ${totals.ran}\n  Skipped:   ${totals.skipped}\n  Duration:  ${seconds.toFixed(0)} s\n`);
const slowest = [...costs].sort((a, b) => b.wall - a.wall).slice(0, SLOWEST_SHOWN);
const cpuAll = costs.reduce((sum, c) => sum + c.cpu, 0);
process.stdout.write(
  `\nslowest ${slowest.length} of ${costs.length} files (wall s, CPU s incl. children; ${seconds.toFixed(0)} s wall, ${cpuAll.toFixed(0)} s CPU in all):\n`,
);
for (const c of slowest) process.stdout.write(`${c.wall.toFixed(1).padStart(7)} ${c.cpu.toFixed(1).padStart(7)}  ${c.file}\n`);
if (passedFile) writeFileSync(passedFile, JSON.stringify(passedByFile, null, 1));
process.stdout.write(`@@fieldcam-results ${JSON.stringify(counts)}\n`);
process.exitCode = counts.failed ? 1 : 0;
