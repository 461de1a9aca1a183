// The frame record as a reader hands it over, for suites that compare the board's fill (records.c) with the JS one
// (H264Reader.scanPort, JpegScanner.scanPort). Pure ECMAScript (XS too).
import type { Frame } from '../../../../firmware/core/media/Frame.ts';
import type { FramePool } from '../../../../firmware/core/pool/FramePool.ts';

/**
 * Every field of a frame record as the reader hands it over: its own number and boolean fields whatever they are
 * (a field added to Frame is compared without changing the suites), its slots as pool indices, its NAL table and
 * every slot's references.
 */
export function frameRecord(frame: Frame, pool: FramePool): string {
  const fields: unknown[] = [];
  for (const [name, value] of Object.entries(frame)) if (typeof value === 'number' || typeof value === 'boolean') fields.push(name, value);
  const nals: number[] = [];
  for (let i = 0; i < frame.nalCount; i++) nals.push(frame.nalOffset[i]!, frame.nalLength[i]!, frame.nalPrefix[i]!, frame.nalType[i]!);
  return JSON.stringify([fields, frame.slotA?.index ?? -1, frame.slotB?.index ?? -1, nals, pool.slots.map((s) => s.refs)]);
}

/** Every number field to 7 and boolean to true before the record goes back, so a fill that forgets a field shows. */
export function dirtyFrame(frame: Frame): void {
  const fields = frame as unknown as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (typeof fields[name] === 'number') fields[name] = 7;
    else if (typeof fields[name] === 'boolean') fields[name] = true;
  }
}
