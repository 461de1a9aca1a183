import { accessSync, constants, readdirSync, statfsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { SpoolBudget } from '../../../firmware/core/config/spoolBudget.ts';
import type { CheckRow } from './runDoctor.ts';

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;

/**
 * The spool's folder as the device will use it (docs/spool.md): `<bundle>.spool` beside the bundle directory (the
 * firmware's default without --state, DeviceBundle defaultSpoolDir) unless `--spool DIR` names another.
 * It must be a writable folder (or creatable: its parent writable) on a file system
 * with room for the board's cap above its free-space floor. Less room than the cap is a WARN (the spool holds
 * less); less than the floor a FAIL (it holds nothing, every outage beyond the RAM pool loses video).
 */
export function spoolDirRow(bundleDir: string, budget: SpoolBudget | undefined, spoolDir?: string): CheckRow {
  const check = 'spool directory';
  if (!budget || budget.maxBytes === 0) return { check, status: 'SKIP', cause: 'this board has no spool (RAM pool only)' };
  const bundle = resolve(bundleDir);
  const dir = resolve(spoolDir ?? join(dirname(bundle), `${basename(bundle)}.spool`));
  let existing: string | undefined;
  try {
    const st = statSync(dir);
    if (!st.isDirectory())
      return { check, status: 'FAIL', cause: `${dir} is not a directory`, fix: `remove it or give the device another folder (--spool DIR)` };
    existing = dir;
  } catch {
    // absent: the device creates it, so its parent must be writable
  }
  const writableAt = existing ?? dirname(dir);
  try {
    accessSync(writableAt, constants.W_OK | constants.X_OK);
  } catch {
    return {
      check,
      status: 'FAIL',
      cause: `${writableAt} is not writable by this user`,
      fix: `chown the folder to the user the device runs as, or give it another (--spool DIR)`,
    };
  }
  let free: number;
  try {
    const fs = statfsSync(writableAt);
    free = fs.bavail * fs.bsize;
  } catch (err) {
    return { check, status: 'FAIL', cause: `cannot read the free space at ${writableAt}: ${(err as Error).message}`, fix: 'check the file system is mounted' };
  }
  let held = '';
  if (existing) {
    const segments = readdirSync(existing).filter((n) => n.endsWith('.seg'));
    let bytes = 0;
    for (const n of segments) bytes += statSync(join(existing, n)).size;
    if (segments.length > 0) held = `; it holds ${segments.length} segment file(s), ${bytes} bytes not yet delivered`;
  }
  const where = `${dir}${existing ? '' : ' (created at boot)'}`;
  if (free < budget.minFreeBytes) {
    return {
      check,
      status: 'FAIL',
      cause: `${where}: ${mib(free)} free, below the board's floor of ${mib(budget.minFreeBytes)}: the spool can keep nothing${held}`,
      fix: 'free space on that file system or give the device a folder on a larger one (--spool DIR)',
    };
  }
  if (free - budget.minFreeBytes < budget.maxBytes) {
    return {
      check,
      status: 'WARN',
      cause: `${where}: ${mib(free)} free; the spool can keep ${mib(free - budget.minFreeBytes)} of its ${mib(budget.maxBytes)} cap${held}`,
      fix: 'free space for the full cap (the oldest video goes first when it is reached)',
    };
  }
  return {
    check,
    status: 'PASS',
    cause: `${where}: writable, ${mib(free)} free for a cap of ${mib(budget.maxBytes)} above a floor of ${mib(budget.minFreeBytes)}${held}`,
  };
}
