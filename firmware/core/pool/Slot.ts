/** A fixed-size region of the frame pool, allocated once at boot. Frames hold references to it. */
export class Slot {
  readonly index: number;
  /** The slot's whole capacity; frames refer to ranges inside it. */
  readonly bytes: Uint8Array;
  /** References held by frames (and by a reader still filling it). Free when 0. */
  refs = 0;

  constructor(index: number, bytes: Uint8Array) {
    this.index = index;
    this.bytes = bytes;
  }
}
