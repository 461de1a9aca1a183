// The error table is split by who raises the codes: the core table travels in the firmware bundle, the host's
// areas (cli, provision, flash, ebml) are registered by host/shared/hostErrors.ts and never reach the device.
import { build } from 'esbuild';
import { join, resolve } from 'node:path';
import { ERRORS, errorSpec, FieldcamError, registerErrors, errorEntry } from '../../../firmware/core/errors.ts';
import { HOST_ERRORS } from '../../../host/shared/hostErrors.ts';
import { assert, suite } from '../../harness/index.ts';

const test = suite('error table: core and host');
const root = resolve(import.meta.dirname, '..', '..', '..');

test('a host code makes the same FieldcamError, with its remedy and retry flag', () => {
  const err = new FieldcamError('CLI_USAGE', 'no input');
  assert.ok(err instanceof FieldcamError);
  assert.is(err.remedy, HOST_ERRORS.CLI_USAGE.remedy);
  assert.is(err.retryable, false);
  assert.is(errorSpec('PROVISION_AWS_FAILED').area, 'provision');
  assert.is(new FieldcamError('PROVISION_AWS_FAILED', 'x').retryable, true);
});

test('no code is in both tables, and a conflicting registration throws', () => {
  for (const code of Object.keys(HOST_ERRORS)) assert.is(code in ERRORS, false, code);
  assert.throws(() => registerErrors({ INPUT_EMPTY: errorEntry('cli', false, 'other') }), /INPUT_EMPTY is already defined/);
  assert.throws(() => registerErrors({ CLI_USAGE: errorEntry('cli', false, 'other') }), /CLI_USAGE is already defined/);
  registerErrors(HOST_ERRORS); // the same table twice (a module loaded twice) is harmless
});

test('an unknown code is refused by name, not turned into an error without a remedy', () => {
  assert.throws(() => new FieldcamError('NO_SUCH_CODE' as 'CLI_USAGE', 'x'), /NO_SUCH_CODE is not in the core table/);
});

test('the firmware bundle carries no host code or remedy', async () => {
  const result = await build({
    entryPoints: [join(root, 'firmware', 'app', 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    charset: 'ascii',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  assert.ok(code.includes('INPUT_READ_FAILED'), 'the core table is in the bundle');
  for (const [name, entry] of Object.entries(HOST_ERRORS)) {
    assert.ok(!code.includes(name), `${name} is not in the bundle`);
    assert.ok(!code.includes(entry.remedy.slice(0, 40)), `${name}'s remedy is not in the bundle`);
  }
});

test.run();
