// The MPEG-DASH manifest of a DASH session (ISO/IEC 23009-1), as KVS serves it under /dash/v1/: one
// Period, one video AdaptationSet of fragmented MP4 (the same init and media segments as HLS), and a
// SegmentTemplate whose SegmentTimeline lists the session's window of fragments. Segment numbers are
// positions in the session (as HLS media sequence numbers), times are producer milliseconds; the
// presentationTimeOffset maps the first one to 0, matching the fragments' tfdt (the same instants at 90 kHz).
import type { PlaybackSession } from './PlaybackSessions.ts';
import type { SessionWindow } from './sessionWindow.ts';
import { fragmentStart } from './selectFragments.ts';

export const DASH_PATHS = Object.freeze({
  manifest: '/dash/v1/getDASHManifest.mpd',
  init: '/dash/v1/getMP4InitFragment.mp4',
  media: '/dash/v1/getMP4MediaFragment.mp4',
});

const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const seconds = (ms: number): string => `PT${(ms / 1000).toFixed(3)}S`;

export interface DashVideo {
  readonly codecs: string;
  readonly bandwidth: number;
  readonly width?: number;
  readonly height?: number;
}

export function dashManifest(session: PlaybackSession, token: string, window: SessionWindow, video: DashVideo, nowMs: number): string {
  const shown = window.seq.slice(window.first, window.last);
  const origin = window.seq[0] ? fragmentStart(window.seq[0], session.source) : 0;
  const dynamic = !window.ended;
  const end = shown.at(-1);
  const totalMs = end ? fragmentStart(end, session.source) + end.durationMs - origin : 0;
  // DisplayFragmentTimestamp / DisplayFragmentNumber ALWAYS: KVS's custom S attributes kvs:ts and kvs:fn.
  // Each S lasts until the next fragment starts (the last one: its own duration), so the timeline has no
  // millisecond gaps between fragments that a DASH player would have to jump.
  const timeline = shown
    .map((r, i) => {
      const t = fragmentStart(r, session.source);
      const next = shown[i + 1];
      const d = next ? Math.max(1, fragmentStart(next, session.source) - t) : r.durationMs;
      const ts = session.displayTimestamp ? ` kvs:ts="${(t / 1000).toFixed(3)}"` : '';
      const fn = session.displayNumber ? ` kvs:fn="${r.fragmentNumber}"` : '';
      return `<S t="${t}" d="${d}"${ts}${fn}/>`;
    })
    .join('');
  const q = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  const size = video.width && video.height ? ` width="${video.width}" height="${video.height}"` : '';
  const head = dynamic
    ? `type="dynamic" availabilityStartTime="${new Date(origin).toISOString()}" publishTime="${new Date(nowMs).toISOString()}" ` +
      `minimumUpdatePeriod="PT1S" timeShiftBufferDepth="${seconds(Math.max(totalMs, 1000))}" suggestedPresentationDelay="PT3S"`
    : `type="static" mediaPresentationDuration="${seconds(Math.max(totalMs, 1))}"`;
  const maxDuration = Math.max(1000, ...shown.map((r) => r.durationMs));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:kvs="urn:aws:kinesisvideo:dash" profiles="urn:mpeg:dash:profile:isoff-live:2011" ${head} minBufferTime="PT2S" maxSegmentDuration="${seconds(maxDuration)}">`,
    '<Period id="0" start="PT0S">',
    `<AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">`,
    `<Representation id="video" codecs="${q(video.codecs)}" bandwidth="${Math.max(1, Math.round(video.bandwidth))}"${size}>`,
    `<SegmentTemplate timescale="1000" presentationTimeOffset="${origin}" startNumber="${window.first}" ` +
      `initialization="${q(`${base(DASH_PATHS.init)}?SessionToken=${token}`)}" media="${q(`${base(DASH_PATHS.media)}?SessionToken=${token}&FragmentIndex=$Number$`)}">`,
    `<SegmentTimeline>${timeline}</SegmentTimeline>`,
    '</SegmentTemplate>',
    '</Representation>',
    '</AdaptationSet>',
    '</Period>',
    // The player's clock is the cloud's (no time server on the internet): ISO/IEC 23009-1 UTCTiming, direct.
    `<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="${new Date(nowMs).toISOString()}"/>`,
    '</MPD>',
    '',
  ].join('\n');
}
