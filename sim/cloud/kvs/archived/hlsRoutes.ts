// GetHLSStreamingSessionURL and the session's HLS endpoints (kvs-reference.md §12 and §6.2; the KVS API
// reference: GetHLSStreamingSessionURL, GetHLSMasterPlaylist, GetHLSMediaPlaylist, GetMP4InitFragment,
// GetMP4MediaFragment, GetTSFragment). The session URL is signed SigV4 like every KVS call; the playlist and
// fragment requests carry only the SessionToken, so any HLS player can fetch them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonRequest, writeJson } from '../../http.ts';
import { CloudError, type CloudContext, type Route, type StreamRecord } from '../../types.ts';
import { InputValidator } from '../InputValidator.ts';
import { findStream, timestampMs } from '../media/archivedMediaRoutes.ts';
import { fragmentStoreFor } from '../media/fragmentStoreFor.ts';
import type { FragmentRecord } from '../media/FragmentStore.ts';
import { defaultHeaderFragment, HLS_PATHS, masterPlaylist, mediaPlaylist, peakBandwidth } from './hlsPlaylists.ts';
import { fmp4Fragment, tsFragment } from './packagedFragment.ts';
import { playableCodec } from './playableCodec.ts';
import { createSession, sessionFor, type PlaybackMode, type PlaybackSession } from './PlaybackSessions.ts';
import { readTracks } from './readTracks.ts';
import { selectFragments, type TimestampSource } from './selectFragments.ts';
import { sessionWindow } from './sessionWindow.ts';

/** Expires: 300-43200 s, default 300 (API reference). */
const EXPIRES = Object.freeze({ min: 300, max: 43_200, default: 300 });
/** MaxMediaPlaylistFragmentResults: 1-5000; default 5 live, 1000 on demand (API reference). */
const MAX_PLAYLIST = 5000;
/** A LIVE session needs a fragment in the last 30 s (ResourceNotFoundException, API reference). */
const LIVE_RECENT_MS = 30_000;
/** Timestamp ranges span at most 24 hours (HLSTimestampRange; kvs-reference.md: HLS, "within 24 h"). */
const MAX_RANGE_MS = 24 * 3_600_000;
const NO_FRAGMENTS = 'No fragments found in the stream for the streaming request.';

/** The session options every streaming-session API shares (HLS now; DASH uses the same selectors). */
export interface SessionRequest {
  readonly stream: StreamRecord;
  readonly mode: PlaybackMode;
  readonly source: TimestampSource;
  readonly startMs?: number;
  readonly endMs?: number;
}

/** Reads PlaybackMode and the fragment selector (`selectorKey`: HLSFragmentSelector or DASHFragmentSelector). */
export function readSelector(v: InputValidator, selectorKey: string): Omit<SessionRequest, 'stream'> {
  const mode = v.oneOf('PlaybackMode', ['LIVE', 'LIVE_REPLAY', 'ON_DEMAND'] as const, false) ?? 'LIVE';
  const selector = v.object(selectorKey);
  let source: TimestampSource = 'SERVER_TIMESTAMP';
  let startMs: number | undefined;
  let endMs: number | undefined;
  if (selector) {
    const sv = new InputValidator(selector);
    source = sv.oneOf('FragmentSelectorType', ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const, false) ?? 'SERVER_TIMESTAMP';
    const range = sv.object('TimestampRange');
    sv.done();
    if (range) {
      if (mode === 'LIVE') throw new CloudError(400, 'InvalidArgumentException', 'TimestampRange must not be set when PlaybackMode is LIVE.');
      if (range.StartTimestamp !== undefined) startMs = timestampMs(range.StartTimestamp, 'StartTimestamp');
      if (range.EndTimestamp !== undefined) endMs = timestampMs(range.EndTimestamp, 'EndTimestamp');
    }
  }
  if (mode !== 'LIVE' && startMs === undefined) {
    throw new CloudError(400, 'InvalidArgumentException', `${selectorKey}.TimestampRange.StartTimestamp is required when PlaybackMode is ${mode}.`);
  }
  if (mode === 'ON_DEMAND' && endMs === undefined) {
    throw new CloudError(400, 'InvalidArgumentException', `${selectorKey}.TimestampRange.EndTimestamp is required when PlaybackMode is ON_DEMAND.`);
  }
  if (startMs !== undefined && endMs !== undefined) {
    if (endMs <= startMs) throw new CloudError(400, 'InvalidArgumentException', 'EndTimestamp must be later than StartTimestamp.');
    if (endMs - startMs > MAX_RANGE_MS) throw new CloudError(400, 'InvalidArgumentException', 'EndTimestamp must be within 24 hours of StartTimestamp.');
  }
  return { mode, source, ...(startMs !== undefined ? { startMs } : {}), ...(endMs !== undefined ? { endMs } : {}) };
}

/**
 * The fragment whose header decides whether the session plays (the first of the session; for LIVE the
 * newest, which must be under 30 s old), after the retention and codec checks of the API reference.
 */
export function firstPlayableFragment(ctx: CloudContext, request: SessionRequest): FragmentRecord {
  if (request.stream.DataRetentionInHours === 0) {
    throw new CloudError(400, 'NoDataRetentionException', 'The stream does not retain data (DataRetentionInHours is 0); playback needs stored fragments.');
  }
  const store = fragmentStoreFor(ctx, request.stream);
  let first: FragmentRecord | undefined;
  if (request.mode === 'LIVE') {
    first = store.list().at(-1);
    if (first && first.serverTimestampMs < ctx.now() - LIVE_RECENT_MS) first = undefined;
  } else {
    first = selectFragments(store.list(), request.source, request.startMs, request.endMs)[0];
  }
  if (!first) throw new CloudError(404, 'ResourceNotFoundException', NO_FRAGMENTS);
  playableCodec(readTracks(store.readHeader(first.header)));
  return first;
}

/** The options of GetHLSStreamingSessionURL after validation. */
export interface HlsSessionOptions extends SessionRequest {
  readonly container: 'FRAGMENTED_MP4' | 'MPEG_TS';
  readonly discontinuity?: PlaybackSession['discontinuity'];
  readonly displayTimestamp?: boolean;
  readonly expiresSeconds?: number;
  readonly maxResults?: number;
}

/** Checks that the stream plays, opens an HLS session and returns its master playlist URL (also the viewer's way in). */
export function openHlsSession(ctx: CloudContext, options: HlsSessionOptions): string {
  const { stream, mode, source } = options;
  firstPlayableFragment(ctx, options);
  const now = ctx.now();
  const session: PlaybackSession = {
    protocol: 'HLS',
    streamArn: stream.StreamARN,
    streamName: stream.StreamName,
    mode,
    source,
    container: options.container,
    ...(options.startMs !== undefined ? { startMs: options.startMs } : {}),
    ...(options.endMs !== undefined ? { endMs: options.endMs } : {}),
    discontinuity: options.discontinuity ?? (source === 'SERVER_TIMESTAMP' ? 'ALWAYS' : 'NEVER'),
    displayTimestamp: options.displayTimestamp ?? false,
    maxResults: options.maxResults ?? (mode === 'ON_DEMAND' ? 1000 : 5),
    createdMs: now,
    expiresMs: now + (options.expiresSeconds ?? EXPIRES.default) * 1000,
  };
  return `${ctx.endpoint}${HLS_PATHS.master}?SessionToken=${createSession(ctx, session)}`;
}

async function getHlsStreamingSessionUrl(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const input = await readJsonRequest(req, ctx);
  const v = new InputValidator(input);
  const selection = readSelector(v, 'HLSFragmentSelector');
  const container = v.oneOf('ContainerFormat', ['FRAGMENTED_MP4', 'MPEG_TS'] as const, false) ?? 'FRAGMENTED_MP4';
  const discontinuity = v.oneOf('DiscontinuityMode', ['ALWAYS', 'NEVER', 'ON_DISCONTINUITY'] as const, false);
  const display = v.oneOf('DisplayFragmentTimestamp', ['ALWAYS', 'NEVER'] as const, false) ?? 'NEVER';
  const expiresSeconds = v.integer('Expires', { min: EXPIRES.min, max: EXPIRES.max });
  const maxResults = v.integer('MaxMediaPlaylistFragmentResults', { min: 1, max: MAX_PLAYLIST });
  const stream = findStream(v, ctx, req, 'GetHLSStreamingSessionURL');
  const url = openHlsSession(ctx, {
    stream,
    ...selection,
    container,
    displayTimestamp: display === 'ALWAYS',
    ...(discontinuity ? { discontinuity } : {}),
    ...(expiresSeconds !== undefined ? { expiresSeconds } : {}),
    ...(maxResults !== undefined ? { maxResults } : {}),
  });
  writeJson(res, 200, { HLSStreamingSessionURL: url });
}

// ── the session's GET endpoints ──

export interface SessionRequestContext {
  readonly session: PlaybackSession;
  readonly token: string;
  readonly stream: StreamRecord;
  readonly query: URLSearchParams;
}

/** The session named by ?SessionToken, still alive, of a stream that still exists. */
export function openSession(req: IncomingMessage, ctx: CloudContext, protocol: 'HLS' | 'DASH'): SessionRequestContext {
  const query = new URL(req.url ?? '/', 'https://localhost').searchParams;
  const token = query.get('SessionToken');
  const session = sessionFor(ctx, token);
  if (session.protocol !== protocol) throw new CloudError(400, 'InvalidArgumentException', `The SessionToken is not one of an ${protocol} session.`);
  const stream = ctx.streams.getByArn(session.streamArn);
  if (!stream) throw new CloudError(404, 'ResourceNotFoundException', 'The requested stream is not found or not active.');
  return { session, token: token!, stream, query };
}

/** Playlists and segments: any origin may read them (browser players on other pages), as KVS allows. */
export function sendSegment(res: ServerResponse, type: string, body: Buffer | string, live: boolean): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': bytes.length,
    'Access-Control-Allow-Origin': '*',
    'Cache-Control': live ? 'no-cache' : 'max-age=300',
  });
  res.end(bytes);
}

/** The fragment named by ?FragmentNumber, which must be one of the stream's (404 otherwise). */
export function namedFragment(ctx: CloudContext, opened: SessionRequestContext, required: boolean): FragmentRecord | undefined {
  const number = opened.query.get('FragmentNumber');
  if (number === null) {
    if (required) throw new CloudError(400, 'InvalidArgumentException', 'The FragmentNumber parameter is required.');
    return undefined;
  }
  const record = /^[0-9]{1,128}$/.test(number) ? fragmentStoreFor(ctx, opened.stream).get(number) : undefined;
  if (!record) throw new CloudError(404, 'ResourceNotFoundException', `Fragment ${number} is not found in the stream.`);
  return record;
}

async function masterPlaylistRoute(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const opened = openSession(req, ctx, 'HLS');
  const store = fragmentStoreFor(ctx, opened.stream);
  const window = sessionWindow(opened.session, store.list(), ctx.now());
  const first = defaultHeaderFragment(opened.session, window);
  if (!first) throw new CloudError(404, 'ResourceNotFoundException', NO_FRAGMENTS);
  const codec = playableCodec(readTracks(store.readHeader(first.header)));
  const peak = peakBandwidth(window.seq.slice(window.first, window.last));
  const body = masterPlaylist(opened.session, opened.token, codec.codecs, peak, codec.width, codec.height);
  sendSegment(res, 'application/vnd.apple.mpegurl', body, true);
}

async function mediaPlaylistRoute(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const opened = openSession(req, ctx, 'HLS');
  const window = sessionWindow(opened.session, fragmentStoreFor(ctx, opened.stream).list(), ctx.now());
  sendSegment(res, 'application/vnd.apple.mpegurl', mediaPlaylist(opened.session, opened.token, window), opened.session.mode !== 'ON_DEMAND');
}

async function initFragmentRoute(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const opened = openSession(req, ctx, 'HLS');
  const store = fragmentStoreFor(ctx, opened.stream);
  const record = namedFragment(ctx, opened, false) ?? defaultHeaderFragment(opened.session, sessionWindow(opened.session, store.list(), ctx.now()));
  if (!record) throw new CloudError(404, 'ResourceNotFoundException', NO_FRAGMENTS);
  playableCodec(readTracks(store.readHeader(record.header)));
  sendSegment(res, 'video/mp4', (await fmp4Fragment(ctx, opened.stream.StreamARN, store, record)).init, false);
}

async function mp4FragmentRoute(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const opened = openSession(req, ctx, 'HLS');
  const record = namedFragment(ctx, opened, true)!;
  const store = fragmentStoreFor(ctx, opened.stream);
  sendSegment(res, 'video/mp4', (await fmp4Fragment(ctx, opened.stream.StreamARN, store, record)).media, false);
}

async function tsFragmentRoute(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const opened = openSession(req, ctx, 'HLS');
  const record = namedFragment(ctx, opened, true)!;
  sendSegment(res, 'video/mp2t', await tsFragment(ctx, opened.stream.StreamARN, fragmentStoreFor(ctx, opened.stream), record), false);
}

export const hlsRoutes: readonly Route[] = Object.freeze([
  Object.freeze({ method: 'POST', path: '/getHLSStreamingSessionURL', handler: getHlsStreamingSessionUrl } as const),
  Object.freeze({ method: 'GET', path: HLS_PATHS.master, handler: masterPlaylistRoute } as const),
  Object.freeze({ method: 'GET', path: HLS_PATHS.media, handler: mediaPlaylistRoute } as const),
  Object.freeze({ method: 'GET', path: HLS_PATHS.init, handler: initFragmentRoute } as const),
  Object.freeze({ method: 'GET', path: HLS_PATHS.mp4, handler: mp4FragmentRoute } as const),
  Object.freeze({ method: 'GET', path: HLS_PATHS.ts, handler: tsFragmentRoute } as const),
]);
