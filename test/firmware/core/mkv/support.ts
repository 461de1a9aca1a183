// Test support for the Matroska suites: frames over plain byte arrays, and a ViewList flattener.
import { Frame } from '../../../../firmware/core/media/Frame.ts';
import { pushFrameBytes } from '../../../../firmware/core/media/pushFrameBytes.ts';
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { MkvWriter, type MkvWriterOptions } from '../../../../firmware/core/mkv/MkvWriter.ts';
import type { TrackSpec } from '../../../../firmware/core/mkv/TrackSpec.ts';
import { Slot } from '../../../../firmware/core/pool/Slot.ts';

export interface FrameInit {
  pts: number;
  dts?: number;
  duration?: number;
  key?: boolean;
  /** Payload bytes; by default 8 bytes derived from the PTS. */
  payload?: Uint8Array;
}

/** A frame whose payload lives in its own slot (or split over two slots when `split` is given). */
export function makeFrame(init: FrameInit, split?: number): Frame {
  const payload = init.payload ?? Uint8Array.from([0xf0, init.pts & 0xff, 1, 2, 3, 4, 5, 6]);
  const frame = new Frame();
  const a = split === undefined ? payload : payload.slice(0, split);
  frame.slotA = new Slot(0, a);
  frame.startA = 0;
  frame.endA = a.length;
  if (split !== undefined) {
    const b = payload.slice(split);
    frame.slotB = new Slot(1, b);
    frame.startB = 0;
    frame.endB = b.length;
  }
  frame.pts = init.pts;
  frame.dts = init.dts ?? init.pts;
  frame.duration = init.duration ?? 100;
  frame.key = init.key ?? false;
  return frame;
}

/** The whole payload, as MJPEG (and the writer's tests) send it. */
export function pushWholeFrame(frame: Frame, out: ViewList): void {
  pushFrameBytes(frame, out, 0, frame.size);
}

export function mjpegTrack(extra: Partial<TrackSpec> = {}): TrackSpec {
  return { codecId: 'V_MJPEG', width: 320, height: 240, pushPayload: pushWholeFrame, ...extra };
}

/** A pinned SegmentUID, so headers are byte-identical. */
export const UID = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

/** An MJPEG writer with a pinned SegmentUID. */
export function writer(options: Partial<MkvWriterOptions> = {}): MkvWriter {
  return new MkvWriter({ track: mjpegTrack(), segmentUid: UID, ...options });
}

/** A writer with its header already written and a fragment open at `timecode`; `out` is empty. */
export function openFragment(timecode = 1000, options: Partial<MkvWriterOptions> = {}): { w: MkvWriter; out: ViewList } {
  const w = writer(options);
  const out = new ViewList(64);
  w.header(out);
  w.startFragment(timecode, out);
  out.clear();
  return { w, out };
}

/** Copies the ranges of a view list into one array. */
export function flatten(out: ViewList): Uint8Array {
  const bytes = new Uint8Array(out.byteLength);
  let p = 0;
  for (let i = 0; i < out.count; i++) {
    const offset = out.offsets[i]!;
    bytes.set(out.sources[i]!.subarray(offset, offset + out.lengths[i]!), p);
    p += out.lengths[i]!;
  }
  return bytes;
}

/** Collects the bytes of successive calls (flattened immediately, since scratch views are reused). */
export class ByteSink {
  private readonly parts: Uint8Array[] = [];

  take(out: ViewList): Uint8Array {
    const bytes = flatten(out);
    this.parts.push(bytes);
    out.clear();
    return bytes;
  }

  bytes(): Uint8Array {
    let n = 0;
    for (const p of this.parts) n += p.length;
    const all = new Uint8Array(n);
    let at = 0;
    for (const p of this.parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function ascii(text: string): string {
  return Array.from(text, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');
}
