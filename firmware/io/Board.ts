import type { AckScanPort } from './AckScan.ts';
import type { ClockPort } from './Clock.ts';
import type { FrameReleasePort } from './FrameRelease.ts';
import type { ByteScanPort } from './ByteScan.ts';
import type { FrameSourceFactory } from './FrameSource.ts';
import type { HashPort } from './Hash.ts';
import type { SocketFactory } from './Socket.ts';
import type { StoragePort } from './Storage.ts';
import type { TimerPort } from './Timer.ts';
import type { MkvBlockNative } from './MkvBlock.ts';
import type { FrameQueuePort } from './FrameQueue.ts';

/** Memory of the JS machine, for status lines and the memory budget (bytes; 0 where a board cannot tell). */
export interface MemoryStats {
  readonly heapBytes: number;
  readonly peakBytes: number;
  readonly limitBytes: number;
  /** Heap held when the app's budget began (limitAppHeap): engine built-ins and parsed bytecode; 0 if none. */
  readonly baselineBytes?: number;
  /** The engine's split where it reports one (XS): chunk and slot bytes in use, now and at their peak. */
  readonly chunkBytes?: number;
  readonly peakChunkBytes?: number;
  readonly slotBytes?: number;
  readonly peakSlotBytes?: number;
}

/** TLS work since start, every session: application-data records written, their bytes, handshakes completed. */
export interface TlsStats {
  readonly records: number;
  readonly bytes: number;
  readonly handshakes: number;
}

/**
 * Everything the app needs from the board it runs on: the ports the core takes, plus the process-level
 * capabilities of the composition root. Implemented by firmware/boards/xs (the device) and
 * firmware/boards/node (host tools and tests), so the same app runs on both.
 */
export interface Board {
  /** Names the board layer in status lines and the User-Agent ("xs", "node"). */
  readonly runtime: string;
  readonly clock: ClockPort;
  readonly timers: TimerPort;
  readonly sockets: SocketFactory;
  readonly hash: HashPort;
  /** Files for the spool (append-only segments, fsync, directory listing, free space). */
  readonly storage: StoragePort;
  /** Native byte search for the camera readers; absent where the JS loops are fast (Node). */
  readonly byteScan?: ByteScanPort;
  /** Native Matroska SimpleBlock views (the media path's per-frame cost in XS); absent on Node, which keeps the TS path. */
  readonly mkvBlock?: MkvBlockNative;
  /** Native frame release (release.c: FragmentQueue.releaseHead with FramePool.freeFrame); absent on Node, which keeps the TS path. */
  readonly frameRelease?: FrameReleasePort;
  /** Native stamping and queueing of a file's frames (frames.c); absent on Node, which keeps FrameInput's TypeScript path. */
  readonly frameQueue?: FrameQueuePort;
  /** Native framing of the PutMedia ACK stream (ack.c); absent on Node, which keeps AckParser's TypeScript walk. */
  readonly ackScan?: AckScanPort;
  /** The camera on descriptor `fd`. Throws FieldcamError INPUT_READ_FAILED when it cannot be opened. */
  camera(fd: number): FrameSourceFactory;
  /**
   * The local event trigger (docs/events.md): the FIFO at `path`, created when missing and opened read-write so a
   * writer closing its end is not the end; read like the camera. Throws FieldcamError INPUT_READ_FAILED. Absent: no trigger.
   */
  fifo?(path: string): FrameSourceFactory;
  /** A whole text file (configuration, CA bundle); throws Error naming the path. */
  readText(path: string): string;
  /**
   * A whole binary file (the bundle's device.cbor, the control state file); throws Error naming the path, whose
   * message starts with "ENOENT" when the file does not exist (both boards: the host's code word, Node's errno).
   */
  readBytes(path: string): Uint8Array;
  /** Replaces `path` with `bytes` atomically (temporary file, fsync, rename): the control state file survives power loss. */
  writeBytesAtomic(path: string, bytes: Uint8Array): void;
  /**
   * Removes what a crash during `writeBytesAtomic(path, …)` left: the files beside `path` named
   * `<basename>.tmp-<digits>` (the one temporary name both boards use), never this process's own. Returns the count.
   */
  removeStaleTemps(path: string): number;
  /** One line to standard output (the simulator reads status lines from it). */
  print(line: string): void;
  /** One line to standard error: the reason the device exits (systemd's journal shows it with the exit code). */
  printError(line: string): void;
  /** SIGINT / SIGTERM: the app stops cleanly (second signal: the runtime exits at once). */
  onStop(callback: () => void): void;
  memory(): MemoryStats;
  /**
   * The bytes of one of the engine's fixed-size cells (XS: 16 on a 32-bit build, 32 on a 64-bit one), which the boot
   * check's per-camera heap estimate counts in (firmware/app/heapBudget.ts); absent where the engine has none (Node).
   */
  readonly slotSize?: number;
  /**
   * The frame pool's memory, outside the JS heap where the board has such memory (the XS host mallocs it once at
   * boot; the runtime's heap limit then covers only the JS machine). Absent: the pool is an ArrayBuffer.
   */
  readonly framePoolMemory?: (bytes: number) => ArrayBufferLike;
  /** Caps what the app may allocate from now on (the ESP32 profile's heap budget); absent where nothing enforces it. */
  readonly limitAppHeap?: (bytes: number) => void;
  /** TLS counters where the board's TLS layer keeps them (the XS host's mbedTLS); absent elsewhere. */
  readonly tls?: () => TlsStats;
  /** Deterministic cost counter (XS computrons); 0 where there is none. */
  computrons(): number;
  /** A random number in [0, 1) for backoff jitter and the SegmentUID. */
  random(): number;
}
