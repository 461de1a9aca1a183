import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Board } from '../../io/Board.ts';
import { nodeCamera } from './nodeCamera.ts';
import { nodeFifo } from './nodeFifo.ts';
import { nodeHash } from './nodeHash.ts';
import { nodeSocket } from './nodeSocket.ts';
import { nodeStorage } from './nodeStorage.ts';
import { nodeClock, nodeTimers } from './nodeTime.ts';

export interface NodeBoardOptions {
  /** Where status lines go (default: standard output). */
  readonly print?: (line: string) => void;
  /** Where the exit reason goes (default: standard error). */
  readonly printError?: (line: string) => void;
  /** Replaces SIGINT/SIGTERM as the stop trigger (tests stop the app themselves). */
  readonly onStop?: (callback: () => void) => void;
}

/** Temporary file in the same directory, fsync, rename: readers see the old file or the new one, never half. */
function writeBytesAtomic(path: string, bytes: Uint8Array): void {
  const temp = `${path}.tmp-${process.pid}`; // the XS host's name too (firmware/runtime/files.c)
  const fd = openSync(temp, 'w', 0o644);
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

/** Files beside `path` named `<basename>.tmp-<digits>` from another process (a crashed atomic write): removed. */
function removeStaleTemps(path: string): number {
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let removed = 0;
  for (const name of names) {
    const m = name.startsWith(`${base}.tmp-`) ? /^\d+$/.exec(name.slice(base.length + 5)) : null;
    if (!m || Number(m[0]) === process.pid) continue;
    try {
      unlinkSync(join(dirname(path), name));
      removed++;
    } catch {
      // gone already (another cleaner): nothing left to remove
    }
  }
  return removed;
}

/**
 * The app's board on Node: host tools, tests and the byte-for-byte comparison with the device build. Memory
 * figures are V8's heap (no limit is enforced here); there are no computrons.
 */
export function nodeBoard(options: NodeBoardOptions = {}): Board {
  let peak = 0;
  return Object.freeze({
    runtime: 'node',
    clock: nodeClock,
    timers: nodeTimers,
    sockets: nodeSocket,
    hash: nodeHash,
    storage: nodeStorage,
    camera: nodeCamera,
    fifo: nodeFifo,
    readText: (path: string) => readFileSync(path, 'utf8'),
    readBytes: (path: string) => new Uint8Array(readFileSync(path)),
    writeBytesAtomic,
    removeStaleTemps,
    print: options.print ?? ((line: string) => void process.stdout.write(`${line}\n`)),
    printError: options.printError ?? ((line: string) => void process.stderr.write(`${line}\n`)),
    onStop:
      options.onStop ??
      ((callback: () => void) => {
        process.once('SIGINT', callback);
        process.once('SIGTERM', callback);
      }),
    memory: () => {
      const heapBytes = process.memoryUsage().heapUsed;
      peak = Math.max(peak, heapBytes);
      return { heapBytes, peakBytes: peak, limitBytes: 0 };
    },
    computrons: () => 0,
    random: Math.random,
  });
}
