// `npm test`'s lint step: Biome's formatter and linter (`biome ci`: settings, rules and reasons in biome.jsonc;
// warnings fail too; `npm run format` rewrites the tree to the house format) over every source file, then the text
// rules Biome has no rule for, over every tracked text file:
//  - no control bytes but tab and line feed (a raw NUL made git treat toolchain/xs/suites.mjs as binary);
//  - in TypeScript/JavaScript, a line of code or comment is at most MAX_WIDTH characters (Markdown tables may be
//    wider). Text inside string literals does not count (an error remedy or a URL split mid-sentence is harder to
//    find); lines.baseline.json lists how many longer lines each file had when the rule came in, and a file may not
//    have more (fix them as files are touched; lower its count then).
// Usage: node toolchain/checks/lint.mjs [--update-baseline] [--root DIR] (DIR: another git tree with its own
// biome.jsonc and baseline; test/toolchain/lint.test.ts). Prints `lint: ok` or each problem; exit 1 on any.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? process.argv[rootArg + 1] : repo;
const MAX_WIDTH = 160;
const TEXT = /\.(ts|mjs|js|jsonc?|md|c|h|sh|html|css|ya?ml|txt)$|(^|\/)(Makefile|setup|run)$/;
const CODE = /\.(ts|mjs|js)$/;
const baselineFile = join(root, 'toolchain', 'checks', 'lines.baseline.json');
const problems = [];

// ── Biome ──
let biome;
try {
  biome = join(dirname(createRequire(join(repo, 'package.json')).resolve('@biomejs/biome/package.json')), 'bin', 'biome');
} catch {
  problems.push('@biomejs/biome is not installed: run `npm ci` (npm test does it through toolchain/ensure-deps.mjs)');
}
if (biome) {
  const r = spawnSync(process.execPath, [biome, 'ci', '--error-on-warnings', '--max-diagnostics=50', '--colors=off', '.'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) problems.push(`biome ci (run \`npm run format\` for format problems):\n${r.stdout}${r.stderr}`);
}

// ── text rules ──
const files = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
  .stdout.split('\0')
  .filter((f) => TEXT.test(f));
// A string literal on one line: '…', "…" or `…` with escapes (a template's ${…} counts as string here: rare and short),
// or a regular expression literal after an operator, an opening bracket or at the start of a line (the message a test
// matches).
const LITERAL =
  /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\\n]|\\.)*`|(?<=(?:[(,=:[!&|?{};]|^)\s*)\/(?![/*])(?:[^/\\\n[]|\\.|\[(?:[^\]\\\n]|\\.)*\])+\/[a-z]*/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

/** Characters of `line` that count against MAX_WIDTH: all of a comment, code less the insides of string literals. */
function width(line) {
  if (/^\s*(\/\/|\/?\*)/.test(line)) return line.length;
  let inside = 0;
  for (const m of line.matchAll(LITERAL)) inside += m[0].length - 2;
  return line.length - inside;
}

const over = {};
for (const file of files) {
  let text;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch {
    continue; // deleted in the work tree, not yet in the index
  }
  const code = CODE.test(file);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const bad = CONTROL.exec(line);
    if (bad) problems.push(`${file}:${i + 1}: control byte 0x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')} (write it as an escape)`);
    if (code && line.length > MAX_WIDTH && width(line) > MAX_WIDTH) over[file] = (over[file] ?? 0) + 1;
  }
}

if (process.argv.includes('--update-baseline')) {
  const sorted = Object.fromEntries(Object.entries(over).sort(([a], [b]) => (a < b ? -1 : 1)));
  writeFileSync(baselineFile, `${JSON.stringify(sorted, null, 1)}\n`);
  process.stdout.write(`lint: ${baselineFile} lists ${Object.keys(sorted).length} files\n`);
}
const baseline = JSON.parse(readFileSync(baselineFile, 'utf8'));
for (const [file, count] of Object.entries(over)) {
  const allowed = baseline[file] ?? 0;
  if (count > allowed) {
    problems.push(
      `${file}: ${count} lines over ${MAX_WIDTH} characters of code (allowed ${allowed}); wrap the new ones ` +
        '(or, for lines merged from elsewhere, count them: node toolchain/checks/lint.mjs --update-baseline)',
    );
  }
}

if (problems.length) {
  process.stdout.write(`${problems.join('\n')}\nlint: ${problems.length} problem(s)\n`);
  process.exitCode = 1;
} else {
  const left = Object.values(over).reduce((a, b) => a + b, 0);
  process.stdout.write(`lint: ok (biome format + lint, control bytes, width; ${left} older lines over ${MAX_WIDTH} in lines.baseline.json)\n`);
}
