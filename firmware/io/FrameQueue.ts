/** `FrameQueuePort.queueFrame`'s answers. */
export const FRAME_QUEUE = Object.freeze({
  /** Nothing was changed: FrameInput's TypeScript path stamps and queues the frame (or drops and counts it). */
  NOT_MINE: 0,
  /** The frame was stamped and queued: the caller only hands it to its consumer (`onQueued`). */
  QUEUED: 1,
} as const);

/**
 * FrameInput.onFrame's steady state in one native call (the XS board: firmware/runtime/frames.c, issue 12): a frame
 * stamped at a file's cadence (a recording, or a camera file replayed with read times) and appended to the
 * FragmentQueue is three methods and ~350 bytecodes per frame in XS, done by a few dozen field reads and writes in
 * C. Boards without it (Node) keep the TypeScript path, which is also the reference the tests compare the port with
 * (test/firmware/core/media/FrameInput.queuePort.test.ts).
 */
export interface FrameQueuePort {
  /**
   * On the reader's complete frame record and its FrameInput (core's objects; io names them `object`), in place:
   * when the input stamps at its cadence (no capture clock) — pts = dts = origin + round(seq × tickScale / tickNum),
   * duration = origin + round((seq + 1) × tickScale / tickNum) − pts, `Math.round`'s rule — and FragmentQueue.push's
   * case is a plain one — the queue not paused and its ring not full; a non-key frame joining the open fragment (no
   * key frame awaited) within maxFragmentMs; a key frame that opens no fragment (minFragmentMs); a key frame that
   * opens one while no gate is set — it stamps the frame, with read times (`readCount` > 0) also its `capturedAt` as
   * FrameInput looks it up (the oldest remembered read not ending at or before the frame's `streamOffset`, the reads
   * before it forgotten), places it as push does (fragmentStart, sent = false; open, awaitingKey, openStartPts on a
   * fragment start; the ring entry, length, lastEnd), counts stats.accessUnits, stats.frames and stats.keyFrames,
   * sets formatFixed, and returns QUEUED. Anything else returns NOT_MINE with nothing changed. Throws TypeError,
   * before writing anything, on a field of the wrong kind. Allocates nothing; called as a plain function (FrameInput
   * keeps the function, not the port).
   */
  queueFrame(frame: object, input: object): number;
}
