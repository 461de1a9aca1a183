/** How a track's frames go into its blocks, for a board's native block writer: what `TrackSpec.pushPayload` does. */
export type BlockPayload = 'avcc' | 'whole';

/**
 * A board's native SimpleBlock writer (the XS board: firmware/runtime/block.c). The port contract lives here with
 * the other ports; the frame and the gather list it reads are core's (`Frame`, `ViewList`), so core names them as
 * the type arguments (firmware/core/mkv/MkvBlockPort.ts) and io stays free of core imports.
 */
export interface MkvBlockNative<F = object, L = object> {
  pushBlock(frame: F, out: L, header: Uint8Array, relative: number, lengths: Uint8Array | null): number;
  /** pushBlock with the writer's checks and state in the same call (optional; see MkvBlockPort.writeBlock). */
  writeBlock?(frame: F, out: L, header: Uint8Array, lengths: Uint8Array | null, state: Float64Array): number;
  /** writeBlock into the emptied list, the frame last (optional; see MkvBlockPort.writeBlockAlone). */
  writeBlockAlone?(out: L, header: Uint8Array, lengths: Uint8Array | null, state: Float64Array, frame: F): number;
}
