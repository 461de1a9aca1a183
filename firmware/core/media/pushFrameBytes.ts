import type { Frame } from './Frame.ts';
import type { ViewList } from './ViewList.ts';

/** Appends the logical payload range [from, from + length) of `frame` to `out`, split across its pieces. */
export function pushFrameBytes(frame: Frame, out: ViewList, from: number, length: number): void {
  const lenA = frame.endA - frame.startA;
  if (from < lenA) {
    const n = Math.min(length, lenA - from);
    out.push(frame.slotA!.bytes, frame.startA + from, n);
    from += n;
    length -= n;
  }
  if (length > 0) out.push(frame.slotB!.bytes, frame.startB + from - lenA, length);
}
