// The QEMU instruction-count plugin (toolchain/qemu): counts must be real (they follow the work the guest
// does, instruction for instruction) and stable (identical from run to run). Exact outcomes, never timing.
// Guest programs are compiled here with the armel cross compiler the runtime's armv6 build uses.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadBoardManifest } from '../../host/shared/loadBoardManifest.ts';
import { countInstructions, MARKER_SYSCALL, QemuPluginError, type CountResult } from '../../toolchain/qemu/build.mjs';
import { assert, suite } from '../harness/index.ts';

const test = suite('qemu insncount');
const root = resolve(import.meta.dirname, '..', '..');
const cpu = loadBoardManifest('pi-zero-w').qemuCpu ?? '';
const dir = mkdtempSync(join(tmpdir(), 'fieldcam-insncount-'));

/** Loops N times (N from argv[1], or from stdin when argv[1] is "-") inside a marker window. */
const LOOP_C = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
	char line[32] = "0";
	const char *arg = argc > 1 ? argv[1] : "0";
	if (arg[0] == '-' && !arg[1]) {
		if (!fgets(line, sizeof line, stdin)) return 2;
		arg = line;
	}
	long n = atol(arg);
	volatile unsigned acc = 0;
	syscall(${MARKER_SYSCALL}, 1);
	for (long i = 0; i < n; i++) acc += (unsigned)i;
	syscall(${MARKER_SYSCALL}, 0);
	/* Output that does not depend on N, so only the loop varies with N. */
	fputs("loop done\\n", stdout);
	return 0;
}
`;

/** N guest memory faults, each caught by a SIGSEGV handler in the middle of a translation block. */
const FAULTS_C = `
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
static sigjmp_buf back;
static void onSegv(int sig) { (void)sig; siglongjmp(back, 1); }
int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 0;
	volatile int *unmapped = (volatile int *)16;
	volatile int acc = 0;
	signal(SIGSEGV, onSegv);
	for (int i = 0; i < n; i++)
		if (sigsetjmp(back, 1) == 0) { acc += 1; acc += *unmapped; acc += 2; acc += 3; acc += 4; }
	return 0;
}
`;

const THREADS_C = `
#include <pthread.h>
static void *work(void *arg) { volatile long x = 0; for (long i = 0; i < 1000; i++) x += i; return arg; }
int main(void) {
	pthread_t t;
	pthread_create(&t, 0, work, 0);
	pthread_join(t, 0);
	return 0;
}
`;

/** Compiles a static ARMv6 program the way the runtime's armv6 target is built (ARM state, armel libc). */
function compileArm(name: string, source: string, libs: string[] = []): string {
  const src = join(dir, `${name}.c`);
  const out = join(dir, name);
  writeFileSync(src, source);
  const r = spawnSync('arm-linux-gnueabi-gcc', ['-static', '-O1', '-march=armv6kz', '-marm', '-o', out, src, ...libs], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`arm-linux-gnueabi-gcc failed: ${r.error?.message ?? r.stderr}`);
  return out;
}

let loop: string | undefined;
function loopProgram(): string {
  return (loop ??= compileArm('loop', LOOP_C));
}

async function clean(program: string, args: string[], options: { per?: 'insn' | 'tb'; stdin?: string } = {}): Promise<CountResult> {
  const r = await countInstructions({ cpu, program, args, marker: MARKER_SYSCALL, ...options });
  assert.is(r.code, 0, `${program} ${args.join(' ')} exit code`);
  assert.is(r.stderr, '', 'the guest stderr stays clean');
  return r;
}

test('a loop: identical counts run to run, and the same whole number of instructions per iteration', async () => {
  const program = loopProgram();
  const counts: bigint[] = [];
  const marked: bigint[] = [];
  for (const n of [1000, 2000, 3000]) {
    const first = await clean(program, [String(n)]);
    const second = await clean(program, [String(n)]);
    assert.is(first.instructions, second.instructions, `N=${n}: two runs, same count`);
    assert.is(first.marked, second.marked, `N=${n}: two runs, same marked count`);
    assert.is(first.stdout, 'loop done\n', 'the guest stdout carries only what the guest wrote');
    assert.is(first.windows, 1);
    counts.push(first.instructions);
    marked.push(first.marked ?? -1n);
  }
  const perThousand = counts[1] - counts[0];
  assert.ok(perThousand > 0n, `the count grows with N (${counts.join(', ')})`);
  assert.is(counts[2] - counts[1], perThousand, `linear: ${counts.join(', ')}`);
  assert.is(perThousand % 1000n, 0n, `a whole number of instructions per iteration: ${perThousand} per 1000`);
  // Only the loop depends on N, and it sits inside the window: the window sees every extra instruction.
  assert.is(marked[1] - marked[0], perThousand);
  assert.is(marked[2] - marked[1], perThousand);
  assert.ok(marked[0] < counts[0], 'the window excludes start-up and exit');
});

test("stages: instructions counted by address range add up to the total, and the loop's are all in main", async () => {
  const program = loopProgram();
  const sym = /^([0-9a-f]+) ([0-9a-f]+) T main$/m.exec(spawnSync('arm-linux-gnueabi-nm', ['-S', program], { encoding: 'utf8' }).stdout);
  assert.ok(sym, "main in the test program's symbol table");
  const stages = [{ start: parseInt(sym![1]!, 16), size: parseInt(sym![2]!, 16), stage: 'main' }];
  const runs: CountResult[] = [];
  for (const n of ['1000', '2000']) {
    const r = await countInstructions({ cpu, program, args: [n], stages });
    assert.is(r.code, 0);
    assert.equal(Object.keys(r.stages ?? {}).sort(), ['main', 'rest']);
    assert.is(r.stages!.main! + r.stages!.rest!, r.instructions, `N=${n}: the stages add up to the total`);
    assert.ok(r.stages!.main! > 0n && r.stages!.rest! > 0n, `N=${n}: both stages ran (${r.stages!.main}, ${r.stages!.rest})`);
    runs.push(r);
  }
  // Only the loop in main depends on N: every extra instruction is main's, rest does not move.
  assert.is(runs[1]!.stages!.main! - runs[0]!.stages!.main!, runs[1]!.instructions - runs[0]!.instructions);
  assert.is(runs[1]!.stages!.rest, runs[0]!.stages!.rest);
  // Per-block counting cannot split a block by address: refused by name.
  const refused = await countInstructions({ cpu, program, args: ['1'], stages, per: 'tb' }).then(
    () => 'counted',
    (err: Error) => err.message,
  );
  assert.ok(/stages need count=insn/.test(refused), refused);
});

test('per-block counting agrees with per-instruction counting on code that never leaves a block midway', async () => {
  const program = loopProgram();
  for (const n of ['0', '2500']) {
    const insn = await clean(program, [n]);
    const tb = await clean(program, [n], { per: 'tb' });
    assert.is(tb.instructions, insn.instructions, `N=${n}`);
    assert.is(tb.marked, insn.marked, `N=${n} marked`);
  }
});

test('guest faults: per-instruction counts stay exact and linear, per-block counts overcount', async () => {
  const program = compileArm('faults', FAULTS_C);
  const run = async (n: number, per: 'insn' | 'tb') => {
    const r = await countInstructions({ cpu, program, args: [String(n)], per });
    assert.is(r.code, 0);
    return r.instructions;
  };
  const insn = [await run(10, 'insn'), await run(20, 'insn'), await run(30, 'insn')];
  assert.is(await run(20, 'insn'), insn[1], 'same count run to run');
  assert.ok(insn[1] - insn[0] > 0n);
  assert.is(insn[2] - insn[1], insn[1] - insn[0], `linear in faults: ${insn.join(', ')}`);
  assert.is((insn[1] - insn[0]) % 10n, 0n, 'a whole number of instructions per fault');
  // A block left at the faulting load still added its full length: the instructions after the load.
  assert.ok((await run(20, 'tb')) > insn[1], 'count=tb counts instructions that never ran');
});

test('stdin reaches the guest and leaves the counted loop unchanged', async () => {
  const program = loopProgram();
  const fromArgv = await clean(program, ['1500']);
  const fromStdin = await clean(program, ['-'], { stdin: '1500\n' });
  assert.is(fromStdin.marked, fromArgv.marked);
  assert.is(fromStdin.stdout, 'loop done\n');
});

test('a multi-threaded guest is refused: inline counters race across vCPUs', async () => {
  const program = compileArm('threads', THREADS_C, ['-lpthread']);
  let err: unknown;
  try {
    await countInstructions({ cpu, program });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof QemuPluginError, `expected QemuPluginError, got ${String(err)}`);
  assert.ok(/2 guest threads/.test((err as Error).message), (err as Error).message);
});

/** build/xs/armv6/fieldcam-runtime, built first when missing (npm test has built it already). */
function armRuntime(): string {
  const runtime = join(root, 'build', 'xs', 'armv6', 'fieldcam-runtime');
  if (!existsSync(runtime)) {
    const r = spawnSync(process.execPath, [join(root, 'toolchain', 'xs', 'build.mjs'), 'armv6'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the armv6 runtime failed:\n${r.stderr}`);
  }
  return runtime;
}

test('fieldcam-runtime (armv6): --version and a JS loop count identically run to run, per iteration exactly', async () => {
  const runtime = armRuntime();
  const a = await countInstructions({ cpu, program: runtime, args: ['--version'] });
  const b = await countInstructions({ cpu, program: runtime, args: ['--version'] });
  assert.is(a.code, 0);
  assert.ok(a.stdout.startsWith('fieldcam-runtime '), a.stdout);
  assert.is(a.stderr, '');
  assert.is(a.instructions, b.instructions, '--version: two runs, same count');

  const bundle = join(dir, 'loop.js');
  writeFileSync(bundle, 'let s = 0;\nconst n = Number(native.argv[0]);\nfor (let i = 0; i < n; i++) s = (s + i) | 0;\n');
  const counts: bigint[] = [];
  for (const n of ['1000', '2000', '3000', '3000']) {
    const r = await countInstructions({ cpu, program: runtime, args: [bundle, n] });
    assert.is(r.code, 0, r.stderr);
    assert.is(r.stdout + r.stderr, '');
    counts.push(r.instructions);
  }
  assert.is(counts[3], counts[2], 'the XS run: two runs, same count');
  const perThousand = counts[1] - counts[0];
  assert.ok(perThousand > 0n);
  assert.is(counts[2] - counts[1], perThousand, `linear: ${counts.join(', ')}`);
  assert.is(perThousand % 1000n, 0n, `${perThousand} ARM instructions per 1000 JS iterations`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
