// The two playlists of an HLS session (RFC 8216), as KVS serves them under /hls/v1/: the master playlist
// names one variant (the media playlist, with its codec and resolution), the media playlist lists the
// session's window of fragments, each served remuxed from the stored Matroska.
import type { FragmentRecord } from '../media/FragmentStore.ts';
import type { PlaybackSession } from './PlaybackSessions.ts';
import { discontinuityBefore, type SessionWindow } from './sessionWindow.ts';
import { fragmentStart } from './selectFragments.ts';

export const HLS_PATHS = Object.freeze({
  master: '/hls/v1/getHLSMasterPlaylist.m3u8',
  media: '/hls/v1/getHLSMediaPlaylist.m3u8',
  init: '/hls/v1/getMP4InitFragment.mp4',
  mp4: '/hls/v1/getMP4MediaFragment.mp4',
  ts: '/hls/v1/getTSFragment.ts',
});

const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/** fMP4 segments need EXT-X-MAP (version 6+; 7 as KVS and Apple's authoring spec use); TS plays at 3. */
function version(session: PlaybackSession): number {
  return session.container === 'FRAGMENTED_MP4' ? 7 : 3;
}

export function masterPlaylist(session: PlaybackSession, token: string, codecs: string, bandwidth: number, width?: number, height?: number): string {
  const resolution = width && height ? `,RESOLUTION=${width}x${height}` : '';
  return [
    '#EXTM3U',
    `#EXT-X-VERSION:${version(session)}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
    `#EXT-X-STREAM-INF:BANDWIDTH=${Math.max(1, Math.round(bandwidth))},CODECS="${codecs}"${resolution}`,
    `${base(HLS_PATHS.media)}?SessionToken=${token}`,
    '',
  ].join('\n');
}

/** Peak bits per second over `records` (BANDWIDTH of the variant: RFC 8216 §4.3.4.2). */
export function peakBandwidth(records: readonly FragmentRecord[]): number {
  let peak = 0;
  for (const r of records) if (r.durationMs > 0) peak = Math.max(peak, (r.size * 8 * 1000) / r.durationMs);
  return peak;
}

/** The header every init request without FragmentNumber stands for: the newest for LIVE, else the first. */
export function defaultHeaderFragment(session: PlaybackSession, window: SessionWindow): FragmentRecord | undefined {
  return session.mode === 'LIVE' ? window.seq[window.last - 1] : window.seq[0];
}

export function mediaPlaylist(session: PlaybackSession, token: string, window: SessionWindow): string {
  const { seq, first, last } = window;
  const shown = seq.slice(first, last);
  const target = Math.max(1, ...shown.map((r) => Math.ceil(r.durationMs / 1000)));
  let discontinuities = 0;
  for (let i = 1; i < first; i++) if (discontinuityBefore(session, seq, i)) discontinuities++;
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${version(session)}`, `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${first}`];
  if (discontinuities > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${discontinuities}`);
  if (session.mode === 'ON_DEMAND') lines.push('#EXT-X-PLAYLIST-TYPE:VOD');
  const fmp4 = session.container === 'FRAGMENTED_MP4';
  const defaultHeader = defaultHeaderFragment(session, window)?.header;
  let header: string | undefined;
  for (let i = first; i < last; i++) {
    const r = seq[i]!;
    if (discontinuityBefore(session, seq, i)) lines.push('#EXT-X-DISCONTINUITY');
    if (fmp4 && r.header !== header) {
      // A new codec configuration (CPD) needs its own init segment: name the fragment whose header it is.
      const which = r.header === defaultHeader ? '' : `&FragmentNumber=${r.fragmentNumber}`;
      lines.push(`#EXT-X-MAP:URI="${base(HLS_PATHS.init)}?SessionToken=${token}${which}"`);
      header = r.header;
    }
    if (session.displayTimestamp) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(fragmentStart(r, session.source)).toISOString()}`);
    lines.push(`#EXTINF:${(r.durationMs / 1000).toFixed(3)},`);
    lines.push(`${base(fmp4 ? HLS_PATHS.mp4 : HLS_PATHS.ts)}?FragmentNumber=${r.fragmentNumber}&SessionToken=${token}`);
  }
  if (window.ended) lines.push('#EXT-X-ENDLIST');
  lines.push('');
  return lines.join('\n');
}
