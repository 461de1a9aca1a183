import { readFileSync } from 'node:fs';
import { bootBoard, type BootedBoard, type BootImage, type DeviceSource } from '../board/bootBoard.ts';
import { putMediaConnections } from '../cloud/kvs/media/putMediaRoute.ts';
import type { RunningCloud } from '../cloud/startCloud.ts';

export interface ObserveOptions {
  readonly cloud: RunningCloud;
  readonly image: BootImage;
  readonly config: string | DeviceSource;
  /** The stream the device writes (its first PutMedia byte is looked for on the cloud's connections). */
  readonly stream: string;
  readonly video: string;
  readonly loop: boolean;
  /** Camera pacing: the clip's bytes per second, or 0 for as fast as the board reads. */
  readonly bytesPerSecond: number;
  /** Camera pace multiplier for an image run with `--time-scale N`. */
  readonly rate?: number;
  readonly cwd: string;
  /** Each JSON line the firmware prints, with the process's RSS read at that moment (0 once it has exited). */
  readonly onRecord?: (record: Record<string, unknown>, rssBytes: number) => void;
  /** Called at each poll (every 5 ms), after the RSS and first-byte checks: the caller's own sampling. */
  readonly onPoll?: () => void;
}

export interface DeviceObservation {
  readonly exit: { readonly code: number; readonly stderr: string };
  readonly booted: boolean;
  /** The device's summary line (its totals at the end), when it printed one. */
  readonly summary: Record<string, unknown> | undefined;
  /** The process's peak resident set (VmHWM), for an ARM board the qemu-arm process with QEMU in it. */
  readonly peakRssBytes: number;
  /** Cloud-clock ms from the start to the first PutMedia byte of `stream` the cloud received; -1 if none. */
  readonly firstByteMs: number;
}

export interface ObservedDevice {
  readonly board: BootedBoard;
  readonly done: Promise<DeviceObservation>;
}

function status(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (pid === undefined) return 0;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // exited between two polls
  }
}

/**
 * One device run against the local cloud, observed from outside the way `fieldcam profile` and `npm run bench`
 * both need it: the image booted with the clip as its camera (sim/board/bootBoard.ts), its JSON lines with the
 * RSS at each, its peak RSS and the cloud's first PutMedia byte polled every 5 ms, and its summary line.
 */
export function observeDevice(o: ObserveOptions): ObservedDevice {
  const t0 = o.cloud.ctx.now();
  let summary: Record<string, unknown> | undefined;
  let booted = false;
  let peakRssBytes = 0;
  let firstByteMs = -1;
  const board = bootBoard({
    image: o.image,
    config: o.config,
    video: o.video,
    loop: o.loop,
    bytesPerSecond: o.bytesPerSecond,
    ...(o.rate ? { rate: o.rate } : {}),
    cwd: o.cwd,
    onRecord: (r) => {
      if (r.type === 'boot') booted = true;
      if (r.type === 'summary') summary = r;
      o.onRecord?.(r, status(board.child.pid, 'VmRSS'));
    },
  });
  const poll = () => {
    peakRssBytes = Math.max(peakRssBytes, status(board.child.pid, 'VmHWM'));
    if (firstByteMs < 0) {
      const c = putMediaConnections(o.cloud.ctx);
      if ([...c.active, ...c.recent].some((x) => x.stream === o.stream && x.stats.bytes > 0)) firstByteMs = o.cloud.ctx.now() - t0;
    }
    o.onPoll?.();
  };
  const poller = setInterval(poll, 5);
  const done = board.exited.then((exit) => {
    poll();
    clearInterval(poller);
    return { exit, booted: booted || summary !== undefined, summary, peakRssBytes, firstByteMs };
  });
  return { board, done };
}
