// `tsc --noEmit` twice: the whole project with Node's types, then the firmware alone with only the ES
// library XS provides (so Node globals in firmware code fail to compile).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/**
 * The firmware check keeps tsc's incremental state in build/tsc/ (git-ignored), the file `fieldcam build`
 * (host/lib/buildImage.ts) uses too: its checks after this one reuse it and only re-check what changed.
 */
function incrementalFlags(project) {
  return project === 'firmware/tsconfig.json' ? ['--incremental', '--tsBuildInfoFile', join(root, 'build', 'tsc', 'firmware.tsbuildinfo')] : [];
}
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
let failed = 0;
for (const project of ['tsconfig.json', 'firmware/tsconfig.json']) {
  const r = spawnSync(process.execPath, [tsc, '-p', project, '--noEmit', ...incrementalFlags(project)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`typecheck: ${project} has errors`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
