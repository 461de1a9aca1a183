// fieldcam-runtime --time-scale N (firmware/runtime/clock.c): the test and simulation knob that runs the
// device's clocks N times faster. Judged from the clock readings the runtime reports, bracketed by Node's
// own clock (exact arithmetic, no timing tolerance), and a bound on real time that only an unscaled timer
// could miss by a wide factor.
import { assert, suite } from '../harness/index.ts';
import { runScript } from './support.ts';

const test = suite('fieldcam-runtime: --time-scale N and --time-origin (x86_64)');

test('scale 100: a 10 s timer fires after >= 10 s of scaled monotonic and wall time, in far less than 10 s of real time', async () => {
  const origin = Date.now();
  const before = Date.now();
  const r = await runScript(
    `
native.print("armed " + native.monotonic() + " " + native.now());
native.setTimer(10000);
on[EVENT.TIMER] = () => native.print("fired " + native.monotonic() + " " + native.now());`,
    {
      flags: ['--time-scale', '100', '--time-origin', String(origin)],
    },
  );
  const after = Date.now();
  assert.is(r.status, 0, r.stderr);
  const [armed, fired] = r.lines.map((l) => l.split(' '));
  assert.is(armed?.[0], 'armed', r.stdout);
  assert.is(fired?.[0], 'fired', r.stdout);
  const [m0, w0] = [Number(armed![1]), Number(armed![2])];
  const [m1, w1] = [Number(fired![1]), Number(fired![2])];
  assert.ok(m1 - m0 >= 10000, `scaled monotonic advanced ${m1 - m0} ms, not the timer's 10000`);
  // Wall and monotonic run at the same scaled rate: they agree to within what a few real ms between readings make.
  assert.ok(Math.abs(w1 - w0 - (m1 - m0)) <= 500, `wall advanced ${w1 - w0} ms, monotonic ${m1 - m0} ms`);
  // The wall clock reads origin + (real - origin) * 100 at whatever real instant within the run it was read.
  const scaled = (real: number) => origin + (real - origin) * 100;
  for (const w of [w0, w1]) assert.ok(w >= scaled(before) && w <= scaled(after), `${w} outside [${scaled(before)}, ${scaled(after)}]`);
  // Unscaled, the timer alone would take 10 s of real time; scaled it takes 0.1 s (the bound is 50 times that).
  assert.ok(after - before < 5000, `the run took ${after - before} ms of real time`);
});

test('without --time-origin the scaled wall clock starts at the real clock at boot', async () => {
  const before = Date.now();
  const r = await runScript('native.print(String(native.now()));', { flags: ['--time-scale', '50'] });
  const after = Date.now();
  assert.is(r.status, 0, r.stderr);
  const now = Number(r.lines[0]);
  assert.ok(now >= before && now <= before + (after - before) * 50, `${now} not within [${before}, ${before + (after - before) * 50}]`);
});

test('bad values are refused with exit 2, naming the flag and what it needs', async () => {
  const cases: [string[], string][] = [
    [['--time-scale', '0'], '--time-scale needs a whole number from 1 to 1000'],
    [['--time-scale', '1001'], '--time-scale needs a whole number from 1 to 1000'],
    [['--time-scale', '2.5'], '--time-scale needs a whole number from 1 to 1000'],
    [['--time-scale', 'fast'], '--time-scale needs a whole number from 1 to 1000'],
    [['--time-scale'], '--time-scale needs a whole number from 1 to 1000'],
    [['--time-scale', '10', '--time-origin', '12'], '--time-origin needs epoch milliseconds within a day'],
    [['--time-scale', '10', '--time-origin', 'now'], '--time-origin needs epoch milliseconds within a day'],
    [['--time-origin', String(Date.now())], '--time-origin only means something with --time-scale N above 1'],
  ];
  for (const [flags, message] of cases) {
    const r = await runScript('native.print("ran");', { flags });
    assert.is(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(message), `${flags.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes('usage: '), r.stderr);
    assert.equal(r.lines, [], 'the bundle never ran');
  }
});

test.run();
