// The lint step (toolchain/checks/lint.mjs) fails on each thing it guards and passes a clean tree: a small git tree
// with the project's biome.jsonc is written to a temporary directory and the real check is run on it with --root.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { assert, suite } from '../harness/index.ts';

const test = suite('lint step');
const repo = resolve(import.meta.dirname, '..', '..');
const check = join(repo, 'toolchain', 'checks', 'lint.mjs');
const dirs: string[] = [];

const CLEAN: Record<string, string> = {
  'src/ok.ts': 'export function twice(n: number): number {\n  return n * 2;\n}\n',
  // A long line whose length is a message: string text does not count.
  'src/message.ts': `export const REMEDY =\n  '${'a remedy a user reads next to the message; '.repeat(6)}';\n`,
  // A regular expression literal is a message too.
  'src/match.ts': `export const MATCH =\n  /^${'a remedy a user reads next to the message; '.repeat(5)}$/;\nexport const hit = MATCH.test('');\n`,
  'toolchain/checks/lines.baseline.json': '{ "src/old.ts": 1 }\n',
  // The formatter wraps code but never comments: the width rule is what keeps a comment line short.
  'src/old.ts': `// ${'an old comment written before the rule came in; '.repeat(4).trimEnd()}\nexport const old = 1;\n`,
};

/** Writes `tree` as a git tree with the project's biome.jsonc and runs the check there. */
function runOn(tree: Record<string, string>): { status: number | null; output: string } {
  const root = mkdtempSync(join(tmpdir(), 'fieldcam-lint-'));
  dirs.push(root);
  copyFileSync(join(repo, 'biome.jsonc'), join(root, 'biome.jsonc'));
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  spawnSync('git', ['init', '-q'], { cwd: root });
  spawnSync('git', ['add', '-A'], { cwd: root });
  const r = spawnSync(process.execPath, [check, '--root', root], { encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

test.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a clean tree passes (long string and regex text, and a baselined old line, allowed)', () => {
  const r = runOn(CLEAN);
  assert.is(r.status, 0, r.output);
  assert.ok(/lint: ok/.test(r.output), r.output);
});

test('a Biome rule breach fails (a warning too), naming the rule', () => {
  const r = runOn({ ...CLEAN, 'src/bad.ts': 'export function f(a: number[]): void {\n  a.forEach((x) => a.push(x));\n}\n' });
  assert.is(r.status, 1, r.output);
  assert.ok(/useIterableCallbackReturn/.test(r.output), r.output);
  const unused = runOn({ ...CLEAN, 'src/bad.ts': 'export function f(): number {\n  let n = 1;\n  return n;\n}\n' });
  assert.is(unused.status, 1, unused.output);
  assert.ok(/useConst/.test(unused.output), unused.output);
});

test('a raw control byte fails with its file, line and byte', () => {
  const r = runOn({ ...CLEAN, 'src/ctl.ts': "export const s = 'a\u0001b';\n" });
  assert.is(r.status, 1, r.output);
  assert.ok(/src\/ctl\.ts:1: control byte 0x01/.test(r.output), r.output);
});

test('code not in the house format fails, naming the file', () => {
  const r = runOn({ ...CLEAN, 'src/messy.ts': 'export function f( a:number ):number{ return a*2 }\n' });
  assert.is(r.status, 1, r.output);
  assert.ok(/src\/messy\.ts format/.test(r.output), r.output);
  assert.ok(/npm run format/.test(r.output), r.output);
});

test('a new line over 160 characters fails; one more in a baselined file fails too', () => {
  const long = `// ${'a new comment that nobody wrapped at the width; '.repeat(4).trimEnd()}\n`;
  const r = runOn({ ...CLEAN, 'src/wide.ts': long });
  assert.is(r.status, 1, r.output);
  assert.ok(/src\/wide\.ts: 1 lines over 160/.test(r.output), r.output);
  const grown = runOn({ ...CLEAN, 'src/old.ts': CLEAN['src/old.ts']! + long });
  assert.is(grown.status, 1, grown.output);
  assert.ok(/src\/old\.ts: 2 lines over 160 characters of code \(allowed 1\)/.test(grown.output), grown.output);
});

test.run();
