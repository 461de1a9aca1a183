// The viewer page on the cloud's HTTPS port (`/viewer`): the streams, a live player, a timeline of the
// fragments with their metadata tags, clip download and the device health the cloud knows (how long ago
// the last fragment was PERSISTED). hls.js is served from node_modules, never a CDN: the page works
// offline, and the version is the one package-lock.json pins.
//
// Like the rest of the local cloud it listens on loopback only; unlike the KVS APIs the page and its JSON
// are not SigV4-signed (a browser has no keys), so they are read-only views and create only what a
// GetHLSStreamingSessionURL or GetClip caller could.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeJson } from '../http.ts';
import { buildClip } from '../kvs/archived/getClipRoute.ts';
import { openHlsSession } from '../kvs/archived/hlsRoutes.ts';
import { playableCodec } from '../kvs/archived/playableCodec.ts';
import { readTracks } from '../kvs/archived/readTracks.ts';
import { fragmentStoreFor } from '../kvs/media/fragmentStoreFor.ts';
import { CloudError, type CloudContext, type Route, type StreamRecord } from '../types.ts';

const ASSETS = join(import.meta.dirname, 'assets');
const require = createRequire(import.meta.url);

/** Static files of the page: name → [file, content type]. */
const FILES: Readonly<Record<string, readonly [string, string]>> = Object.freeze({
  'viewer.js': [join(ASSETS, 'viewer.js'), 'text/javascript; charset=utf-8'],
  'viewer.css': [join(ASSETS, 'viewer.css'), 'text/css; charset=utf-8'],
  'hls.min.js': [require.resolve('hls.js/dist/hls.min.js'), 'text/javascript; charset=utf-8'],
  // dash.js for DASH sessions (a page of this origin may load it; the viewer itself plays HLS).
  'dash.all.min.js': [require.resolve('dashjs'), 'text/javascript; charset=utf-8'],
});

/** The timeline shows at most this many of the newest fragments. */
const MAX_TIMELINE = 600;

function sendBytes(res: ServerResponse, type: string, body: Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff', ...extra });
  res.end(body);
}

function streamNamed(ctx: CloudContext, query: URLSearchParams): StreamRecord {
  const name = query.get('stream') ?? '';
  const stream = ctx.streams.get(name);
  if (!stream) throw new CloudError(404, 'ResourceNotFoundException', 'The requested stream is not found or not active.');
  return stream;
}

function msParam(query: URLSearchParams, key: string): number | undefined {
  const v = query.get(key);
  if (v === null || v === '') return undefined;
  if (!/^\d{1,16}$/.test(v)) throw new CloudError(400, 'InvalidArgumentException', `${key} must be epoch milliseconds`);
  return Number(v);
}

/** Each stream with what a person checks first: is it arriving, and can it be played. */
function streamSummaries(ctx: CloudContext): unknown {
  const now = ctx.now();
  return {
    now,
    streams: ctx.streams.list().map((s) => {
      const store = fragmentStoreFor(ctx, s);
      const records = store.list();
      const last = records.at(-1);
      let codec: string | undefined;
      let playable: string | true = 'no fragments yet';
      if (last) {
        const tracks = readTracks(store.readHeader(last.header));
        codec = tracks[0]?.codecId;
        try {
          playableCodec(tracks);
          playable = true;
        } catch (err) {
          playable = `${(err as CloudError).type}: ${(err as Error).message}`;
        }
      }
      return {
        name: s.StreamName,
        arn: s.StreamARN,
        retentionHours: s.DataRetentionInHours,
        mediaType: s.MediaType ?? null,
        fragments: records.length,
        codec: codec ?? null,
        playable,
        lastPersistedAgeMs: last ? now - last.serverTimestampMs : null,
        lastProducerTimestampMs: last ? last.producerTimestampMs : null,
      };
    }),
  };
}

function fragmentList(ctx: CloudContext, query: URLSearchParams): unknown {
  const stream = streamNamed(ctx, query);
  const records = fragmentStoreFor(ctx, stream).list();
  return {
    stream: stream.StreamName,
    total: records.length,
    fragments: records.slice(-MAX_TIMELINE).map((r) => ({
      number: r.fragmentNumber,
      producerMs: r.producerTimestampMs,
      serverMs: r.serverTimestampMs,
      durationMs: r.durationMs,
      size: r.size,
      tags: r.tags.map(([name, value]) => ({ name, value })),
    })),
  };
}

async function viewerApi(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://localhost');
  const name = url.pathname.slice('/viewer/'.length);
  const file = FILES[name];
  if (file) {
    sendBytes(res, file[1], readFileSync(file[0]));
    return;
  }
  const q = url.searchParams;
  switch (name) {
    case 'api/streams':
      writeJson(res, 200, streamSummaries(ctx));
      return;
    case 'api/fragments':
      writeJson(res, 200, fragmentList(ctx, q));
      return;
    case 'api/hls': {
      // Producer timestamps: the camera's clock is what the timeline shows.
      const stream = streamNamed(ctx, q);
      const startMs = msParam(q, 'start');
      const endMs = msParam(q, 'end');
      const mode = startMs === undefined ? 'LIVE' : endMs === undefined ? 'LIVE_REPLAY' : 'ON_DEMAND';
      const hls = openHlsSession(ctx, {
        stream,
        mode,
        source: 'PRODUCER_TIMESTAMP',
        container: 'FRAGMENTED_MP4',
        ...(startMs !== undefined ? { startMs } : {}),
        ...(endMs !== undefined ? { endMs } : {}),
        expiresSeconds: 3600,
      });
      writeJson(res, 200, { url: hls, mode });
      return;
    }
    case 'api/clip': {
      const stream = streamNamed(ctx, q);
      const startMs = msParam(q, 'start');
      const endMs = msParam(q, 'end');
      if (startMs === undefined || endMs === undefined) throw new CloudError(400, 'InvalidArgumentException', 'start and end are required');
      const mp4 = await buildClip(ctx, stream, 'PRODUCER_TIMESTAMP', startMs, endMs);
      const fileName = `${stream.StreamName}-${new Date(startMs).toISOString().replace(/[:.]/g, '-')}.mp4`;
      sendBytes(res, 'video/mp4', mp4, { 'Content-Disposition': `attachment; filename="${fileName}"` });
      return;
    }
    default:
      throw new CloudError(404, 'ResourceNotFoundException', `No viewer resource ${url.pathname}`);
  }
}

async function viewerPage(_req: IncomingMessage, res: ServerResponse): Promise<void> {
  sendBytes(res, 'text/html; charset=utf-8', readFileSync(join(ASSETS, 'index.html')), {
    // Everything the page loads comes from this origin.
    'Content-Security-Policy': "default-src 'self'; media-src 'self' blob:; worker-src 'self' blob:; img-src 'self' data:",
  });
}

async function rootRedirect(_req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.writeHead(302, { Location: '/viewer', 'Content-Length': 0 });
  res.end();
}

export const viewerRoutes: readonly Route[] = Object.freeze([
  Object.freeze({ method: 'GET', path: '/', handler: rootRedirect } as const),
  Object.freeze({ method: 'GET', path: '/viewer', handler: viewerPage } as const),
  Object.freeze({ method: 'GET', path: '/viewer/*', handler: viewerApi } as const),
]);

/** The viewer's address on a running cloud. */
export function viewerUrl(endpoint: string): string {
  return `${endpoint}/viewer`;
}
