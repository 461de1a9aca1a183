/**
 * The PutMedia acknowledgement stream's framing walk (AckParser): finding where each ACK object ends means following
 * its strings and nesting byte by byte, which in XS's interpreter costs about 40 computrons per byte (~4,700 per
 * ACK), so the XS board does it in C (firmware/runtime/ack.c). Boards without a port (Node) use the core's
 * TypeScript walk (firmware/core/kvs/followAck.ts), which V8's JIT runs fast; it is also the reference the suites
 * compare the C with.
 */
export interface AckScanPort {
  /**
   * Follows an ACK object from bytes[from], with the walk's state in `state` (layout ACK_WALK, followAck.ts): for at
   * most the bytes its budget leaves (scratch.length minus the bytes kept, or minus the bytes skipped since an
   * error); strings with their escapes; ":" counted outside strings; "{" "[" deepen, "}" "]" close; nesting, an
   * escape and any of "-", ".", "e", "E", "+" outside strings make the object not plain. Stops after the byte that
   * closes the object (state CLOSED = 1), at `end`, or at the budget. With KEEP the bytes followed are appended to
   * `scratch`, else SKIPPED grows by them. Returns where it stopped. Never reads outside [from, end) nor writes
   * outside `scratch`; allocates nothing.
   */
  followAck(bytes: Uint8Array, from: number, end: number, state: Float64Array, scratch: Uint8Array): number;
  /**
   * Optional: AckParser's fast path for the ACKs KVS sends, instead of JSON.parse of the object's text. Given
   * scratch[0..length), one complete object the walk found plain, it takes it only when it is exactly a JSON object
   * of the known members, each at most once: EventType (one of ACK_EVENT_TYPES), FragmentTimecode (a JSON integer
   * below 2^53 without a leading zero), FragmentNumber (a string of 1 to 128 digits), ErrorId (such an integer, or a
   * string of 1 to 15 digits), whitespace between tokens, and ERROR with an ErrorId, BUFFERING, RECEIVED and PERSISTED
   * with a FragmentTimecode. Then out[0] = the type's index in ACK_EVENT_TYPES, out[1] = the timecode or -1, out[2] =
   * the ErrorId or -1, out[3], out[4] = the FragmentNumber digits' offset and count in scratch (count 0: absent), and
   * it returns 1. Anything else returns 0, `out` untouched, and JSON.parse and AckObjectReader decide, with their own
   * results and error codes. Reads nothing outside scratch[0..length); allocates nothing.
   */
  readAck?(scratch: Uint8Array, length: number, out: Float64Array): number;
}
