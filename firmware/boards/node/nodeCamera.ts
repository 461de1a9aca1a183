import { closeSync, fstatSync, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { FieldcamError } from '../../core/errors.ts';
import { SOURCE_END, type FrameSource, type FrameSourceFactory } from '../../io/FrameSource.ts';

/** An empty non-blocking pipe is looked at again after this long (host tools and tests only; the device polls). */
const RETRY_MS = 5;

/**
 * The camera on a file descriptor, for the Node board: a file (always readable) or a pipe. Bytes are read
 * straight into the pool slot with readSync. The descriptor is closed by `close()`.
 */
export function nodeCamera(fd: number): FrameSourceFactory {
  return (options) => {
    let recorded: boolean;
    try {
      recorded = fstatSync(fd).isFile(); // an fd that is not open fails here, at boot, as on the XS board
    } catch (err) {
      throw new FieldcamError('INPUT_READ_FAILED', `camera fd ${fd}: ${(err as Error).message}`);
    }
    let closed = false;
    let retry: NodeJS.Timeout | undefined;
    const source: FrameSource & { lastReadAt: number } = {
      lastReadAt: 0,
      recorded,
      read(into, offset, length) {
        if (closed) throw new Error('read() after close()');
        try {
          const n = readSync(fd, into, offset, length, null);
          if (n > 0) source.lastReadAt = performance.now(); // nodeClock.monotonic
          return n === 0 ? SOURCE_END : n;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
            retry ??= setTimeout(() => {
              retry = undefined;
              if (!closed) options.onReadable();
            }, RETRY_MS);
            return 0;
          }
          throw new FieldcamError('INPUT_READ_FAILED', `camera fd ${fd}: ${(err as Error).message}`);
        }
      },
      close() {
        if (closed) return;
        closed = true;
        if (retry) clearTimeout(retry);
        try {
          closeSync(fd);
        } catch {
          // already closed by its owner: nothing to release
        }
      },
    };
    return source;
  };
}
