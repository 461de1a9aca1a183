import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { feedCamera } from './feedCamera.ts';

/** What sim/board needs of a built image (host/lib/buildImage.ts writes it as image.json). */
export interface BootImage {
  readonly dir: string;
  readonly qemuCpu?: string;
  readonly runtimeFlags: readonly string[];
}

export interface BootOptions {
  readonly image: BootImage;
  /**
   * The device configuration file (firmware/app/DeviceConfig.ts, camera.fd 0), or a device bundle directory
   * with the board manifest the image carries (`--bundle DIR --board board.json`, docs/device-bundle.md).
   */
  readonly config: string | DeviceSource;
  readonly video: string;
  readonly loop: boolean;
  /** Camera pacing: the file's bytes per second, or 0 for as fast as the board reads. */
  readonly bytesPerSecond: number;
  /** Camera pace multiplier (feedCamera `rate`), for an image run with `--time-scale N` in its runtime flags. */
  readonly rate?: number;
  /** Each JSON line the firmware prints (boot, status, event, summary, error). */
  readonly onRecord: (record: Record<string, unknown>) => void;
  readonly cwd?: string;
}

export interface BootedBoard {
  readonly child: ChildProcess;
  /** SIGTERM: the firmware sends what it holds and waits for the last PERSISTED, then exits. */
  stop(): void;
  /** Exit code (or 128 + signal number) and the runtime's stderr. */
  readonly exited: Promise<{ readonly code: number; readonly stderr: string }>;
}

/** A provisioned device's start: its bundle and the board manifest (the image's board.json when absent). */
export interface DeviceSource {
  readonly bundle: string;
  readonly board?: string;
}

const SIGNALS: Readonly<Record<string, number>> = Object.freeze({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGBUS: 7, SIGABRT: 6, SIGILL: 4 });

/** The command line that starts an image: natively for x86_64, under `qemu-arm -cpu <model>` for ARM targets. */
export function bootCommand(image: BootImage, config: string | DeviceSource): { command: string; args: string[] } {
  const runtime = join(image.dir, 'fieldcam-runtime');
  const source = typeof config === 'string' ? ['--config', config] : ['--bundle', config.bundle, '--board', config.board ?? join(image.dir, 'board.json')];
  const args = [...image.runtimeFlags, join(image.dir, 'firmware.js'), ...source];
  return image.qemuCpu ? { command: 'qemu-arm', args: ['-cpu', image.qemuCpu, runtime, ...args] } : { command: runtime, args };
}

/**
 * Boots one simulated board: the image's runtime as a process (under QEMU user mode for ARM, no binfmt),
 * its camera fed on stdin from a file, its JSON status lines parsed from stdout. The network is the host's
 * loopback, where the local cloud listens.
 */
export function bootBoard(o: BootOptions): BootedBoard {
  const { command, args } = bootCommand(o.image, o.config);
  const child = spawn(command, args, { cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const stopFeed = feedCamera(child.stdin!, { video: o.video, loop: o.loop, bytesPerSecond: o.bytesPerSecond, ...(o.rate ? { rate: o.rate } : {}) });
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
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
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number; stderr: string }>((resolve) => {
    child.on('error', (err) => {
      stderr += `${command}: ${err.message}\n`;
    });
    child.on('close', (code, signal) => {
      stopFeed();
      resolve({ code: code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0), stderr });
    });
  });
  return {
    child,
    stop: () => {
      stopFeed();
      child.kill('SIGTERM');
    },
    exited,
  };
}
