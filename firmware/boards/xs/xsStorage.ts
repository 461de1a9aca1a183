import { storageError } from '../../core/spool/storageError.ts';
import type { StorageFile, StoragePort } from '../../io/Storage.ts';
import { host, type NativeHost } from './native.ts';

/** Runs a native call, turning the host's "ECODE: path: reason" errors into STORAGE_* FieldcamErrors. */
function fs<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (!(err instanceof Error) || err instanceof RangeError || err instanceof TypeError) throw err;
    const m = /^(E[A-Z0-9]+): /.exec(err.message);
    throw storageError(m?.[1], err.message);
  }
}

class XsStorageFile implements StorageFile {
  private readonly native: NativeHost;
  private readonly path: string;
  private fd: number;

  constructor(native: NativeHost, path: string) {
    this.native = native;
    this.path = path;
    this.fd = fs(() => native.storageOpen(path));
  }

  get size(): number {
    const fd = this.check();
    return fs(() => this.native.storageSize(fd));
  }

  append(data: Uint8Array, offset: number, length: number): void {
    const fd = this.check();
    fs(() => this.native.storageAppend(fd, data, offset, length));
  }

  read(position: number, into: Uint8Array, offset: number, length: number): number {
    const fd = this.check();
    return fs(() => this.native.storageRead(fd, position, into, offset, length));
  }

  sync(): void {
    const fd = this.check();
    fs(() => this.native.storageSync(fd));
  }

  truncate(size: number): void {
    const fd = this.check();
    fs(() => this.native.storageTruncate(fd, size));
  }

  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    fs(() => this.native.storageClose(fd));
  }

  private check(): number {
    if (this.fd < 0) throw new RangeError(`${this.path}: the file is closed`);
    return this.fd;
  }
}

/** The Storage port over the C host's natives (firmware/runtime/storage.c). */
export function xsStorage(native: NativeHost = host()): StoragePort {
  return Object.freeze({
    open: (path: string) => new XsStorageFile(native, path),
    rename: (from: string, to: string) => fs(() => native.storageRename(from, to)),
    remove: (path: string) => fs(() => native.storageRemove(path)),
    list: (folder: string) => fs(() => native.storageList(folder)).sort(),
    makeDirectory(path: string): void {
      // One level per native call, parents first (mkdir -p).
      const parts = path.split('/');
      let prefix = path.startsWith('/') ? '' : '.';
      for (const part of parts) {
        if (part === '' || part === '.') continue;
        prefix = `${prefix}/${part}`;
        fs(() => native.storageMakeDirectory(prefix));
      }
    },
    freeBytes: (path: string) => fs(() => native.storageFreeBytes(path)),
    crc32: (crc: number, bytes: Uint8Array, offset: number, length: number) => native.storageCrc32(crc, bytes, offset, length),
  });
}
