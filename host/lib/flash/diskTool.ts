// Runs one of the tools that read and write a disk image without mounting it (mtools for FAT, e2fsprogs'
// debugfs for ext4): a missing tool is FLASH_TOOL_MISSING, never a bare ENOENT. Output is bounded by
// spawnSync's maxBuffer.
import { spawnSync } from 'node:child_process';
import { FieldcamError } from '../../shared/hostErrors.ts';

export interface ToolResult {
  readonly status: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

const PACKAGE: Readonly<Record<string, string>> = Object.freeze({
  debugfs: 'e2fsprogs',
  mcopy: 'mtools',
  mtype: 'mtools',
  mdir: 'mtools',
  sfdisk: 'fdisk',
  lsblk: 'util-linux',
  findmnt: 'util-linux',
});

export function runTool(tool: string, args: readonly string[], options: { input?: string } = {}): ToolResult {
  const r = spawnSync(tool, args, {
    input: options.input,
    maxBuffer: 64 * 1024 * 1024,
    // mtools: no drive geometry checks on an image file, and no ~/.mtoolsrc surprises.
    env: { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null', LC_ALL: 'C' },
  });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new FieldcamError('FLASH_TOOL_MISSING', `flash: ${tool} is not installed (Debian package ${PACKAGE[tool] ?? tool})`);
    }
    throw new FieldcamError('CLI_OUTPUT_FAILED', `flash: ${tool} failed to run: ${r.error.message}`);
  }
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** stderr without debugfs' version banner (it prints one on every start). */
export function toolErrors(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^debugfs \d/.test(l));
}
