/**
 * Files for the spool (issue 15): append-only files read at an offset, made durable on request, in folders
 * that can be listed, with the free space of their file system. Both boards implement it: firmware/boards/xs
 * over the C host's natives (firmware/runtime/storage.c), firmware/boards/node over node:fs.
 *
 * Errors are FieldcamErrors with STORAGE_* codes (STORAGE_NOT_FOUND, STORAGE_DENIED, STORAGE_FULL,
 * STORAGE_IO, STORAGE_NOT_DIRECTORY); misuse (a closed file, a bad range) is a RangeError.
 */
export interface StorageFile {
  /** Bytes in the file (appends included). */
  readonly size: number;
  /** Appends the range at the end of the file; nothing is ever written anywhere else. */
  append(data: Uint8Array, offset: number, length: number): void;
  /** Reads up to `length` bytes at `position` into `into[offset…]`; returns the count (fewer only at the end). */
  read(position: number, into: Uint8Array, offset: number, length: number): number;
  /** Flushes appended bytes to stable storage (fsync): they survive a power cut once this returns. */
  sync(): void;
  /** Cuts the file to `size` bytes (a torn tail after a crash). */
  truncate(size: number): void;
  /** Releases the descriptor; idempotent; any other call afterwards throws RangeError. */
  close(): void;
}

export interface StoragePort {
  /** Opens `path` for reading and appending, creating it (mode 0600) when absent. */
  open(path: string): StorageFile;
  /** Renames durably (the folder is synced). */
  rename(from: string, to: string): void;
  /** Removes a file durably (the folder is synced). */
  remove(path: string): void;
  /** Names in a folder, sorted (byte order), without "." and "..". */
  list(folder: string): string[];
  /** Creates a folder (mode 0700) and its missing parents; an existing folder is fine. */
  makeDirectory(path: string): void;
  /** Bytes this process may still write on the file system holding `path`. */
  freeBytes(path: string): number;
  /**
   * CRC-32 (IEEE 802.3, reflected 0xEDB88320) of bytes[offset, offset + length), continued from `crc` (0 to start):
   * the spool's record checksum. Optional: the XS board does it in C (its interpreter spends ~1,600 ARM instructions
   * per byte on the loop in JS, docs/performance.md); without it the spool uses core/spool/crc32.ts.
   */
  crc32?(crc: number, bytes: Uint8Array, offset: number, length: number): number;
}
