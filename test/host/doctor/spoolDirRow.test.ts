// `fieldcam doctor --board B` checks the spool folder the device will use (docs/spool.md): beside the bundle by
// default, or --spool DIR; a file in its place or a floor above the free space FAILs, too little room for the cap
// WARNs, leftover segments are reported; boards without a spool SKIP.
import { mkdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spoolDirRow } from '../../../host/lib/doctor/spoolDirRow.ts';
import { loadBoardManifest } from '../../../host/shared/loadBoardManifest.ts';
import { tempDir } from '../../e2e/tools.ts';
import { assert, suite } from '../../harness/index.ts';

const test = suite('doctor: the spool directory row');
const tmp = tempDir('fieldcam-spool-row-');
test.after(() => tmp.remove());

const free = () => {
  const fs = statfsSync(tmp.dir);
  return fs.bavail * fs.bsize;
};

test('default folder beside the bundle, absent: created at boot; room judged against cap and floor', () => {
  const bundle = join(tmp.dir, 'a', 'cam-1');
  mkdirSync(bundle, { recursive: true });
  const small = { maxBytes: 1024, minFreeBytes: 0, drainKbps: 1000, maxRecordBytes: 65536 };
  const row = spoolDirRow(bundle, small);
  assert.is(row.status, 'PASS', row.cause);
  assert.ok(row.cause.includes(`${join(tmp.dir, 'a', 'cam-1.spool')} (created at boot)`), row.cause);
  const huge = spoolDirRow(bundle, { ...small, maxBytes: free() * 4 });
  assert.is(huge.status, 'WARN', huge.cause);
  const floor = spoolDirRow(bundle, { ...small, minFreeBytes: free() * 4 });
  assert.is(floor.status, 'FAIL', floor.cause);
  assert.ok(/below the board's floor/.test(floor.cause), floor.cause);
});

test('--spool DIR: a file in its place fails; leftover segments are reported', () => {
  const file = join(tmp.dir, 'not-a-folder');
  writeFileSync(file, 'x');
  const budget = { maxBytes: 1024, minFreeBytes: 0, drainKbps: 1000, maxRecordBytes: 65536 };
  const row = spoolDirRow(tmp.dir, budget, file);
  assert.is(row.status, 'FAIL');
  assert.ok(/is not a directory/.test(row.cause), row.cause);
  const dir = join(tmp.dir, 'spool-b');
  mkdirSync(dir);
  writeFileSync(join(dir, '0000000000000000.seg'), new Uint8Array(100));
  const held = spoolDirRow(tmp.dir, budget, dir);
  assert.is(held.status, 'PASS', held.cause);
  assert.ok(held.cause.includes('1 segment file(s), 100 bytes not yet delivered'), held.cause);
});

test('boards: the Pi manifests have a spool, esp32-cam a small one (1 MiB of flash), a board without one SKIP', () => {
  for (const name of ['pi-zero-w', 'pi-zero-2w', 'pi-zero-2w-64', 'pi-3', 'pi-4', 'pi-5']) {
    const spool = loadBoardManifest(name).spool;
    assert.ok(spool && spool.maxBytes > 0, `${name} has a spool`);
  }
  const esp = loadBoardManifest('esp32-cam');
  assert.is(esp.spool?.maxBytes, 1 << 20);
  assert.is(loadBoardManifest('sim-x86').spool, undefined);
  assert.is(spoolDirRow(tmp.dir, undefined).status, 'SKIP');
});

test.run();
