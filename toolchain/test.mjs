// `npm test`: system packages, type-check, dependency rule, lint, then every suite on Node and, beside it on the
// second core, the core suites inside XS under qemu-arm, natively, and a smoke set of them under qemu-aarch64
// (toolchain/xs/suites.mjs). Prints one line per step, the time per step and, last, `N passed, N failed` (tests
// plus checks). Exit status is non-zero when anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as xs from './xs/suites.mjs';

const root = join(import.meta.dirname, '..');
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];
/** Seconds each step took, printed at the end so the costly steps are visible in every run's log. */
const stepSeconds = [];
const runStarted = Date.now();
function timedStep(name, started) {
  stepSeconds.push([name, (Date.now() - started) / 1000]);
}

function step(name, command, args) {
  process.stdout.write(`\n── ${name}\n`);
  const started = Date.now();
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  timedStep(name, started);
  if (r.status === 0) totals.passed++;
  else {
    totals.failed++;
    failures.push(name);
  }
  return r.status === 0;
}

/** Runs a suite process, echoing its output and reading its `@@fieldcam-results` marker. */
function suites(name, args, env = {}) {
  process.stdout.write(`\n── ${name}\n`);
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let counts;
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const m = /^@@fieldcam-results (.*)$/.exec(line);
        if (m) counts = JSON.parse(m[1]);
        else process.stdout.write(line + '\n');
      }
    });
    child.on('close', (code) => {
      timedStep(name, started);
      if (buffered) process.stdout.write(buffered);
      if (!counts) {
        // The runner died before reporting: count the whole group as one failure.
        totals.failed++;
        failures.push(`${name} (runner exited ${code} without results)`);
      } else {
        totals.passed += counts.passed;
        totals.failed += counts.failed;
        totals.skipped += counts.skipped;
        if (counts.failed) failures.push(`${name}: ${counts.failed} failed`);
      }
      done();
    });
  });
}

const setupOk = step('system packages (toolchain/setup)', join(root, 'toolchain', 'setup'), []);
step('type-check (tsc --noEmit)', process.execPath, [join(root, 'toolchain', 'typecheck.mjs')]);
step('dependency rule', process.execPath, [join(root, 'toolchain', 'checks', 'deps.mjs')]);
step('lint (biome.jsonc; control bytes, line width)', process.execPath, [join(root, 'toolchain', 'checks', 'lint.mjs')]);
const nodePassedFile = join(root, 'build', 'node-passed.json');
mkdirSync(join(root, 'build'), { recursive: true });
rmSync(nodePassedFile, { force: true }); // never compare with a previous run's names

/**
 * The same core suites inside XS (x86_64 natively, armv6 under QEMU, the aarch64 smoke set). Built first; the
 * groups then run as jobs of the two-lane pool below, beside the Node suites. When the toolchain is missing the
 * groups count as failed with the reason: never skipped silently.
 */
async function prepareXs() {
  process.stdout.write('\n── XS runtime: engine + host build (x86_64, armv6, armv7, aarch64), core suite bundles\n');
  const missing = xs.missingTools();
  if (missing) return { reason: missing };
  try {
    const started = Date.now();
    const prepared = await xs.prepare((line) => process.stdout.write(line));
    timedStep('XS runtimes and bundles', started);
    return { prepared };
  } catch (err) {
    return { reason: `build failed: ${err.message}` };
  }
}

/** Lanes: the machine's two cores (CI has 2). Each job is one process that keeps about one core busy. */
const LANES = 2;

/**
 * Runs the jobs, longest first, at most LANES at a time: a lane that finishes takes the next job at once, so no
 * core idles while work is left (before, the native and aarch64 groups waited for the Node suites to end even
 * when the emulated group had long finished). Resolves with the results in job order.
 */
async function runLanes(jobs) {
  const results = [];
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return results;
}

async function finishXs(started) {
  if (started.reason) {
    for (const g of Object.values(xs.GROUPS)) {
      totals.failed++;
      failures.push(`${g} not run: ${started.reason}`);
    }
    process.stdout.write(`\n── XS suites not run: ${started.reason}\n`);
    return;
  }
  const nodePassed = xs.nodeCorePassed(nodePassedFile);
  process.stdout.write('\n── runtime contract (version, bad bundles, exit codes, unaligned DataView) on x86_64, armv6 and aarch64; shipped sizes\n');
  const { runtimes } = started.prepared;
  const checks = [
    ...xs.runtimeChecks('x86_64', runtimes.x86_64),
    ...xs.runtimeChecks('armv6', runtimes.armv6, ['qemu-arm', '-cpu', 'arm1176']),
    ...xs.runtimeChecks('aarch64', runtimes.aarch64, ['qemu-aarch64', '-cpu', 'cortex-a53']),
    ...xs.shippedSizeChecks(runtimes),
  ];
  for (const c of checks) {
    if (c.problem) {
      totals.failed++;
      failures.push(`runtime ${c.name}`);
      process.stdout.write(`FAIL ${c.name}: ${c.problem}\n`);
    } else totals.passed++;
  }
  process.stdout.write(`${checks.filter((c) => !c.problem).length} of ${checks.length} passed\n`);
  for (const r of started.results) {
    stepSeconds.push([r.name, r.seconds]);
    process.stdout.write(`\n── core suites in ${r.name} (${r.seconds.toFixed(0)} s; every test line in ${r.log})\n`);
    if (r.output) process.stdout.write(`${r.output}\n`);
    if (r.stderr) process.stdout.write(`${r.stderr}\n`);
    if (!r.counts) {
      totals.failed++;
      failures.push(`${r.name} (runtime exited ${r.code} without results)`);
      continue;
    }
    process.stdout.write(`${r.counts.passed} passed, ${r.counts.failed} failed\n`);
    totals.passed += r.counts.passed;
    totals.failed += r.counts.failed;
    totals.skipped += r.counts.skipped;
    if (r.counts.failed) failures.push(`${r.name}: ${r.counts.failed} failed`);
    // The check: exactly the core tests that pass on Node pass inside XS.
    const expected = r.name === xs.GROUPS.aarch64 ? xs.nodeCorePassed(nodePassedFile, xs.AARCH64_SMOKE_FILES) : nodePassed;
    const diff = expected ? xs.compareNames(expected, r.passed, 'Node', r.name) : ['no Node results to compare with'];
    if (diff.length === 0) {
      totals.passed++;
      process.stdout.write(`same ${r.passed.size} passing core tests as on Node\n`);
    } else {
      totals.failed++;
      failures.push(`${r.name} does not pass the same core tests as Node: ${diff.length} difference(s)`);
      process.stdout.write(`${diff.slice(0, 30).join('\n')}${diff.length > 30 ? `\n… ${diff.length - 30} more` : ''}\n`);
    }
  }
}

if (setupOk) {
  const xsPrepared = await prepareXs();
  const nodeSuites = () =>
    suites('suites on Node (uvu)', ['--import', 'tsx', join(root, 'test', 'harness', 'node.ts')], {
      FIELDCAM_PASSED_FILE: nodePassedFile,
    });
  if (xsPrepared.reason) {
    await nodeSuites();
    await finishXs(xsPrepared);
  } else {
    const p = xsPrepared.prepared;
    process.stdout.write('core suites in XS run beside the Node suites (armv6 under qemu-arm first); their results after the Node suites\n');
    const [, ...results] = await runLanes([nodeSuites, () => xs.runQemu(p), () => xs.runNative(p), () => xs.runAarch64Smoke(p)]);
    await finishXs({ prepared: p, results });
  }
} else {
  totals.failed++;
  failures.push('suites not run: system packages missing');
  await finishXs({ reason: 'system packages missing (toolchain/setup)' });
}

// Steps overlap (the emulated XS run goes alongside the Node suites), so they add up to more than the total.
process.stdout.write(`\n── time per step (${((Date.now() - runStarted) / 1000).toFixed(0)} s in all; steps overlap)\n`);
for (const [name, seconds] of stepSeconds) process.stdout.write(`${seconds.toFixed(0).padStart(5)} s  ${name}\n`);

if (failures.length) {
  process.stdout.write(`\nfailed:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
}
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed${skipped}\n`);
process.exitCode = totals.failed ? 1 : 0;
