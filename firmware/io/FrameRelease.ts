/**
 * A board's native frame release (the XS board: firmware/runtime/release.c). Giving a frame back is the media path's
 * last per-frame step (the offline Muxer releases each frame once written, the uploader each frame of an acknowledged
 * fragment); in XS, FragmentQueue.releaseHead and FramePool.freeFrame cost ~120 computrons per frame of property
 * traffic, the port one call. Boards without it (Node) keep the TypeScript path, which is also the reference the
 * suites compare the C with (test/firmware/core/pool/FragmentQueue.releasePort.test.ts).
 */
export interface FrameReleasePort {
  /**
   * FragmentQueue.releaseHead's steady state, on the core's own objects in place (`queue` a FragmentQueue, `pool` its
   * FramePool; io names them `object`): the oldest frame leaves the ring (its entry null, `head` one on modulo the
   * ring's length, `length` one less, `unsentFrom` one less when above 0), then FramePool.freeFrame — each of its
   * pieces' Slot (`slotA`, then `slotB`, possibly the same Slot) one reference less, `slotsInUse` one less for each
   * reaching 0, the piece set to null — and the record pushed on the pool's free stack (`freeFrames[freeCount]`,
   * `freeCount` one more). Returns true when done. Returns false with nothing changed when the step is not the steady
   * state: an empty queue, a reference count that would go below 0, no entry left on the free stack, or any field not
   * as those classes keep it; the queue's TypeScript path then takes the step, with its own errors. Allocates nothing.
   */
  releaseHead(queue: object, pool: object): boolean;
}
