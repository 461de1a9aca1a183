import type { FragmentRecord } from '../media/FragmentStore.ts';

/** Which clock a selector's timestamps are on (FragmentSelectorType of HLS, DASH and GetClip). */
export type TimestampSource = 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP';

export function fragmentStart(r: FragmentRecord, source: TimestampSource): number {
  return source === 'PRODUCER_TIMESTAMP' ? r.producerTimestampMs : r.serverTimestampMs;
}

/**
 * The fragments of a playback session or clip, in ingest order, as the KVS API reference selects them
 * (HLSTimestampRange, ClipTimestampRange): only fragments that START at or after StartTimestamp; the
 * EndTimestamp (when given) is inclusive and compared with the fragment's start, so a fragment that starts
 * before it and runs past it is included. With producer timestamps, fragments that share a start
 * timestamp are deduplicated and the one with the largest fragment number (the newest) is kept
 * (GetHLSStreamingSessionURL, PlaybackMode).
 */
export function selectFragments(records: readonly FragmentRecord[], source: TimestampSource, startMs = -Infinity, endMs = Infinity): FragmentRecord[] {
  const picked = records.filter((r) => {
    const t = fragmentStart(r, source);
    return t >= startMs && t <= endMs;
  });
  if (source !== 'PRODUCER_TIMESTAMP') return picked;
  const newest = new Map<number, FragmentRecord>();
  for (const r of picked) newest.set(r.producerTimestampMs, r); // ingest order: the last one wins
  return picked.filter((r) => newest.get(r.producerTimestampMs) === r);
}
