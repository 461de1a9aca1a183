// The ACK framing walk in TypeScript: the contract is AckScanPort.followAck (firmware/io/AckScan.ts), the C twin
// firmware/runtime/ack.c. AckParser runs this on boards without the port (Node); the suites compare the C with it.

/**
 * The walk's state, one Float64Array AckParser owns (ack.c reads and writes the same entries): KEEP 1 while the
 * object's bytes are kept (OBJECT), 0 while a rejected one is followed (RESYNC); LENGTH bytes kept in the scratch;
 * DEPTH of nesting; COLONS outside strings (the member count of a flat object); PLAIN 1 while nothing makes
 * JSON.parse read the object differently from the ACK rules; IN_STRING; ESCAPE 1 when a read ended on a backslash;
 * SKIPPED bytes followed in RESYNC since the error; CLOSED 1 when the last call found the object's end.
 */
export const ACK_WALK = Object.freeze({ KEEP: 0, LENGTH: 1, DEPTH: 2, COLONS: 3, PLAIN: 4, IN_STRING: 5, ESCAPE: 6, SKIPPED: 7, CLOSED: 8, SIZE: 9 });

const LENGTH = ACK_WALK.LENGTH;
const DEPTH = ACK_WALK.DEPTH;
const COLONS = ACK_WALK.COLONS;
const PLAIN = ACK_WALK.PLAIN;
const IN_STRING = ACK_WALK.IN_STRING;
const ESCAPE = ACK_WALK.ESCAPE;
const SKIPPED = ACK_WALK.SKIPPED;
const CLOSED = ACK_WALK.CLOSED;

/** AckScanPort.followAck in TypeScript (same arguments, same result, same state). */
export function followAck(bytes: Uint8Array, from: number, end: number, state: Float64Array, scratch: Uint8Array): number {
  if (!(from >= 0 && from <= end && end <= bytes.length)) throw new RangeError(`ackFollow: range ${from}..${end} is outside the ${bytes.length}-byte buffer`);
  const keep = state[ACK_WALK.KEEP] === 1;
  const length = state[LENGTH]!;
  const budget = scratch.length - (keep ? length : state[SKIPPED]!);
  const limit = end - from > budget ? from + budget : end;
  let depth = state[DEPTH]!;
  let colons = state[COLONS]!;
  let plain = state[PLAIN] === 1;
  let inString = state[IN_STRING] === 1;
  let escaped = false;
  let closed = false;
  let i = from;
  if (state[ESCAPE] === 1) {
    // the byte after a backslash that ended the previous piece
    if (i < limit) i++;
    else escaped = true;
  }
  while (i < limit) {
    if (inString) {
      // The next quote or backslash before `limit`, byte by byte: a string in an ACK is a few dozen bytes, while
      // TypedArray indexOf has no end bound (it walked the rest of the 4 KiB read buffer on every call).
      let j = i;
      while (j < limit) {
        const c = bytes[j]!;
        if (c === 0x22 || c === 0x5c) break;
        j++;
      }
      if (j === limit) {
        i = limit;
        break;
      }
      if (bytes[j] === 0x5c) {
        plain = false;
        if (j + 1 < limit) i = j + 2;
        else {
          i = limit;
          escaped = true;
        }
        continue;
      }
      inString = false;
      i = j + 1;
      continue;
    }
    const b = bytes[i++]!;
    if (b === 0x22) inString = true;
    else if (b === 0x3a) colons++;
    else if (b === 0x7b || b === 0x5b) {
      depth++;
      plain = false;
    } else if (b === 0x7d || b === 0x5d) {
      if (--depth === 0) {
        closed = true;
        break;
      }
    } else if (b === 0x2d || b === 0x2e || b === 0x65 || b === 0x45 || b === 0x2b) plain = false;
  }
  if (keep) {
    scratch.set(bytes.subarray(from, i), length);
    state[LENGTH] = length + i - from;
  } else state[SKIPPED] = state[SKIPPED]! + i - from;
  state[DEPTH] = depth;
  state[COLONS] = colons;
  state[PLAIN] = plain ? 1 : 0;
  state[IN_STRING] = inString ? 1 : 0;
  state[ESCAPE] = escaped ? 1 : 0;
  state[CLOSED] = closed ? 1 : 0;
  return i;
}
