// GetDASHStreamingSessionURL and the session's DASH endpoints (API reference: GetDASHStreamingSessionURL,
// GetDASHManifest, GetMP4InitFragment, GetMP4MediaFragment), sharing HLS's sessions, selectors, checks and
// fMP4 segments. The manifest names segments by their position in the session (`FragmentIndex`).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonRequest, writeJson } from '../../http.ts';
import { CloudError, type CloudContext, type Route } from '../../types.ts';
import { InputValidator } from '../InputValidator.ts';
import { findStream } from '../media/archivedMediaRoutes.ts';
import { fragmentStoreFor } from '../media/fragmentStoreFor.ts';
import { DASH_PATHS, dashManifest } from './dashManifest.ts';
import { defaultHeaderFragment, peakBandwidth } from './hlsPlaylists.ts';
import { firstPlayableFragment, openSession, readSelector, sendSegment } from './hlsRoutes.ts';
import { fmp4Fragment } from './packagedFragment.ts';
import { playableCodec } from './playableCodec.ts';
import { createSession, type PlaybackSession } from './PlaybackSessions.ts';
import { readTracks } from './readTracks.ts';
import { sessionWindow } from './sessionWindow.ts';

const NO_FRAGMENTS = 'No fragments found in the stream for the streaming request.';

async function getDashStreamingSessionUrl(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const input = await readJsonRequest(req, ctx);
  const v = new InputValidator(input);
  const selection = readSelector(v, 'DASHFragmentSelector');
  const display = v.oneOf('DisplayFragmentTimestamp', ['ALWAYS', 'NEVER'] as const, false) ?? 'NEVER';
  const number = v.oneOf('DisplayFragmentNumber', ['ALWAYS', 'NEVER'] as const, false) ?? 'NEVER';
  const expires = v.integer('Expires', { min: 300, max: 43_200 }) ?? 300;
  const maxResults = v.integer('MaxManifestFragmentResults', { min: 1, max: 5000 }) ?? (selection.mode === 'ON_DEMAND' ? 1000 : 5);
  const stream = findStream(v, ctx, req, 'GetDASHStreamingSessionURL');
  firstPlayableFragment(ctx, { stream, ...selection });
  const now = ctx.now();
  const session: PlaybackSession = {
    protocol: 'DASH',
    streamArn: stream.StreamARN,
    streamName: stream.StreamName,
    container: 'FRAGMENTED_MP4',
    discontinuity: 'NEVER',
    displayTimestamp: display === 'ALWAYS',
    displayNumber: number === 'ALWAYS',
    maxResults,
    createdMs: now,
    expiresMs: now + expires * 1000,
    ...selection,
  };
  writeJson(res, 200, { DASHStreamingSessionURL: `${ctx.endpoint}${DASH_PATHS.manifest}?SessionToken=${createSession(ctx, session)}` });
}

async function manifestRoute(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const opened = openSession(req, ctx, 'DASH');
  const store = fragmentStoreFor(ctx, opened.stream);
  const now = ctx.now();
  const window = sessionWindow(opened.session, store.list(), now);
  const first = defaultHeaderFragment(opened.session, window);
  if (!first) throw new CloudError(404, 'ResourceNotFoundException', NO_FRAGMENTS);
  const codec = playableCodec(readTracks(store.readHeader(first.header)));
  const body = dashManifest(
    opened.session,
    opened.token,
    window,
    {
      codecs: codec.codecs,
      bandwidth: peakBandwidth(window.seq.slice(window.first, window.last)),
      ...(codec.width ? { width: codec.width } : {}),
      ...(codec.height ? { height: codec.height } : {}),
    },
    now,
  );
  sendSegment(res, 'application/dash+xml', body, true);
}

/** The fragment at ?FragmentIndex (a position in the session), or the session's default header fragment. */
function fragmentAt(req: IncomingMessage, ctx: CloudContext, required: boolean) {
  const opened = openSession(req, ctx, 'DASH');
  const store = fragmentStoreFor(ctx, opened.stream);
  const window = sessionWindow(opened.session, store.list(), ctx.now());
  const index = opened.query.get('FragmentIndex');
  if (index === null) {
    if (required) throw new CloudError(400, 'InvalidArgumentException', 'The FragmentIndex parameter is required.');
    const record = defaultHeaderFragment(opened.session, window);
    if (!record) throw new CloudError(404, 'ResourceNotFoundException', NO_FRAGMENTS);
    return { opened, store, record };
  }
  const record = /^\d{1,9}$/.test(index) ? window.seq[Number(index)] : undefined;
  if (!record) throw new CloudError(404, 'ResourceNotFoundException', `Fragment ${index} of the session is not found.`);
  return { opened, store, record };
}

async function initRoute(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const { opened, store, record } = fragmentAt(req, ctx, false);
  sendSegment(res, 'video/mp4', (await fmp4Fragment(ctx, opened.stream.StreamARN, store, record)).init, false);
}

async function mediaRoute(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const { opened, store, record } = fragmentAt(req, ctx, true);
  sendSegment(res, 'video/mp4', (await fmp4Fragment(ctx, opened.stream.StreamARN, store, record)).media, false);
}

export const dashRoutes: readonly Route[] = Object.freeze([
  Object.freeze({ method: 'POST', path: '/getDASHStreamingSessionURL', handler: getDashStreamingSessionUrl } as const),
  Object.freeze({ method: 'GET', path: DASH_PATHS.manifest, handler: manifestRoute } as const),
  Object.freeze({ method: 'GET', path: DASH_PATHS.init, handler: initRoute } as const),
  Object.freeze({ method: 'GET', path: DASH_PATHS.media, handler: mediaRoute } as const),
]);
