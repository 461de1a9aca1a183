import { existsSync, readFileSync } from 'node:fs';
import { FieldcamError } from '../../../firmware/core/errors.ts';
import { writeFileAtomic } from '../../../host/shared/writeFileAtomic.ts';

/**
 * One versioned JSON document of cloud state (`{"format": …, "version": …, …}`), replaced atomically on every
 * save. Loading checks the envelope and hands the body to a validator; any problem is a CONFIG_INVALID
 * FieldcamError that names the file and how to recover, so a corrupt file stops the cloud at start instead
 * of being silently replaced.
 */
export class JsonStateFile<T extends object> {
  readonly file: string;
  private readonly format: string;
  private readonly version: number;
  private readonly mode: number;

  constructor(options: { file: string; format: string; version: number; mode?: number }) {
    this.file = options.file;
    this.format = options.format;
    this.version = options.version;
    this.mode = options.mode ?? 0o644;
  }

  /** The stored body, or undefined when the file does not exist. `check` returns a problem or undefined. */
  load(check: (body: Record<string, unknown>) => string | undefined, forget: string): T | undefined {
    if (!existsSync(this.file)) return undefined;
    const corrupt = (why: string): FieldcamError =>
      new FieldcamError('CONFIG_INVALID', `cloud state file ${this.file} is unusable: ${why}; repair it, or delete it to forget ${forget}`);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      throw corrupt((err as Error).message);
    }
    const d = doc as Record<string, unknown> | null;
    if (typeof d !== 'object' || d === null || d.format !== this.format) throw corrupt(`not a ${this.format} document`);
    if (d.version !== this.version) throw corrupt(`version ${String(d.version)} (this fieldcam reads version ${this.version})`);
    const problem = check(d);
    if (problem) throw corrupt(problem);
    return d as unknown as T;
  }

  save(body: T): void {
    writeFileAtomic(this.file, JSON.stringify({ format: this.format, version: this.version, ...body }, null, 2) + '\n', this.mode);
  }
}
