// Dependency-free pre-step of `npm test` / `npm start`: installs the npm dependencies when any is missing,
// so a fresh clone needs nothing run before it. Exact versions come from package-lock.json.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const wanted = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
const missing = wanted.filter((name) => !existsSync(join(root, 'node_modules', name, 'package.json')));

if (missing.length > 0) {
  const useCi = existsSync(join(root, 'package-lock.json'));
  const args = useCi ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  console.log(`ensure-deps: installing npm dependencies (missing: ${missing.join(', ')}) with npm ${args[0]}`);
  const result = spawnSync('npm', args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`ensure-deps: npm ${args[0]} failed (exit ${result.status}); check network access to the npm registry`);
    process.exit(1);
  }
}
