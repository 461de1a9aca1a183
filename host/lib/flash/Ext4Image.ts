// An ext4 file system inside a disk image, read and written with e2fsprogs' debugfs — no mount, no loop
// device. debugfs opens `image?offset=N`: e2fsprogs' unix I/O manager takes the partition's byte offset as an
// I/O option (lib/ext2fs/unix_io.c "offset="), so the partition is edited where it lies and never copied out.
// Reads run debugfs read-only; writes run one `debugfs -w -f <commands>` batch and fail on any error line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { runTool, toolErrors } from './diskTool.ts';

export type InodeType = 'regular' | 'directory' | 'symlink' | 'other';

export interface Ext4Stat {
  readonly type: InodeType;
  /** Permission bits (e.g. 0o600). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** A symlink's target (fast symlinks: up to 59 bytes, as systemd's enable links are). */
  readonly target?: string;
}

/** debugfs takes whitespace-separated arguments: fieldcam's paths never need quoting, and any that would is refused. */
const SAFE_PATH = /^\/[A-Za-z0-9._@:+/-]*$/;

function safe(path: string): string {
  if (!SAFE_PATH.test(path) || path.length > 4096) throw new FieldcamError('CLI_USAGE', `flash: ${JSON.stringify(path)} cannot be passed to debugfs`);
  return path;
}

export class Ext4Image {
  readonly image: string;
  readonly offset: number;
  readonly spec: string;

  constructor(image: string, offset: number) {
    this.image = image;
    this.offset = offset;
    this.spec = `${image}?offset=${offset}`;
  }

  private request(command: string): { stdout: Buffer; errors: string[] } {
    const r = runTool('debugfs', ['-R', command, this.spec]);
    return { stdout: r.stdout, errors: toolErrors(r.stderr) };
  }

  /** Opens the superblock: undefined when it is ext2/3/4, else what debugfs said. */
  problem(): string | undefined {
    const { stdout, errors } = this.request('stats');
    if (/Filesystem magic number:\s+0xEF53/.test(stdout.toString('utf8'))) return undefined;
    return errors.join('; ') || 'no ext2/3/4 superblock';
  }

  /** Free bytes (free blocks × block size, reserved blocks included: debugfs and the root-run first boot may use them). */
  freeBytes(): number {
    const text = this.request('stats').stdout.toString('utf8');
    const free = /^Free blocks:\s+(\d+)/m.exec(text);
    const size = /^Block size:\s+(\d+)/m.exec(text);
    if (!free || !size) throw new FieldcamError('FLASH_IMAGE_NOT_RASPIOS', `flash: ${this.image}: the root file system's superblock cannot be read`);
    return Number(free[1]) * Number(size[1]);
  }

  stat(path: string): Ext4Stat | undefined {
    const { stdout } = this.request(`stat ${safe(path)}`);
    const text = stdout.toString('utf8');
    const head = /Type:\s+(\S+)\s+Mode:\s+0?([0-7]+)/.exec(text);
    const owner = /User:\s+(\d+)\s+Group:\s+(\d+)(?:\s+Project:\s+\d+)?\s+Size:\s+(\d+)/.exec(text);
    if (!head || !owner) return undefined;
    const type: InodeType = head[1] === 'regular' || head[1] === 'directory' || head[1] === 'symlink' ? head[1] : 'other';
    const target = /Fast link dest:\s+"([^"]*)"/.exec(text)?.[1];
    const mode = parseInt(head[2]!, 8) & 0o7777;
    return { type, mode, uid: Number(owner[1]), gid: Number(owner[2]), size: Number(owner[3]), ...(target !== undefined ? { target } : {}) };
  }

  /** A regular file's bytes (at most `maxBytes`), or undefined when it is missing or not a regular file. */
  read(path: string, maxBytes = 64 * 1024 * 1024): Buffer | undefined {
    const st = this.stat(path);
    if (!st || st.type !== 'regular' || st.size > maxBytes) return undefined;
    return this.request(`cat ${safe(path)}`).stdout;
  }

  readText(path: string, maxBytes = 64 * 1024): string | undefined {
    return this.read(path, maxBytes)?.toString('utf8');
  }

  /** Copies a directory tree out (debugfs rdump keeps modes and, run as root, owners). */
  dumpTo(path: string, dir: string): void {
    const { errors } = this.request(`rdump ${safe(path)} ${safe(dir)}`);
    if (errors.length > 0) throw new FieldcamError('CLI_OUTPUT_FAILED', `flash: cannot copy ${path} out of ${this.image}: ${errors.join('; ')}`);
  }

  /** Runs a batch of debugfs write commands (built by Ext4Edit); any error line fails the whole edit. */
  apply(commands: readonly string[]): void {
    const dir = mkdtempSync(join(tmpdir(), 'fieldcam-debugfs-'));
    try {
      const file = join(dir, 'commands');
      writeFileSync(file, commands.join('\n') + '\n');
      const r = runTool('debugfs', ['-w', '-f', file, this.spec]);
      const errors = toolErrors(r.stderr);
      if (r.status !== 0 || errors.length > 0)
        throw new FieldcamError('CLI_OUTPUT_FAILED', `flash: debugfs could not write ${this.image}: ${errors.join('; ') || `exit ${r.status}`}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * A batch of edits to an Ext4Image: directories made when missing, files and symlinks replaced, every inode
 * given its exact mode and owner (debugfs `sif`: the mode field holds the file type bits too, S_IFREG 0100000,
 * S_IFDIR 040000). Local copies of the file contents go to a temporary directory that `apply` removes.
 */
export class Ext4Edit {
  private readonly commands: string[] = [];
  private readonly staging = mkdtempSync(join(tmpdir(), 'fieldcam-stage-'));
  private readonly madeDirs = new Set<string>();
  private count = 0;
  private readonly fs: Ext4Image;

  constructor(fs: Ext4Image) {
    this.fs = fs;
    if (!SAFE_PATH.test(this.staging))
      throw new FieldcamError('CLI_USAGE', `flash: the temporary directory ${this.staging} cannot be passed to debugfs (set TMPDIR)`);
  }

  /** Makes `path` and its missing parents (0755 root:root); `mode` is forced on `path` itself when given. */
  dir(path: string, mode?: number): this {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = '/' + parts.slice(0, i).join('/');
      const last = i === parts.length;
      if (!this.madeDirs.has(p)) {
        const st = this.fs.stat(p);
        if (!st) {
          this.commands.push(`mkdir ${safe(p)}`);
          this.own(p, 0o040000 | (last && mode !== undefined ? mode : 0o755));
        } else if (st.type !== 'directory') {
          throw new FieldcamError('CLI_OUTPUT_FAILED', `flash: ${p} in the image is a ${st.type}, not a directory`);
        } else if (last && mode !== undefined && (st.mode !== mode || st.uid !== 0 || st.gid !== 0)) {
          this.own(p, 0o040000 | mode);
        }
        this.madeDirs.add(p);
      } else if (last && mode !== undefined) {
        this.own(p, 0o040000 | mode);
      }
    }
    return this;
  }

  file(path: string, data: Uint8Array, mode: number): this {
    const st = this.fs.stat(path);
    if (st?.type === 'directory') throw new FieldcamError('CLI_OUTPUT_FAILED', `flash: ${path} in the image is a directory`);
    if (st) this.commands.push(`rm ${safe(path)}`);
    const local = join(this.staging, String(this.count++));
    writeFileSync(local, data);
    this.commands.push(`write ${safe(local)} ${safe(path)}`);
    this.own(path, 0o100000 | mode);
    return this;
  }

  symlink(path: string, target: string): this {
    const st = this.fs.stat(path);
    if (st?.type === 'symlink' && st.target === target) return this;
    if (st?.type === 'directory') throw new FieldcamError('CLI_OUTPUT_FAILED', `flash: ${path} in the image is a directory`);
    if (st) this.commands.push(`rm ${safe(path)}`);
    this.commands.push(`symlink ${safe(path)} ${safe(target)}`);
    return this;
  }

  remove(path: string): this {
    if (this.fs.stat(path)) this.commands.push(`rm ${safe(path)}`);
    return this;
  }

  private own(path: string, mode: number): void {
    this.commands.push(`sif ${safe(path)} mode 0${mode.toString(8)}`, `sif ${safe(path)} uid 0`, `sif ${safe(path)} gid 0`);
  }

  apply(): void {
    try {
      if (this.commands.length > 0) this.fs.apply(this.commands);
    } finally {
      rmSync(this.staging, { recursive: true, force: true });
    }
  }
}
