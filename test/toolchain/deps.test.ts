// The dependency rule (toolchain/checks/deps.mjs) rejects a wrong import of each of its rules and accepts the
// right ones: a small tree is written to a temporary directory and the real check is run on it with --root.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { assert, suite } from '../harness/index.ts';

const test = suite('dependency rule');
const check = resolve(import.meta.dirname, '..', '..', 'toolchain', 'checks', 'deps.mjs');
const dirs: string[] = [];

/** Writes `tree` (path → source) under a fresh directory and runs the check there. */
function runOn(tree: Record<string, string>): { status: number | null; output: string } {
  const root = mkdtempSync(join(tmpdir(), 'fieldcam-deps-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const r = spawnSync(process.execPath, [check, '--root', root], { encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

/** Every import here is allowed; each wrong case below adds one file to it. */
const ALLOWED: Record<string, string> = {
  'firmware/io/Clock.ts': 'export interface ClockPort { now(): number }\n',
  'firmware/io/Board.ts': "import type { ClockPort } from './Clock.ts';\nexport interface Board { clock: ClockPort }\n",
  'firmware/core/errors.ts': 'export class FieldcamError extends Error {}\n',
  'firmware/core/use.ts': "import type { ClockPort } from '../io/Clock.ts';\nimport { FieldcamError } from './errors.ts';\n",
  'firmware/boards/xs/xsBoard.ts':
    "import type { Board } from '../../io/Board.ts';\nimport { FieldcamError } from '../../core/errors.ts';\nimport './native.ts';\n",
  'firmware/boards/xs/native.ts': 'export {};\n',
  'firmware/boards/node/nodeBoard.ts': "import { readFileSync } from 'node:fs';\nimport type { Board } from '../../io/Board.ts';\n",
  'firmware/app/main.ts': "import { xsBoard } from '../boards/xs/xsBoard.ts';\nimport type { Board } from '../io/Board.ts';\n",
  'host/shared/writeFileAtomic.ts': "import { writeFileSync } from 'node:fs';\nimport { FieldcamError } from '../../firmware/core/errors.ts';\n",
  'host/lib/tool.ts': "import { writeFileAtomic } from '../shared/writeFileAtomic.ts';\n",
  'host/cli/sim.ts': "import { bootBoard } from '../../sim/index.ts';\nimport { tool } from '../lib/tool.ts';\n",
  'sim/index.ts': "export { bootBoard } from './board/bootBoard.ts';\n",
  'sim/board/bootBoard.ts': "import { writeFileAtomic } from '../../host/shared/writeFileAtomic.ts';\n",
  'test/firmware/core/a.test.ts': "import { suite } from '../../harness/index.ts';\nimport { FieldcamError } from '../../../firmware/core/errors.ts';\n",
};

/** One wrong import per rule: the file that makes it, its source, and the words of the rule it breaks. */
const WRONG: ReadonlyArray<readonly [string, string, string]> = [
  ['firmware/io/Socket.ts', "import type { ViewList } from '../core/media/ViewList.ts';\n", 'firmware/io holds the port contracts'],
  ['firmware/io/Timer.ts', "import type { Board } from '../app/Board.ts';\n", 'firmware/io holds the port contracts'],
  ['firmware/core/x.ts', "import { Clock } from '../io/Clock.ts';\n", 'firmware/core may import only firmware/core and firmware/io types'],
  ['firmware/core/y.ts', "import { main } from '../app/main.ts';\n", 'firmware/core may import only'],
  [
    'firmware/boards/xs/bad.ts',
    "import type { Board } from '../../app/Board.ts';\n",
    'a board may import only firmware/io, firmware/core and its own directory',
  ],
  ['firmware/boards/xs/other.ts', "import { nodeBoard } from '../node/nodeBoard.ts';\n", 'a board may import only'],
  ['firmware/boards/xs/pkg.ts', "import { readFileSync } from 'node:fs';\n", 'only firmware/boards/node may use node:'],
  ['firmware/app/up.ts', "import { tool } from '../../host/lib/tool.ts';\n", 'firmware may not import host/, sim/ or test/'],
  ['sim/cloud/store.ts', "import { tool } from '../../host/lib/tool.ts';\n", 'sim may import from host/ only host/shared'],
  ['host/shared/up.ts', "import { tool } from '../lib/tool.ts';\n", 'host/shared is imported by both host and sim'],
  ['host/shared/sim.ts', "import { bootBoard } from '../../sim/board/bootBoard.ts';\n", 'host/shared is imported by both host and sim'],
  ['host/cli/deep.ts', "import { bootBoard } from '../../sim/board/bootBoard.ts';\n", 'host reaches the simulator only through sim/index.ts'],
  ['host/lib/deep.ts', "import type { X } from '../../sim/cloud/types.ts';\n", 'host reaches the simulator only through sim/index.ts'],
  ['test/firmware/core/b.test.ts', "import { nodeBoard } from '../../../firmware/boards/node/nodeBoard.ts';\n", 'core suites may import only'],
  ['test/firmware/core/c.test.ts', "import { readFileSync } from 'node:fs';\n", 'core suites run inside XS: no packages or Node modules'],
  ['firmware/core/z.ts', "import mqtt from 'mqtt';\n", 'firmware may not import packages or Node modules'],
];

test('the allowed imports pass', () => {
  const r = runOn(ALLOWED);
  assert.equal(r.status, 0, r.output);
  assert.ok(r.output.includes('dependency rule: ok'), r.output);
});

for (const [path, source, rule] of WRONG) {
  test(`rejects ${path}: ${source.trim()}`, () => {
    const r = runOn({ ...ALLOWED, [path]: source });
    assert.equal(r.status, 1, r.output);
    assert.ok(r.output.includes('dependency rule: 1 violation(s)'), r.output);
    assert.ok(r.output.includes(`${path}: imports`) && r.output.includes(rule), r.output);
  });
}

test.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test.run();
