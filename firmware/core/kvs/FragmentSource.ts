import type { Frame } from '../media/Frame.ts';
import type { AudioTrackSpec, TrackSpec } from '../mkv/MkvWriter.ts';
import type { DropReason } from '../pool/FramePool.ts';

/** What `replay()` found: fragments that had been sent before, and of those, how many went out whole. */
export interface ReplayCount {
  fragments: number;
  /** Sent whole (the next fragment had started on the wire) without a RECEIVED: the service may hold them. */
  whole: number;
}

/**
 * Where the uploader's fragments come from (issue 15's seam): PutMediaSession reads frames in timecode order,
 * one fragment after another, and tells the source what happened to them; it knows nothing of where the bytes
 * live (pool slots, spool records). A fragment is released only on its acknowledgement — the source may then
 * forget it — and every held fragment can be replayed from the oldest on a new connection.
 *
 * Frames returned are valid until they are released or dropped. Sent frames always precede un-sent ones.
 */
export interface FragmentSource {
  /** True once the track format is known (the first frame fixed size and codec private data). */
  readonly ready: boolean;
  /** The Matroska track; only when `ready`. */
  trackSpec(): TrackSpec;
  /** Audio tracks after the video (frames with Frame.track 1, 2); absent or empty: video only. */
  audioTracks?(): readonly AudioTrackSpec[];
  /** Frames held (sent or not), 0 when everything was released. */
  readonly heldFrames: number;
  /** The oldest frame not yet handed to the uploader on this connection, or undefined. */
  nextUnsent(): Frame | undefined;
  /** The frame's bytes went to the connection (or it was skipped as unsendable). */
  markSent(frame: Frame): void;
  /** A new connection: every held frame is un-sent again, to be replayed with its original timecodes. */
  replay(count: ReplayCount): void;
  /**
   * Frees every held fragment that was sent and starts at or before `timecode` (oldest first), calling
   * `landed(startTimecode)` for each. Returns the frames freed.
   */
  release(timecode: number, landed: (startTimecode: number) => void): number;
  /** Timecode of the newest held frame; NaN when nothing is held. */
  newestPts(): number;
  /**
   * Drops the oldest complete fragment of which nothing was sent if it starts before `startsBefore`, counting
   * its frames under `reason`; never the open fragment, never one partly sent. Returns the frames dropped.
   */
  dropOldestUnsent(reason: DropReason, startsBefore: number): number;
  /** Moves every held and future frame by `deltaMs` (clock corrected before anything was sent). */
  rebase(deltaMs: number): void;
  /**
   * Optional: `next` (a fragment's first frame, from nextUnsent) cannot follow what this connection carried — its
   * timecode is not later (fragments a spool kept from an earlier boot whose clock was ahead). The session then
   * ends the connection at this boundary and sends `next` on a new one (KVS refuses decreasing fragment
   * timecodes within one PutMedia, ERROR 4004; across connections any order is stored).
   */
  needsNewConnection?(next: Frame): boolean;
}
