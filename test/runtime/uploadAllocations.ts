// The whole device inside fieldcam-runtime (runDevice with the XS board, as firmware/app/main.ts runs it), bundled by
// uploadAllocations.test.ts: every call of PutMediaSession's drain — the upload side's per-frame work: the frame's
// Matroska block views, its HTTP chunk framed by the socket, the gathered write, the in-flight ring, the source's
// bookkeeping — is bracketed by native.heapCounters with collections held, once `--warm` frames were sent, and so is
// every AckParser.push (an ACK's read). At the end it prints one JSON line: the frames and fragments sent inside the
// brackets and the slots and chunk bytes allocated there, per path. `--probe` keeps one small object per frame sent
// inside the drain bracket (the positive control: the counters must see it).
import { runDevice } from '../../firmware/app/runDevice.ts';
import { host } from '../../firmware/boards/xs/native.ts';
import { xsBoard } from '../../firmware/boards/xs/xsBoard.ts';
import { AckParser } from '../../firmware/core/kvs/AckParser.ts';
import { PutMediaSession, type SessionStats } from '../../firmware/core/kvs/PutMediaSession.ts';

function option(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 && at + 1 < argv.length ? argv[at + 1] : undefined;
}

const argv = host().argv;
const warm = Number(option(argv, '--warm') ?? '30');
const probe = argv.includes('--probe');
/** The last 16 drains that allocated: index, frames sent before it, slots, chunk bytes. */
const allocating = { count: 0, table: new Float64Array(64) };
// One pair of counter arrays per bracket: a drain runs inside an ACK's read (onAck sends what the ACK freed room for).
const before = new Float64Array(2);
const after = new Float64Array(2);
const ackBefore = new Float64Array(2);
const ackAfter = new Float64Array(2);
const kept: object[] = [];
/** Frames sent so far: the ACK bracket starts with the drain's. */
let sent = 0;
const drains = { calls: 0, frames: 0, fragments: 0, slots: 0, chunkBytes: 0 };
const acks = { pushes: 0, slots: 0, chunkBytes: 0 };

type Session = { stats: SessionStats; state: string };
const session = PutMediaSession.prototype as unknown as { drain(this: Session): void };
const drain = session.drain;
/** A module constant: a string literal evaluated inside a bracket would be an allocation of its own. */
const STREAMING = 'streaming';
/**
 * Drains that ended the connection's body (a stop, a rotation: the state leaves `streaming`, the last chunk and the
 * session's events and status lines go out): once per connection, not per frame; counted apart.
 */
const endings = { calls: 0, slots: 0, chunkBytes: 0 };
session.drain = function (this: Session): void {
  const stats = this.stats;
  const frames = stats.framesSent;
  const streaming = this.state === STREAMING;
  if (frames < warm || !streaming) {
    // Warming up, or no connection streaming (nothing can be sent: the drain settles a stop or waits).
    drain.call(this);
    sent = stats.framesSent;
    return;
  }
  const fragments = stats.fragmentsSent;
  host().heapCounters(before, true);
  try {
    drain.call(this);
    if (probe) for (let k = frames; k < stats.framesSent; k++) kept.push({ k });
  } finally {
    host().heapCounters(after, false);
  }
  sent = stats.framesSent;
  if (streaming && this.state !== STREAMING) {
    endings.calls++;
    endings.slots += after[0]! - before[0]!;
    endings.chunkBytes += after[1]! - before[1]!;
    return;
  }
  if (after[0] !== before[0] || after[1] !== before[1]) {
    // Recorded into a table made at start (no allocation here), printed at the end.
    const at = (allocating.count++ % 16) * 4;
    allocating.table[at] = drains.calls;
    allocating.table[at + 1] = frames;
    allocating.table[at + 2] = after[0]! - before[0]!;
    allocating.table[at + 3] = after[1]! - before[1]!;
  }
  drains.calls++;
  drains.frames += stats.framesSent - frames;
  drains.fragments += stats.fragmentsSent - fragments;
  drains.slots += after[0]! - before[0]!;
  drains.chunkBytes += after[1]! - before[1]!;
};

const parser = AckParser.prototype as unknown as { push(bytes: Uint8Array, offset: number, length: number): void };
const push = parser.push;
parser.push = function (this: unknown, bytes: Uint8Array, offset: number, length: number): void {
  if (sent < warm) return push.call(this, bytes, offset, length);
  // The drains inside it release the hold when they end: what the ACK's read allocated besides them is not all
  // counted here, so this figure is a lower bound (reported, not asserted).
  host().heapCounters(ackBefore, true);
  try {
    push.call(this, bytes, offset, length);
  } finally {
    host().heapCounters(ackAfter, false);
  }
  acks.pushes++;
  acks.slots += ackAfter[0]! - ackBefore[0]!;
  acks.chunkBytes += ackAfter[1]! - ackBefore[1]!;
};

void Promise.resolve(argv)
  .then(() => runDevice(xsBoard, option(argv, '--config')!))
  .then((code) => {
    host().print(
      JSON.stringify({
        type: 'allocations',
        warm,
        drains,
        endings,
        acks,
        kept: kept.length,
        allocating: Array.from(allocating.table.subarray(0, 4 * Math.min(16, allocating.count))),
      }),
    );
    host().exit(code);
  });
