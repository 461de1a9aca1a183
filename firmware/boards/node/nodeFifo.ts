import { execFileSync } from 'node:child_process';
import { constants, fstatSync, openSync, statSync } from 'node:fs';
import { FieldcamError } from '../../core/errors.ts';
import type { FrameSourceFactory } from '../../io/FrameSource.ts';
import { nodeCamera } from './nodeCamera.ts';

/**
 * The local event trigger on the Node board (as the XS host's openFifo): the FIFO at `path`, made with mkfifo(1) when
 * missing (Node has no mkfifo), opened read-write and non-blocking, read like the camera.
 */
export function nodeFifo(path: string): FrameSourceFactory {
  let fd: number;
  try {
    let exists = true;
    try {
      statSync(path);
    } catch {
      exists = false;
    }
    if (!exists) execFileSync('mkfifo', ['-m', '0600', path], { stdio: 'ignore' });
    fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    if (!fstatSync(fd).isFIFO()) throw new Error(`ENOTFIFO: ${path} exists and is not a FIFO`);
  } catch (err) {
    throw new FieldcamError('INPUT_READ_FAILED', `trigger ${path}: ${(err as Error).message}`);
  }
  return nodeCamera(fd);
}
