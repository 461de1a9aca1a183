import type { Frame } from '../../core/media/Frame.ts';
import type { ViewList } from '../../core/media/ViewList.ts';

/**
 * The C host's `native` object (firmware/runtime/*.c): the only door from JS to the board. This declaration is
 * the contract between the host and the adapters in this folder; nothing outside firmware/boards/xs (and the
 * XS test harness) touches `native` directly.
 *
 * Conventions
 * - Byte ranges are (Uint8Array view, offset, length) with offset relative to the view; the host checks bounds and
 *   throws RangeError. Natives never keep a reference to a view after they return.
 * - Resources are small integer handles (sockets, timers). Events come back through ONE dispatcher function
 *   set with `setDispatcher`; the host never holds other JS references. After each dispatch the host drains
 *   promise jobs; an exception escaping the dispatcher or an unhandled rejection is fatal (exit 1 / 5).
 * - System errors throw Error whose message starts with a stable code word (e.g. "ENOENT: …", "TLS_VERIFY: …").
 */
export interface NativeHost {
  // ---- basics (present since the first milestone) ----
  print(line: string): void;
  /** One line on standard error (why the device exits; journalctl shows it). */
  printError(line: string): void;
  readFile(path: string): ArrayBuffer;
  exit(code: number): never;
  /** Milliseconds from CLOCK_MONOTONIC; N times faster under the test knob `--time-scale N` (runtime clock.c). */
  monotonic(): number;
  /**
   * Wall clock, epoch milliseconds (CLOCK_REALTIME; scaled like monotonic() under `--time-scale N`). The skew
   * offset lives in JS (ServerClock).
   */
  now(): number;
  computrons(): number;
  heapBytes(): number;
  readonly argv: readonly string[];

  // ---- event loop ----
  /** The one callback for every host event; see EVENT. */
  setDispatcher(dispatch: (event: number, handle: number, value: number | string | undefined) => void): void;
  /** One-shot timer: dispatch(EVENT.TIMER, id) after `ms` of monotonic() time (>= 0, clamped to an int32). Returns id > 0. */
  setTimer(ms: number): number;
  /** Cancels a pending timer; unknown or fired ids are ignored. */
  clearTimer(id: number): void;
  /** dispatch(EVENT.SIGNAL, signo, name) on SIGINT / SIGTERM (a second one of the same kind exits at once, 130/143). */
  watchSignals(): void;

  // ---- frame input from a file descriptor (the camera) ----
  /** Sets `fd` non-blocking. Throws "EBADF: …" when it is not open. */
  openInput(fd: number): void;
  /** Arms a one-shot readiness watch: dispatch(EVENT.INPUT_READABLE, fd) when readable, at EOF, or on error. */
  watchInput(fd: number): void;
  /** Reads up to `length` bytes straight into `into` (a pool slot). Returns n > 0, 0 at EOF, -1 when it would block. Throws "E…: …" on error. */
  readInput(fd: number, into: Uint8Array, offset: number, length: number): number;
  closeInput(fd: number): void;
  /** The local event trigger: creates the FIFO at `path` when missing, opens it read-write, non-blocking; returns its fd. Throws "E…: …". */
  openFifo(path: string): number;

  // ---- files ----
  /** Writes the range to `path` atomically (temp file in the same folder, fsync, rename). Throws "E…: path: …". */
  writeFileAtomic(path: string, data: Uint8Array, offset: number, length: number): void;
  /** Removes `<basename>.tmp-<digits>` files beside `path` (a crashed writeFileAtomic; never this process's own). Returns the count. */
  removeStaleTemps(path: string): number;

  // ---- storage (runtime storage.c; the spool): errors throw "E…: path: …" ----
  /** Opens for reading and appending (O_APPEND), creating it 0600. Returns the descriptor. */
  storageOpen(path: string): number;
  storageAppend(fd: number, data: Uint8Array, offset: number, length: number): void;
  /** pread into the range; returns the bytes read (fewer only at the end of the file). */
  storageRead(fd: number, position: number, into: Uint8Array, offset: number, length: number): number;
  storageSync(fd: number): void;
  storageTruncate(fd: number, size: number): void;
  storageSize(fd: number): number;
  storageClose(fd: number): void;
  /** rename, then fsync of the target's folder. */
  storageRename(from: string, to: string): void;
  /** unlink, then fsync of the folder. */
  storageRemove(path: string): void;
  /** Entries of a folder except "." and "..", unsorted. */
  storageList(folder: string): string[];
  /** mkdir 0700 of ONE level; an existing folder is fine. */
  storageMakeDirectory(path: string): void;
  /** statvfs: bytes available to this process on path's file system. */
  storageFreeBytes(path: string): number;
  /** CRC-32 (IEEE) of data[offset, offset + length), continued from `crc` (0 to start). The host checks the range. */
  storageCrc32(crc: number, data: Uint8Array, offset: number, length: number): number;

  // ---- byte search (memchr) ----
  /** The first index i in [from, to) with data[i] === value (0-255), or -1. The host checks the range. */
  indexOfByte(data: Uint8Array, value: number, from: number, to: number): number;
  /**
   * Annex-B start codes, word at a time (scan.c): for each `00 00 01` whose 01 is at p in [from + 2, to), in order,
   * found[2k] = p and found[2k + 1] = the zero bytes just before p, counted back no further than `from`. Stops when
   * `found` is full; returns the number of pairs.
   */
  findStartCodes(data: Uint8Array, from: number, to: number, found: Uint32Array): number;
  /** The H.264 reader's NAL walk over one read (scan.c; the contract is ByteScanPort.classifyNals). */
  classifyNals(data: Uint8Array, from: number, to: number, zeros: number, hasVcl: boolean, out: Uint32Array): number;
  /** The H.264 reader's access-unit walk (accessunits.c; the contract is ByteScanPort.closeAccessUnit). */
  closeAccessUnit(
    data: Uint8Array,
    from: number,
    to: number,
    base: number,
    state: Float64Array,
    table: Float64Array,
    sps: Uint8Array,
    pps: Uint8Array,
    cursor?: object,
    pool?: object,
    batch?: unknown[],
  ): number;
  /** A camera read committed and walked in the reader's steady state (accessunits.c; the contract is ByteScanPort.pushAccessUnits). */
  pushAccessUnits(
    cursor: object,
    n: number,
    state: Float64Array,
    table: Float64Array,
    sps: Uint8Array,
    pps: Uint8Array,
    pool?: object,
    batch?: unknown[],
  ): number;
  /** The camera's read itself, then as pushAccessUnits (accessunits.c, cursor.c; the contract is ByteScanPort.readAccessUnits). */
  readAccessUnits(source: object, limit: number, reader: object): number;
  /** An access unit's NAL table into a frame record (accessunits.c; the contract is ByteScanPort.copyNalTable). */
  copyNalTable(table: Float64Array, count: number, start: number, offsets: Uint32Array, lengths: Uint32Array, prefixes: Uint8Array, types: Uint8Array): void;
  /** A complete access unit's whole frame record (records.c; the contract is ByteScanPort.fillFrameRecord). */
  fillFrameRecord(frame: object, cursor: object, table: Float64Array, count: number, start: number, end: number, seq: number, key: boolean): void;
  /** FrameInput.onFrame's steady state: a frame stamped and queued (frames.c; the contract is FrameQueuePort.queueFrame). */
  queueFrame(frame: object, input: object): number;
  /** The JPEG scanner up to its next event (scan.c; the contract is ByteScanPort.scanJpeg). */
  scanJpeg(data: Uint8Array, from: number, to: number, state: Uint32Array): number;
  /** A camera read committed into the cursor and walked, complete images into the batch (images.c; the contract is ByteScanPort.pushJpeg). */
  pushJpeg(cursor: object, n: number, state: Uint32Array, walk: Float64Array, pool?: object, batch?: unknown[]): number;
  /** The camera's read itself, then as pushJpeg (images.c, cursor.c; the contract is ByteScanPort.readJpeg). */
  readJpeg(source: object, limit: number, reader: object): number;

  /** The PutMedia ACK stream's framing walk (ack.c; the contract is AckScanPort.followAck). */
  ackFollow(bytes: Uint8Array, from: number, end: number, state: Float64Array, scratch: Uint8Array): number;
  /** A complete plain ACK as KVS sends it, read without JSON.parse (ack.c; the contract is AckScanPort.readAck). */
  ackRead(scratch: Uint8Array, length: number, out: Float64Array): number;

  // ---- Matroska ----
  /** One SimpleBlock's header and payload views appended to a ViewList (block.c; the contract is MkvBlockPort.pushBlock). */
  mkvBlock(frame: Frame, out: ViewList, header: Uint8Array, relative: number, lengths: Uint8Array | null): number;
  /** MkvWriter.block's checks, the block and the state update in one call (block.c; the contract is MkvBlockPort.writeBlock). */
  mkvWriteBlock(frame: Frame, out: ViewList, header: Uint8Array, lengths: Uint8Array | null, state: Float64Array): number;
  /** mkvWriteBlock into the emptied list, the frame last (block.c; the contract is MkvBlockPort.writeBlockAlone). */
  mkvWriteBlockAlone(out: ViewList, header: Uint8Array, lengths: Uint8Array | null, state: Float64Array, frame: Frame): number;
  /** FragmentQueue.releaseHead with FramePool.freeFrame in one call (release.c; the contract is FrameReleasePort.releaseHead). */
  releaseHead(queue: object, pool: object): boolean;

  // ---- hashes (mbedTLS) ----
  sha256(data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): void;
  hmacSha256(key: Uint8Array, data: Uint8Array, offset: number, length: number, out: Uint8Array, outOffset: number): void;

  // ---- client sockets: non-blocking TCP with DNS, optional TLS 1.2+ (mbedTLS, server verification always on) ----
  /**
   * Starts connecting; returns a handle at once. Events: SOCKET_CONNECT (after the TLS handshake when TLS),
   * SOCKET_READABLE (value: bytes the host holds for `socketRead`), SOCKET_WRITABLE (value: bytes writable before
   * backpressure, after a write had returned <= 0), SOCKET_CLOSE (value: undefined for an orderly close by the
   * peer, else an error message such as "ECONNREFUSED: …", "NET_DNS_FAILED: …", "NET_DNS_TIMEOUT: …", "TLS_VERIFY: …",
   * "ECONNRESET: …"). A name is looked up off the loop (runtime resolver.c) with a deadline (`--dns-timeout`).
   * After SOCKET_CLOSE the handle only accepts socketRead (draining what was held) and socketClose.
   * `tls`: omitted for plain TCP. ca: PEM bundle (required for TLS: there is no default store on the board);
   * servername: SNI and the name verified (default host); cert/key: PEM client certificate and key (mTLS).
   */
  socketOpen(host: string, port: number, tls?: { ca: string; servername?: string; cert?: string; key?: string }): number;
  /** Copies up to `length` held bytes into the range; returns the count (0 when none). */
  socketRead(handle: number, into: Uint8Array, offset: number, length: number): number;
  /**
   * Gather write of ranges [0, count): sources[i] at offsets[i] for lengths[i] bytes, in order. Bytes the kernel
   * (or TLS) does not take at once are copied into the socket's send queue. Returns the bytes still writable
   * before backpressure (<= 0: wait for SOCKET_WRITABLE). Throws after close.
   */
  socketWrite(handle: number, sources: readonly Uint8Array[], offsets: Uint32Array, lengths: Uint32Array, count: number): number;
  /**
   * The ranges as one HTTP/1.1 chunk (RFC 9112 §7.1): their byte count in lower-case hex and CRLF, the ranges, CRLF, in
   * one gather write (one TLS record up to 16 KiB); nothing when they hold no byte. Returns what socketWrite returns (net.c).
   */
  socketWriteChunk(handle: number, sources: readonly Uint8Array[], offsets: Uint32Array, lengths: Uint32Array, count: number): number;
  /** Closes at once (queued bytes discarded); no event for this handle afterwards. Unknown handles are ignored. */
  socketClose(handle: number): void;
  /**
   * Application-data records mbedTLS wrote since start, over every session, their plaintext bytes, and the
   * handshakes completed (tls.c).
   * A gather write goes out as one record per 16 KiB (net.c writeTls): tests and the bench count records per frame.
   */
  tlsStats(): { readonly records: number; readonly bytes: number; readonly handshakes: number };

  // ---- memory ----
  /**
   * `bytes` of zeroed memory outside the JS heap (malloc), as a host buffer that typed arrays can view; once per
   * process (the frame pool). Not counted by the heap limit; `memory().poolBytes` reports it. Throws
   * "ENOMEM: …" when the board does not have it, RangeError on a second call.
   */
  framePoolMemory(bytes: number): ArrayBufferLike;
  /**
   * The JS machine's memory: bytes held now, the peak, and the hard limit (0 = none); the engine's split into
   * chunks and slots in use (now and peak), which heapBytes holds together with its blocks' free space.
   */
  memory(): {
    readonly heapBytes: number;
    readonly peakBytes: number;
    readonly limitBytes: number;
    readonly poolBytes: number;
    readonly baselineBytes: number;
    readonly chunkBytes: number;
    readonly peakChunkBytes: number;
    readonly slotBytes: number;
    readonly peakSlotBytes: number;
  };
  /**
   * Allocation counters without allocating (memory() builds an object): out[0] slots in use, out[1] chunk bytes in
   * use; then `hold` true stops collections (the heap grows instead), false lets them run again. Nothing is freed
   * while collections are held, so unchanged counters across a held stretch mean it allocated nothing
   * (test/runtime/hotPathAllocations.test.ts).
   */
  heapCounters(out: Float64Array, hold: boolean): void;
  /**
   * Once: from now on the heap may hold at most what it holds now plus `bytes` (never above --heap-limit).
   * The ESP32 profile's budget counts what the app allocates, not the built-ins and bytecode an ESP32 keeps in flash.
   */
  limitAppHeap(bytes: number): void;
}

/** Event numbers passed to the dispatcher (the host uses the same numbers, runtime.h FIELDCAM_EVENT_*). */
export const EVENT = Object.freeze({
  TIMER: 1,
  SIGNAL: 2,
  INPUT_READABLE: 3,
  SOCKET_CONNECT: 4,
  SOCKET_READABLE: 5,
  SOCKET_WRITABLE: 6,
  SOCKET_CLOSE: 7,
} as const);

declare const native: NativeHost;

/** The host object, typed. Only the adapters in firmware/boards/xs call this. */
export function host(): NativeHost {
  return native;
}
