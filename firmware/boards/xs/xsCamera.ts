import { FieldcamError } from '../../core/errors.ts';
import { SOURCE_END, type FrameSource, type FrameSourceFactory } from '../../io/FrameSource.ts';
import { host } from './native.ts';
import { xsLoop } from './xsLoop.ts';

const WOULD_BLOCK = -1;

/**
 * The camera on a file descriptor (a pipe from the capture process, the simulator's feeder on stdin). Bytes
 * go from the kernel straight into the pool slot; an empty pipe arms a one-shot poll() watch. The local event
 * trigger's FIFO is read the same way (`what` names it in errors).
 */
export function xsCamera(fd: number, what = `camera fd ${fd}`): FrameSourceFactory {
  return (options) => {
    try {
      host().openInput(fd);
    } catch (err) {
      throw new FieldcamError('INPUT_READ_FAILED', `${what}: ${(err as Error).message}`);
    }
    // The two natives of every read, read once (host() and a property lookup on the host object per call otherwise;
    // they read only their arguments).
    const { readInput, monotonic } = host();
    let closed = false;
    // `fd` first: the board's port (FrameInput.readFrom) reads it and `lastReadAt` by name on every camera read.
    const source: FrameSource & { fd: number; lastReadAt: number } = {
      fd,
      lastReadAt: 0,
      // A pipe or a capture device on the board; a replayed recording says so in the configuration (camera.recorded).
      recorded: false,
      read(into, offset, length) {
        if (closed) throw new Error('read() after close()');
        let n: number;
        try {
          n = readInput(fd, into, offset, length);
        } catch (err) {
          throw new FieldcamError('INPUT_READ_FAILED', `${what}: ${(err as Error).message}`);
        }
        if (n === WOULD_BLOCK) {
          xsLoop.watchInput(fd, () => {
            if (!closed) options.onReadable();
          });
          return 0;
        }
        // (The port's own reads take the same clock at the same point: cursor.c.)
        if (n > 0) source.lastReadAt = monotonic();
        return n === 0 ? SOURCE_END : n;
      },
      close() {
        if (closed) return;
        closed = true;
        // The port reads no more from it: every later read is `read`'s, which refuses it.
        source.fd = -1;
        xsLoop.forgetInput(fd);
        host().closeInput(fd);
      },
    };
    return source;
  };
}
