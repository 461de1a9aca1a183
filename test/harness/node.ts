// Node runner: imports suite files, hands every registered suite to uvu, and reports the totals on a
// marker line that toolchain/test.mjs aggregates into the final `N passed, N failed` line.
// Usage: node --import tsx test/harness/node.ts [file-or-dir …]   (default: all of test/)
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { nodeStorage } from '../../firmware/boards/node/nodeStorage.ts';
import { setBoardStorage, setFixtureLoader, takeRegisteredSuites } from './index.ts';

// The AWS SDK warns on Node 20 about releases we do not use (versions are pinned); keep test output clean.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = resolve(import.meta.dirname, '..', '..');
const fixtureDir = join(root, 'test', 'fixtures');
setFixtureLoader((name) => new Uint8Array(readFileSync(join(fixtureDir, name))));
const storageScratch = mkdtempSync(join(tmpdir(), 'fieldcam-storage-'));
setBoardStorage(nodeStorage, storageScratch);
process.on('exit', () => rmSync(storageScratch, { recursive: true, force: true }));

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
 * Milliseconds each file spent (its import, set-ups, tests and clean-ups; the runner goes one test at a time, so
 * the sums do not overlap). The slowest are printed last, so whoever makes the run longer sees it.
 */
const msByFile = new Map<string, number>();
async function timed<T>(file: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    msByFile.set(file, (msByFile.get(file) ?? 0) + performance.now() - t0);
  }
}
const SLOWEST_SHOWN = 15;
const runStarted = performance.now();

for (const [index, file] of files.entries()) {
  (globalThis as { UVU_INDEX?: number }).UVU_INDEX = index;
  const name = relative(root, file);
  queue.push([name]);
  await timed(name, () => import(pathToFileURL(file).href));
  const passed = (passedByFile[name] = [] as string[]);
  for (const registered of takeRegisteredSuites()) {
    const s = uvu.suite(registered.name);
    // A set-up that throws fails every test of the suite with its error (counted), instead of uvu's own report.
    let setupError: unknown;
    if (registered.before.length > 0) {
      s.before(async () => {
        try {
          for (const fn of registered.before) {
            await timed(name, () => settleWithin(Promise.resolve().then(fn), `${registered.name} › (before)`));
          }
        } catch (err) {
          setupError = err;
        }
      });
    }
    for (const t of registered.tests) {
      s(t.name, async () => {
        try {
          if (setupError !== undefined) throw setupError;
          await timed(name, () => settleWithin(Promise.resolve().then(t.fn), `${registered.name} › ${t.name}`));
          counts.passed++;
          passed.push(`${registered.name} › ${t.name}`);
        } catch (err) {
          counts.failed++;
          throw err;
        }
      });
    }
    for (const fn of registered.after) s.after(() => timed(name, async () => fn()));
    s.run();
  }
}

await uvu.exec(false);
const slowest = [...msByFile].sort((a, b) => b[1] - a[1]).slice(0, SLOWEST_SHOWN);
process.stdout.write(`\nslowest ${slowest.length} of ${msByFile.size} files (${((performance.now() - runStarted) / 1000).toFixed(0)} s in all):\n`);
for (const [file, ms] of slowest) process.stdout.write(`${(ms / 1000).toFixed(1).padStart(7)} s  ${file}\n`);
if (passedFile) writeFileSync(passedFile, JSON.stringify(passedByFile, null, 1));
process.stdout.write(`@@fieldcam-results ${JSON.stringify(counts)}\n`);
