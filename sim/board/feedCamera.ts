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
 * The feeder's stop function, with the controls fault tests drive a camera with (issue 11: a camera pipe that
 * pauses, floods and is cut). Positions count every byte written, loops included.
 */
export interface CameraFeed {
  /** Ends the stream (closes the pipe): the camera is gone. */
  (): void;
  /** The camera stops producing: nothing is written until `resume()` (the file position stays where it is). */
  pause(): void;
  /** Producing again at the paced rate; the time paused is not made up (a paused camera captured nothing). */
  resume(): void;
  /** A backlog at once: the next `bytes` bytes are written as fast as the pipe takes them, outside the pacing. */
  flood(bytes: number): void;
  /** The camera dies at stream position `position` (ahead of `written`): bytes up to it are written, then the pipe ends. */
  cutAt(position: number): void;
  /** Bytes handed to the pipe so far. */
  readonly written: number;
  /** Settles when the pipe has ended (a cut, the end of the file, a stop). */
  readonly ended: Promise<void>;
}

/**
 * The simulated camera: the file's bytes written into the board's camera pipe (its stdin), either paced at
 * the file's bitrate, like an encoder producing frames in real time, or as fast as the board reads them
 * (pipe backpressure). Returns a stop function; the pipe is ended when the file ends (no loop) or on stop.
 */
export function feedCamera(pipe: Writable, o: FeedOptions): CameraFeed {
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
  let written = 0;
  let paused = false;
  let flooding = 0;
  let cutAt = Infinity;
  let waitingDrain = false;
  let endedResolve!: () => void;
  const ended = new Promise<void>((resolve) => (endedResolve = resolve));

  const finish = () => {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    closeSync(fd);
    pipe.end();
    endedResolve();
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
    waitingDrain = false;
    if (stopped) return;
    const now = performance.now();
    if (bytesPerSecond > 0 && !paused) {
      credit = Math.min(credit + ((now - last) / 1000) * bytesPerSecond, bytesPerSecond); // at most 1 s of backlog
    }
    last = now;
    for (;;) {
      if (written >= cutAt) return finish();
      let want = flooding > 0 ? Math.min(flooding, CHUNK) : paused ? 0 : bytesPerSecond > 0 ? Math.floor(credit) : CHUNK;
      want = Math.min(want, cutAt - written);
      if (want <= 0) break;
      const chunk = next(want);
      if (chunk.length === 0) return finish();
      if (flooding > 0) flooding -= chunk.length;
      else credit -= chunk.length;
      written += chunk.length;
      // write() copies nothing we reuse later only if we hand it a copy: the buffer is reused on the next read.
      if (!pipe.write(Buffer.from(chunk))) {
        waitingDrain = true;
        pipe.once('drain', pump);
        return;
      }
      if (flooding <= 0 && bytesPerSecond > 0 && credit < 1) break;
    }
    timer = setTimeout(pump, TICK_MS);
  };
  /** Runs the pump now (a control changed what it may write), unless it waits for the pipe to drain. */
  const kick = () => {
    if (stopped || waitingDrain) return;
    if (timer) clearTimeout(timer);
    pump();
  };
  pump();
  const feed = finish as CameraFeed;
  return Object.defineProperties(feed, {
    pause: {
      value: () => {
        paused = true;
      },
    },
    resume: {
      value: () => {
        paused = false;
        credit = 0;
        last = performance.now();
        kick();
      },
    },
    flood: {
      value: (bytes: number) => {
        flooding += bytes;
        kick();
      },
    },
    cutAt: {
      value: (position: number) => {
        cutAt = Math.max(position, written);
        kick();
      },
    },
    written: { get: () => written },
    ended: { value: ended },
  });
}
