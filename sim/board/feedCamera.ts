import { closeSync, openSync, readSync } from 'node:fs';
import type { Writable } from 'node:stream';

export interface FeedOptions {
  readonly video: string;
  /** Start over at the end of the file (a camera that never stops); otherwise end the stream after one pass. */
  readonly loop: boolean;
  /** Bytes per second to deliver (the file's own bitrate for a real-time camera); 0 = as fast as the board reads. */
  readonly bytesPerSecond: number;
  /**
   * Pace multiplier (default 1): deliver `bytesPerSecond × rate` bytes per real second, for a board whose
   * clocks run `rate` times faster (`fieldcam-runtime --time-scale N`): a camera that keeps real time in the
   * device's time.
   */
  readonly rate?: number;
}

const TICK_MS = 50;
const CHUNK = 64 * 1024;

/**
 * The simulated camera: the file's bytes written into the board's camera pipe (its stdin), either paced at
 * the file's bitrate, like an encoder producing frames in real time, or as fast as the board reads them
 * (pipe backpressure). Returns a stop function; the pipe is ended when the file ends (no loop) or on stop.
 */
export function feedCamera(pipe: Writable, o: FeedOptions): () => void {
  const rate = o.rate ?? 1;
  if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`rate: ${o.rate} is not a positive number`);
  const bytesPerSecond = o.bytesPerSecond * rate;
  const fd = openSync(o.video, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let position = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let credit = 0;
  let last = performance.now();

  const finish = () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    closeSync(fd);
    pipe.end();
  };
  pipe.on('error', finish); // the board exited: nothing more to feed
  pipe.on('close', finish);

  /** Next bytes of the file (looping when asked); an empty result means the one pass is over. */
  const next = (max: number): Buffer => {
    let n = readSync(fd, buffer, 0, Math.min(max, CHUNK), position);
    if (n === 0 && o.loop && position > 0) n = readSync(fd, buffer, 0, Math.min(max, CHUNK), (position = 0));
    position += n;
    return buffer.subarray(0, n);
  };

  const pump = () => {
    timer = undefined;
    if (stopped) return;
    if (bytesPerSecond > 0) {
      const now = performance.now();
      credit = Math.min(credit + ((now - last) / 1000) * bytesPerSecond, bytesPerSecond); // at most 1 s of backlog
      last = now;
    }
    for (;;) {
      const want = bytesPerSecond > 0 ? Math.floor(credit) : CHUNK;
      if (want <= 0) break;
      const chunk = next(want);
      if (chunk.length === 0) return finish();
      credit -= chunk.length;
      // write() copies nothing we reuse later only if we hand it a copy: the buffer is reused on the next read.
      if (!pipe.write(Buffer.from(chunk))) {
        pipe.once('drain', pump);
        return;
      }
      if (bytesPerSecond > 0 && credit < 1) break;
    }
    timer = setTimeout(pump, TICK_MS);
  };
  pump();
  return finish;
}
