import type { FragmentRecord } from '../media/FragmentStore.ts';
import type { PlaybackSession } from './PlaybackSessions.ts';
import { fragmentStart, selectFragments } from './selectFragments.ts';

/** The fragments a session's playlist shows now: `seq[first..last)`, and whether the playlist is complete. */
export interface SessionWindow {
  /** Every fragment of the session in order (a LIVE session: every fragment of the stream). */
  readonly seq: readonly FragmentRecord[];
  readonly first: number;
  readonly last: number;
  readonly ended: boolean;
}

/** Gap or overlap above which ON_DISCONTINUITY marks a discontinuity (DiscontinuityMode, API reference). */
const DISCONTINUITY_MS = 50;

/**
 * The playlist window of `session` at `now` (PlaybackMode, API reference):
 * - LIVE: the newest MaxMediaPlaylistFragmentResults fragments, updated as fragments are PERSISTED.
 * - LIVE_REPLAY: from StartTimestamp, a fragment joins when the durations of those before it have elapsed
 *   since the session began; the newest MaxMediaPlaylistFragmentResults are listed; complete once every
 *   fragment up to EndTimestamp is in.
 * - ON_DEMAND: the oldest MaxMediaPlaylistFragmentResults fragments of the range, complete.
 */
export function sessionWindow(session: PlaybackSession, records: readonly FragmentRecord[], now: number): SessionWindow {
  const { mode, maxResults } = session;
  if (mode === 'LIVE') {
    const seq = selectFragments(records, session.source);
    return { seq, first: Math.max(0, seq.length - maxResults), last: seq.length, ended: false };
  }
  const seq = selectFragments(records, session.source, session.startMs, session.endMs);
  if (mode === 'ON_DEMAND') return { seq, first: 0, last: Math.min(seq.length, maxResults), ended: true };
  const elapsed = now - session.createdMs;
  let count = Math.min(seq.length, 1);
  for (let played = 0; count < seq.length; count++) {
    played += seq[count - 1]!.durationMs;
    if (played > elapsed) break;
  }
  return { seq, first: Math.max(0, count - maxResults), last: count, ended: session.endMs !== undefined && count === seq.length };
}

/** Whether a discontinuity tag goes before `seq[i]` (DiscontinuityMode). Never before the session's first. */
export function discontinuityBefore(session: PlaybackSession, seq: readonly FragmentRecord[], i: number): boolean {
  if (i <= 0 || session.discontinuity === 'NEVER') return false;
  if (session.discontinuity === 'ALWAYS') return true;
  const prev = seq[i - 1]!;
  const gap = fragmentStart(seq[i]!, session.source) - (fragmentStart(prev, session.source) + prev.durationMs);
  return Math.abs(gap) > DISCONTINUITY_MS || seq[i]!.header !== prev.header;
}
