import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { storageError } from '../../core/spool/storageError.ts';
import type { StorageFile, StoragePort } from '../../io/Storage.ts';

/** Runs a node:fs call, turning its errno into a STORAGE_* FieldcamError. */
function fs<T>(what: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (!e.code) throw err;
    throw storageError(e.code, `${what}: ${e.message}`);
  }
}

function syncFolder(path: string): void {
  fs(dirname(path), () => {
    const fd = openSync(dirname(path), 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  });
}

class NodeStorageFile implements StorageFile {
  private fd: number;
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
    // 'a+': reads anywhere, writes only at the end (O_APPEND), created 0600.
    this.fd = fs(path, () => openSync(path, 'a+', 0o600));
  }

  get size(): number {
    const fd = this.check();
    return fs(this.path, () => fstatSync(fd).size);
  }

  append(data: Uint8Array, offset: number, length: number): void {
    const fd = this.check();
    if (offset + length > data.length) throw new RangeError(`append: range ${offset}+${length} outside ${data.length} bytes`);
    fs(this.path, () => {
      for (let done = 0; done < length; ) done += writeSync(fd, data, offset + done, length - done);
    });
  }

  read(position: number, into: Uint8Array, offset: number, length: number): number {
    const fd = this.check();
    if (offset + length > into.length) throw new RangeError(`read: range ${offset}+${length} outside ${into.length} bytes`);
    return fs(this.path, () => {
      let done = 0;
      while (done < length) {
        const n = readSync(fd, into, offset + done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
      return done;
    });
  }

  sync(): void {
    const fd = this.check();
    fs(this.path, () => fsyncSync(fd));
  }

  truncate(size: number): void {
    const fd = this.check();
    fs(this.path, () => ftruncateSync(fd, size));
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    fs(this.path, () => closeSync(fd));
  }

  private check(): number {
    if (this.fd < 0) throw new RangeError(`${this.path}: the file is closed`);
    return this.fd;
  }
}

/** The Storage port over node:fs (synchronous calls, as the XS host's natives are). */
export const nodeStorage: StoragePort = Object.freeze({
  open: (path: string) => new NodeStorageFile(path),
  rename(from: string, to: string): void {
    fs(from, () => renameSync(from, to));
    syncFolder(to);
  },
  remove(path: string): void {
    fs(path, () => unlinkSync(path));
    syncFolder(path);
  },
  list: (folder: string) => fs(folder, () => readdirSync(folder)).sort(),
  makeDirectory(path: string): void {
    fs(path, () => mkdirSync(path, { recursive: true, mode: 0o700 }));
  },
  freeBytes(path: string): number {
    return fs(path, () => {
      const s = statfsSync(path);
      return s.bavail * s.bsize;
    });
  },
});
