// A FAT file system inside a disk image (Raspberry Pi OS's boot partition), read and written with mtools:
// `-i image@@offset` addresses the partition by its byte offset, so nothing is mounted and nothing is copied out.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { runTool } from './diskTool.ts';

/** 8.3 or long names of the boot partition's top folder only: what fieldcam reads and writes there. */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

export class FatImage {
  readonly image: string;
  readonly offset: number;
  readonly spec: string;

  constructor(image: string, offset: number) {
    this.image = image;
    this.offset = offset;
    this.spec = `${image}@@${offset}`;
  }

  /** The names in the top folder, or undefined when it is not a FAT file system. */
  list(): string[] | undefined {
    const r = runTool('mdir', ['-b', '-i', this.spec, '::/']);
    if (r.status !== 0) return undefined;
    return r.stdout
      .toString('utf8')
      .split('\n')
      .map((l) => l.trim().replace(/^::\//, ''))
      .filter(Boolean);
  }

  read(name: string, maxBytes = 64 * 1024): Buffer | undefined {
    if (!NAME.test(name)) throw new FieldcamError('CLI_USAGE', `flash: ${name} is not a boot partition file name`);
    const r = runTool('mcopy', ['-n', '-i', this.spec, `::/${name}`, '-']);
    if (r.status !== 0 || r.stdout.length > maxBytes) return undefined;
    return r.stdout;
  }

  write(name: string, data: Uint8Array): void {
    if (!NAME.test(name)) throw new FieldcamError('CLI_USAGE', `flash: ${name} is not a boot partition file name`);
    const dir = mkdtempSync(join(tmpdir(), 'fieldcam-fat-'));
    try {
      writeFileSync(join(dir, name), data);
      // -o: overwrite without asking; -n: no confirmation when the destination exists.
      const r = runTool('mcopy', ['-o', '-n', '-i', this.spec, join(dir, name), `::/${name}`]);
      if (r.status !== 0)
        throw new FieldcamError('CLI_OUTPUT_FAILED', `flash: cannot write ${name} to the boot partition of ${this.image}: ${r.stderr.trim()}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
