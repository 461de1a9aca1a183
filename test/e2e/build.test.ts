// `fieldcam build --board`: the image a board runs, written to dist/<board>/ — checked on disk and by running
// the built runtime (`--version` natively, and under qemu-arm for an ARM board).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assert, suite } from '../harness/index.ts';
import { fieldcam, ROOT } from './tools.ts';

const test = suite('fieldcam build (e2e)');

test('--board pi-zero-w --json: runtime, bundle, manifest and image.json whose sizes match the files', () => {
  const run = fieldcam(['build', '--board', 'pi-zero-w', '--json']);
  assert.is(run.status, 0, run.stderr);
  const image = JSON.parse(run.stdout) as { target: string; qemuCpu: string; runtimeFlags: string[]; sizes: Record<string, number> };
  const dir = join(ROOT, 'dist', 'pi-zero-w');
  assert.equal(JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')), image);
  assert.is(image.sizes.runtimeBytes, statSync(join(dir, 'fieldcam-runtime')).size);
  assert.is(image.sizes.bundleBytes, statSync(join(dir, 'firmware.js')).size);
  assert.is(JSON.parse(readFileSync(join(dir, 'board.json'), 'utf8')).name, 'pi-zero-w');
  assert.is(image.sizes.heapLimitBytes, image.sizes.jsBudgetBytes); // the pool lives outside the JS heap
  assert.equal(image.runtimeFlags.slice(0, 2), ['--heap-limit', String(image.sizes.heapLimitBytes)]);
  const version = spawnSync('qemu-arm', ['-cpu', image.qemuCpu, join(dir, 'fieldcam-runtime'), '--version'], { encoding: 'utf8' });
  assert.ok(/^fieldcam-runtime \S+ \(engine XS 13\.3\.0.*, target armv6\)$/m.test(version.stdout), version.stdout + version.stderr);
});

test('the size report names each part; unknown boards and a missing --board are refused', () => {
  const run = fieldcam(['build', '--board', 'sim-x86']);
  assert.is(run.status, 0, run.stderr);
  for (const row of ['runtime binary', 'firmware bundle', 'frame pool', 'JS heap limit', 'total']) assert.ok(run.stdout.includes(row), row);
  assert.ok(existsSync(join(ROOT, 'dist', 'sim-x86', 'fieldcam-runtime')));
  const unknown = fieldcam(['build', '--board', 'toaster']);
  assert.is(unknown.status, 1);
  assert.ok(unknown.stderr.includes('CONFIG_BOARD_UNKNOWN'), unknown.stderr);
  assert.is(fieldcam(['build']).status, 2);
  assert.ok(fieldcam(['build', '--help']).stdout.includes('--board'));
});

test.run();
