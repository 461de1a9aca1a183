import { FieldcamError, type ErrorCode } from '../errors.ts';

/** POSIX errno names (both boards report them: Node's `err.code`, the C host's leading code word) → STORAGE_*. */
const BY_ERRNO: Readonly<Record<string, ErrorCode>> = Object.freeze({
  ENOENT: 'STORAGE_NOT_FOUND',
  EACCES: 'STORAGE_DENIED',
  EPERM: 'STORAGE_DENIED',
  EROFS: 'STORAGE_DENIED',
  ENOSPC: 'STORAGE_FULL',
  EDQUOT: 'STORAGE_FULL',
  EFBIG: 'STORAGE_FULL',
  ENOTDIR: 'STORAGE_NOT_DIRECTORY',
  EISDIR: 'STORAGE_NOT_DIRECTORY',
  EEXIST: 'STORAGE_NOT_DIRECTORY', // makeDirectory over a file (the only call that can meet EEXIST)
});

/** The one mapping of a file-system failure to its STORAGE_* code (anything else is STORAGE_IO). */
export function storageError(errno: string | undefined, message: string): FieldcamError {
  return new FieldcamError((errno !== undefined && BY_ERRNO[errno]) || 'STORAGE_IO', message);
}
