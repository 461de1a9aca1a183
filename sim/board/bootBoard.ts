import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { feedCamera, type CameraFeed } from './feedCamera.ts';

/** What sim/board needs of a built image (host/lib/buildImage.ts writes it as image.json). */
export interface BootImage {
  readonly dir: string;
  readonly qemuCpu?: string;
  /** The QEMU user-mode emulator (image.json `qemu`: qemu-arm, qemu-aarch64); qemu-arm when absent. */
  readonly qemu?: string;
  readonly runtimeFlags: readonly string[];
}

export interface BootOptions {
  readonly image: BootImage;
  /**
   * The device configuration file (firmware/app/DeviceConfig.ts, camera.fd 0), or a device bundle directory
   * with the board manifest the image carries (`--bundle DIR --board board.json`, docs/device-bundle.md).
   */
  readonly config: string | DeviceSource;
  /** The camera's file, fed on stdin (a device with one camera); with `cameras`, unused. */
  readonly video: string;
  /**
   * A device with several cameras: camera i's file is fed on descriptor 3 + i (CAMERA_FD_BASE, as the run script
   * passes capture pipes), each paced at its own rate (times `rate`); stdin is then not fed.
   */
  readonly cameras?: readonly { readonly video: string; readonly bytesPerSecond: number }[];
  /**
   * Microphones (issue 18 audio): file j (ADTS or raw G.711) is fed on descriptor 3 + cameras + j, the descriptor
   * the device's `audio.fd` names, paced like the cameras. Their feeds are not in `cameras`.
   */
  readonly audio?: readonly { readonly file: string; readonly bytesPerSecond: number }[];
  readonly loop: boolean;
  /** Camera pacing: the file's bytes per second, or 0 for as fast as the board reads. */
  readonly bytesPerSecond: number;
  /** Camera pace multiplier (feedCamera `rate`), for an image run with `--time-scale N` in its runtime flags. */
  readonly rate?: number;
  /** Each JSON line the firmware prints (boot, status, event, summary, error). */
  readonly onRecord: (record: Record<string, unknown>) => void;
  readonly cwd?: string;
  /** Rewrites the command line before each spawn (sim/faults/namespaceCommand.ts: a board with its own resolv.conf). */
  readonly wrap?: (command: string, args: readonly string[]) => { command: string; args: string[] };
}

export interface BootedBoard {
  /** The running process (a new one after each DEVICE_EXIT.RESTART). */
  readonly child: ChildProcess;
  /** SIGTERM: the firmware sends what it holds and waits for the last PERSISTED, then exits. */
  stop(): void;
  /** The current run's camera feeder: pause, flood, cut (sim/board/feedCamera.ts); with `cameras`, the first one's. */
  readonly camera: CameraFeed;
  /** The current run's feeders of `cameras`, in order (one camera: `[camera]`). */
  readonly cameras: readonly CameraFeed[];
  /** The current run's feeders of `audio`, in order (none without microphones): paused and resumed like the cameras. */
  readonly microphones: readonly CameraFeed[];
  /** Exit code (or 128 + signal number) and the runtime's stderr. */
  readonly exited: Promise<{ readonly code: number; readonly stderr: string }>;
}

/** A provisioned device's start: its bundle and the board manifest (the image's board.json when absent). */
export interface DeviceSource {
  readonly bundle: string;
  readonly board?: string;
  /** The control channel's state file (`--state`); the firmware's default is control-state.cbor beside the bundle. */
  readonly state?: string;
  /** The feeder replays a recording (`--recorded`: its cadence, a clean end). Default true; false: a camera (capture clock, cut tail). */
  readonly recorded?: boolean;
}

const SIGNALS: Readonly<Record<string, number>> = Object.freeze({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGBUS: 7, SIGABRT: 6, SIGILL: 4 });

/** The command line that starts an image: natively for x86_64, under `qemu-arm|qemu-aarch64 -cpu <model>` for ARM targets. */
export function bootCommand(image: BootImage, config: string | DeviceSource): { command: string; args: string[] } {
  const runtime = join(image.dir, 'fieldcam-runtime');
  const source =
    typeof config === 'string'
      ? ['--config', config]
      : [
          '--bundle',
          config.bundle,
          '--board',
          config.board ?? join(image.dir, 'board.json'),
          ...(config.state ? ['--state', config.state] : []),
          ...(config.recorded === false ? [] : ['--recorded']),
        ];
  const args = [...image.runtimeFlags, join(image.dir, 'firmware.js'), ...source];
  return image.qemuCpu ? { command: image.qemu ?? 'qemu-arm', args: ['-cpu', image.qemuCpu, runtime, ...args] } : { command: runtime, args };
}

/** How long after the runtime's exit its output pipes may stay open (their last lines are read meanwhile). */
const CLOSE_GRACE_MS = 2000;

/** The firmware's DEVICE_EXIT.RESTART (firmware/app/runDevice.ts): a control channel `restart` command. */
const EXIT_RESTART = 12;

/**
 * Boots one simulated board: the image's runtime as a process (under QEMU user mode for ARM, no binfmt),
 * its camera fed on stdin from a file, its JSON status lines parsed from stdout. The network is the host's
 * loopback, where the local cloud listens. Like systemd's `Restart=always` for the flashed unit, a firmware
 * that exits with DEVICE_EXIT.RESTART (12, after a `restart` command) is started again at once, with a fresh
 * camera feed, and a `{ type: 'sim', event: 'restart' }` record is reported; `exited` settles with the exit
 * of the last run (any other code, or a stop).
 */
export function bootBoard(o: BootOptions): BootedBoard {
  const plain = bootCommand(o.image, o.config);
  const { command, args } = o.wrap ? o.wrap(plain.command, plain.args) : plain;
  // systemd creates the unit's StateDirectory; a simulated board gets its state file's directory here.
  if (typeof o.config !== 'string' && o.config.state) mkdirSync(dirname(o.config.state), { recursive: true, mode: 0o700 });
  let stopped = false;
  let stderr = '';
  let child!: ChildProcess;
  let feeds: CameraFeed[] = [];
  let mics: CameraFeed[] = [];
  let finish!: (result: { code: number; stderr: string }) => void;
  const exited = new Promise<{ code: number; stderr: string }>((resolve) => (finish = resolve));

  const run = () => {
    const several = o.cameras ?? [];
    const micFiles = o.audio ?? [];
    const extraPipes = [...several, ...micFiles].map(() => 'pipe' as const);
    child = spawn(command, args, { cwd: o.cwd, stdio: [several.length ? 'ignore' : 'pipe', 'pipe', 'pipe', ...extraPipes] });
    const current = child;
    const rate = o.rate ? { rate: o.rate } : {};
    const runFeeds = several.length
      ? several.map((c, i) => feedCamera(current.stdio[3 + i] as Writable, { video: c.video, loop: o.loop, bytesPerSecond: c.bytesPerSecond, ...rate }))
      : [feedCamera(current.stdin!, { video: o.video, loop: o.loop, bytesPerSecond: o.bytesPerSecond, ...rate })];
    feeds = runFeeds;
    const micFeeds = micFiles.map((m, j) =>
      feedCamera(current.stdio[3 + several.length + j] as Writable, { video: m.file, loop: o.loop, bytesPerSecond: m.bytesPerSecond, ...rate }),
    );
    mics = micFeeds;
    const feedStop = () => {
      for (const f of [...runFeeds, ...micFeeds]) f();
    };
    let pending = '';
    current.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!text.startsWith('{')) continue;
        try {
          o.onRecord(JSON.parse(text) as Record<string, unknown>);
        } catch {
          // a line cut by a crash: the exit code tells what happened
        }
      }
    });
    current.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
    });
    current.on('error', (err) => {
      stderr += `${command}: ${err.message}\n`;
    });
    // The runtime is gone (OUT_OF_MEMORY, a crash, a stop): the camera stops at once and its pipe is torn down,
    // rather than waiting for a write to fail. 'close' (which settles `exited`) needs stdout and stderr closed
    // too; should anything still hold them a moment after the exit, they are destroyed so `exited` always
    // settles — a test awaiting it after an OUT_OF_MEMORY must fail with the exit code, not hang.
    let orphaned: NodeJS.Timeout | undefined;
    current.once('exit', () => {
      feedStop();
      current.stdin?.destroy();
      for (let i = 0; i < several.length + micFiles.length; i++) (current.stdio[3 + i] as Writable | null)?.destroy();
      orphaned = setTimeout(() => {
        current.stdout?.destroy();
        current.stderr?.destroy();
      }, CLOSE_GRACE_MS);
      orphaned.unref();
    });
    current.on('close', (code, signal) => {
      if (orphaned) clearTimeout(orphaned);
      feedStop();
      const exitCode = code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0);
      if (exitCode === EXIT_RESTART && !stopped) {
        o.onRecord({ type: 'sim', event: 'restart', code: exitCode });
        run();
        return;
      }
      finish({ code: exitCode, stderr });
    });
  };
  run();
  return {
    get child() {
      return child;
    },
    get camera() {
      return feeds[0]!;
    },
    get cameras() {
      return feeds;
    },
    get microphones() {
      return mics;
    },
    stop: () => {
      stopped = true;
      for (const f of feeds) f();
      child.kill('SIGTERM');
    },
    exited,
  };
}
