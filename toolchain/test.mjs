// `npm test`: system packages, type-check, dependency rule, then every suite. Prints one line per step
// and, last, `N passed, N failed` (tests plus checks). Exit status is non-zero when anything failed.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function step(name, command, args) {
  process.stdout.write(`\n── ${name}\n`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.status === 0) totals.passed++;
  else {
    totals.failed++;
    failures.push(name);
  }
  return r.status === 0;
}

/** Runs a suite process, echoing its output and reading its `@@fieldcam-results` marker. */
function suites(name, args) {
  process.stdout.write(`\n── ${name}\n`);
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
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
if (setupOk) {
  await suites('suites on Node (uvu)', ['--import', 'tsx', join(root, 'test', 'harness', 'node.ts')]);
} else {
  totals.failed++;
  failures.push('suites not run: system packages missing');
}

if (failures.length) {
  process.stdout.write(`\nfailed:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
}
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed${skipped}\n`);
process.exitCode = totals.failed ? 1 : 0;
