/**
 * The one byte-search primitive the readers need: find a byte value in a range. Scanning payload bytes is the
 * real cost of the media path (design.md §3): in XS's interpreter a JS byte loop — or even
 * Uint8Array.prototype.indexOf — costs hundreds of ARM instructions per byte, so the XS board does it in C
 * (memchr). Boards without a port use the core's JS loops (fast under V8's JIT).
 */
export interface ByteScanPort {
  /** The first index i in [from, to) with bytes[i] === value, or -1. Never reads outside [from, to). */
  indexOfByte(bytes: Uint8Array, value: number, from: number, to: number): number;
}
