import type { Board } from '../../io/Board.ts';
import { FieldcamError } from '../../core/errors.ts';
import { decodeUtf8 } from '../../core/text/utf8.ts';
import { host } from './native.ts';
import { xsCamera } from './xsCamera.ts';
import { xsHash } from './xsHash.ts';
import { xsByteScan, xsFrameQueue, xsFrameRelease, xsMkvBlock } from './xsMediaPorts.ts';
import { xsLoop } from './xsLoop.ts';
import { xsSocket } from './xsSocket.ts';
import { xsStorage } from './xsStorage.ts';
import { xsClock, xsTimers } from './xsTime.ts';

/**
 * sizeof(txSlot) of this build: the engine reports its slots in use both as a count (heapCounters, which allocates
 * nothing) and in bytes (memory). A collection between the two readings would skew the ratio, so the count is read
 * on both sides of memory() and the pair kept only when it did not move (a few slots memory() itself takes vanish in
 * the rounding to a multiple of 8).
 */
function xsSlotSize(): number {
  const before = new Float64Array(2);
  const after = new Float64Array(2);
  for (let attempt = 0; attempt < 5; attempt++) {
    host().heapCounters(before, false);
    const bytes = host().memory().slotBytes;
    host().heapCounters(after, false);
    if (after[0]! - before[0]! < 64 && before[0]! > 0) return Math.round(bytes / after[0]! / 8) * 8;
  }
  return 0;
}

/** The device board: every port over the C host's natives (firmware/runtime). */
export const xsBoard: Board = Object.freeze({
  runtime: 'xs',
  clock: xsClock,
  timers: xsTimers,
  sockets: xsSocket,
  hash: xsHash,
  storage: xsStorage(),
  byteScan: xsByteScan(),
  mkvBlock: xsMkvBlock(),
  frameRelease: xsFrameRelease(),
  frameQueue: xsFrameQueue(),
  // The host functions themselves (ack.c reads only its arguments): one call per read of an ACK object, one per ACK.
  ackScan: Object.freeze({ followAck: host().ackFollow, readAck: host().ackRead }),
  camera: xsCamera,
  fifo: (path: string) => {
    let fd: number;
    try {
      fd = host().openFifo(path);
    } catch (err) {
      throw new FieldcamError('INPUT_READ_FAILED', `trigger ${path}: ${(err as Error).message}`);
    }
    return xsCamera(fd, `trigger ${path}`);
  },
  readText: (path: string) => decodeUtf8(new Uint8Array(host().readFile(path))),
  readBytes: (path: string) => new Uint8Array(host().readFile(path)),
  writeBytesAtomic: (path: string, bytes: Uint8Array) => host().writeFileAtomic(path, bytes, 0, bytes.length),
  removeStaleTemps: (path: string) => host().removeStaleTemps(path),
  print: (line: string) => host().print(line),
  printError: (line: string) => host().printError(line),
  onStop: (callback: () => void) => xsLoop.onSignal(() => callback()),
  memory: () => host().memory(),
  slotSize: xsSlotSize(),
  framePoolMemory: (bytes: number) => host().framePoolMemory(bytes),
  limitAppHeap: (bytes: number) => host().limitAppHeap(bytes),
  tls: () => host().tlsStats(),
  computrons: () => host().computrons(),
  random: () => Math.random(),
});
