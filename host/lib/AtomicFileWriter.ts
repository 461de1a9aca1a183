import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FieldcamError } from '../shared/hostErrors.ts';
import type { ViewList } from '../../firmware/core/media/ViewList.ts';

/**
 * Writes a file so that the destination either keeps its old content or holds the complete new one:
 * bytes go to a temporary file beside it, which is fsynced and renamed over the destination on `commit()`;
 * `abort()` (any failure) deletes the temporary file. Views are written straight from their buffers.
 */
export class AtomicFileWriter {
  readonly path: string;
  private readonly tmp: string;
  private fd: number | undefined;
  bytes = 0;

  constructor(path: string) {
    this.path = path;
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'wx', 0o644);
    } catch (err) {
      throw new FieldcamError('CLI_OUTPUT_FAILED', `cannot create ${path}: ${(err as Error).message}`);
    }
  }

  writeViews(views: ViewList): void {
    for (let i = 0; i < views.count; i++) this.write(views.sources[i]!, views.offsets[i]!, views.lengths[i]!);
  }

  write(bytes: Uint8Array, offset = 0, length = bytes.length): void {
    if (this.fd === undefined) throw new Error('AtomicFileWriter used after commit/abort');
    try {
      let done = 0;
      while (done < length) done += writeSync(this.fd, bytes, offset + done, length - done);
    } catch (err) {
      throw new FieldcamError('CLI_OUTPUT_FAILED', `writing ${this.path}: ${(err as Error).message}`);
    }
    this.bytes += length;
  }

  commit(): void {
    if (this.fd === undefined) throw new Error('AtomicFileWriter used after commit/abort');
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tmp, this.path);
    } catch (err) {
      this.abort();
      throw new FieldcamError('CLI_OUTPUT_FAILED', `finishing ${this.path}: ${(err as Error).message}`);
    }
  }

  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed by the failure being handled
      }
      this.fd = undefined;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // nothing was left behind
    }
  }
}
