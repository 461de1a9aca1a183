import { readSync } from 'node:fs';
import { FieldcamError } from '../../firmware/core/errors.ts';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads up to `length` bytes from `fd` straight into `target` at `offset` (a pool slot) and returns the
 * count, 0 at end of input. A non-blocking pipe on stdin answers EAGAIN when empty; wait and retry.
 */
export function readIntoSlot(fd: number, target: Uint8Array, offset: number, length: number, label: string): number {
  for (;;) {
    try {
      return readSync(fd, target, offset, length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 5);
        continue;
      }
      if (code === 'EOF') return 0;
      throw new FieldcamError('INPUT_READ_FAILED', `reading ${label}: ${(err as Error).message}`);
    }
  }
}
