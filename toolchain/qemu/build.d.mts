// Types for build.mjs, so TypeScript tests and tools can import it.

/** build/qemu/libinsncount.so */
export declare const PLUGIN: string;
/** The syscall number measurement builds use to bracket a region (see insncount.c). */
export declare const MARKER_SYSCALL: number;

export declare class QemuPluginError extends Error {}

export declare function buildInsnPlugin(options?: { qemu?: string; log?: (line: string) => void }): string;

export interface CountOptions {
  /** qemu user-mode binary; default `qemu-arm`. */
  qemu?: string;
  /** `-cpu` model, e.g. `arm1176` (from the board manifest). */
  cpu: string;
  program: string;
  args?: readonly string[];
  /** Default: the repository root. */
  cwd?: string;
  /** Written to the guest's stdin, which is then closed. Default: empty. */
  stdin?: string | Uint8Array;
  /** A regular file opened as the guest's stdin instead (reads never block: deterministic counts). */
  stdinFile?: string;
  /** `insn` (default, exact across early exits) or `tb` (cheaper; overcounts when a block is left midway). */
  per?: 'insn' | 'tb';
  /** Count between syscall(marker, 1) and syscall(marker, 0) too. */
  marker?: number;
  /**
   * Address ranges of the program by stage (its functions by the part they belong to): each instruction also
   * counts against the stage whose range holds it, the rest as `rest`. Needs per `insn`.
   */
  stages?: readonly StageRange[];
  /** The guest's whole environment; default empty (libc start-up scans it, so it moves the count). */
  env?: NodeJS.ProcessEnv;
}

export interface StageRange {
  readonly start: number | bigint;
  readonly size: number | bigint;
  /** At most 31 characters, no spaces; at most 15 distinct names. */
  readonly stage: string;
}

export interface CountResult {
  instructions: bigint;
  /** Instructions inside closed marker windows (with `marker`). */
  marked?: bigint;
  /** Closed marker windows (with `marker`). */
  windows?: number;
  /** Instructions per stage, `rest` included (with `stages`); they add up to `instructions`. */
  stages?: Record<string, bigint>;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export declare function countInstructions(options: CountOptions): Promise<CountResult>;
