import type { Frame } from './Frame.ts';

/**
 * Whether a fragment is uploaded or held (docs/events.md). FragmentQueue asks once per fragment, when its first
 * frame opens it; without a gate every fragment is uploaded (continuous recording, the default).
 *
 * A held fragment stays in the pool, invisible to the uploader, until the gate admits it through
 * `FragmentQueue.admitHeld` (an event's pre-roll) or it ends more than `holdMs` before the newest frame, when the
 * queue drops it whole and counts its frames as `outsideEvent`. So the pre-roll is a window of the existing pool,
 * not a buffer of its own.
 */
export interface FrameGate {
  /** Video kept behind the newest frame, ms: held fragments that end earlier are dropped. */
  readonly holdMs: number;
  /**
   * The fragment opened by `start` (a key frame, timestamps set): true = upload it (the gate may set `start.clip`),
   * false = hold it.
   */
  admit(start: Frame): boolean;
}
