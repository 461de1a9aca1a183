// GetImages (API reference: GetImages, Image, ImageSelectorType, FormatConfig): images sampled every
// SamplingInterval ms over a range of at most 300 s, each decoded by ffmpeg from the stored fragment that
// holds the sampled time (the frame shown at that time: decoding starts at the fragment's key frame), as
// JPEG or PNG, optionally scaled. A time with no fragment gets Error NO_MEDIA; media ffmpeg cannot decode, or
// a codec KVS does not make images of (MJPEG), gets MEDIA_ERROR. Pages hold at most 25 images.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonRequest, writeJson } from '../../http.ts';
import { CloudError, type CloudContext, type Route } from '../../types.ts';
import { InputValidator } from '../InputValidator.ts';
import { findStream, timestampMs } from '../media/archivedMediaRoutes.ts';
import { fragmentStoreFor } from '../media/fragmentStoreFor.ts';
import type { FragmentRecord } from '../media/FragmentStore.ts';
import { fragmentAsMkv } from './packagedFragment.ts';
import { playableCodec } from './playableCodec.ts';
import { readTracks } from './readTracks.ts';
import { runFfmpeg } from './remuxWithFfmpeg.ts';
import { fragmentStart } from './selectFragments.ts';

export const IMAGE_LIMITS = Object.freeze({
  /** "more than 300 seconds above StartTimestamp" is refused. */
  maxRangeMs: 300_000,
  /** SamplingInterval: at least 200 ms (5 images a second). */
  minIntervalMs: 200,
  defaultIntervalMs: 3000,
  /** A page holds at most 25 images; MaxResults caps the total. */
  pageSize: 25,
  maxResults: 100,
  maxWidth: 3840,
  maxHeight: 2160,
});

/** JPEGQuality 1-100 (default 80) as ffmpeg's mjpeg qscale, 31 (worst) … 2 (best). */
function qscale(quality: number): number {
  return Math.round(31 - ((quality - 1) * 29) / 99);
}

interface Sampling {
  readonly format: 'JPEG' | 'PNG';
  readonly quality: number;
  readonly width?: number;
  readonly height?: number;
}

async function imageAt(mkv: Buffer, offsetMs: number, s: Sampling): Promise<Buffer> {
  const scale = s.width && s.height ? [`-vf`, `scale=${s.width}:${s.height}`] : s.height ? ['-vf', `scale=-2:${s.height}`] : [];
  const codec = s.format === 'JPEG' ? ['-c:v', 'mjpeg', '-q:v', String(qscale(s.quality)), '-pix_fmt', 'yuvj420p'] : ['-c:v', 'png'];
  return runFfmpeg(
    [
      '-f',
      'matroska',
      '-i',
      'pipe:0',
      '-ss',
      (Math.max(0, offsetMs) / 1000).toFixed(3),
      '-map',
      '0:v:0',
      '-frames:v',
      '1',
      ...scale,
      ...codec,
      '-f',
      'image2pipe',
      'pipe:1',
    ],
    mkv,
  );
}

async function getImages(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const input = await readJsonRequest(req, ctx);
  const v = new InputValidator(input);
  const source = v.oneOf('ImageSelectorType', ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const, true)!;
  const format = v.oneOf('Format', ['JPEG', 'PNG'] as const, true)!;
  const interval = v.integer('SamplingInterval', { min: IMAGE_LIMITS.minIntervalMs, max: 20_000 }) ?? IMAGE_LIMITS.defaultIntervalMs;
  const width = v.integer('WidthPixels', { min: 1, max: IMAGE_LIMITS.maxWidth });
  const height = v.integer('HeightPixels', { min: 1, max: IMAGE_LIMITS.maxHeight });
  const maxResults = v.integer('MaxResults', { min: 1, max: IMAGE_LIMITS.maxResults }) ?? IMAGE_LIMITS.maxResults;
  const nextToken = v.string('NextToken', { min: 1, max: 4096, pattern: /^[a-zA-Z0-9+/=]+$/ });
  const config = v.object('FormatConfig');
  if (input.StartTimestamp === undefined) v.fail('startTimestamp', null, 'Member must not be null');
  if (input.EndTimestamp === undefined) v.fail('endTimestamp', null, 'Member must not be null');
  const stream = findStream(v, ctx, req, 'GetImages');
  const startMs = timestampMs(input.StartTimestamp, 'StartTimestamp');
  const endMs = timestampMs(input.EndTimestamp, 'EndTimestamp');
  if (endMs < startMs) throw new CloudError(400, 'InvalidArgumentException', 'EndTimestamp must not be before StartTimestamp.');
  if (endMs - startMs > IMAGE_LIMITS.maxRangeMs)
    throw new CloudError(400, 'InvalidArgumentException', 'The range between StartTimestamp and EndTimestamp must not exceed 300 seconds.');
  if (width !== undefined && height === undefined) throw new CloudError(400, 'ValidationException', 'WidthPixels needs HeightPixels.');
  let quality = 80;
  if (config) {
    for (const [key, value] of Object.entries(config)) {
      if (key !== 'JPEGQuality' || typeof value !== 'string' || !/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 100) {
        throw new CloudError(400, 'InvalidArgumentException', 'FormatConfig takes JPEGQuality, a whole number from 1 to 100.');
      }
      quality = Number(value);
    }
  }
  if (stream.DataRetentionInHours === 0) throw new CloudError(400, 'NoDataRetentionException', 'The stream does not retain data (DataRetentionInHours is 0).');
  let first = 0;
  if (nextToken !== undefined) {
    first = Number(Buffer.from(nextToken, 'base64').toString('utf8'));
    if (!Number.isSafeInteger(first) || first < 0) throw new CloudError(400, 'InvalidArgumentException', 'NextToken is not a token this API returned.');
  }
  const total = Math.min(Math.floor((endMs - startMs) / interval) + 1, maxResults);
  const last = Math.min(total, first + IMAGE_LIMITS.pageSize);
  const store = fragmentStoreFor(ctx, stream);
  const records = store.list();
  const sampling: Sampling = { format, quality, ...(width ? { width } : {}), ...(height ? { height } : {}) };
  const images: Record<string, unknown>[] = [];
  const mkvs = new Map<FragmentRecord, Buffer>();
  for (let i = first; i < last; i++) {
    const t = startMs + i * interval;
    const holder = records.find((r) => fragmentStart(r, source) <= t && t < fragmentStart(r, source) + r.durationMs);
    if (!holder) {
      images.push({ TimeStamp: t / 1000, Error: 'NO_MEDIA' });
      continue;
    }
    try {
      playableCodec(readTracks(store.readHeader(holder.header)));
      let mkv = mkvs.get(holder);
      if (!mkv) mkvs.set(holder, (mkv = fragmentAsMkv(store, holder)));
      const image = await imageAt(mkv, t - fragmentStart(holder, source), sampling);
      if (image.length === 0) throw new Error('no frame decoded');
      images.push({ TimeStamp: t / 1000, ImageContent: image.toString('base64') });
    } catch {
      images.push({ TimeStamp: t / 1000, Error: 'MEDIA_ERROR' });
    }
  }
  writeJson(res, 200, { Images: images, ...(last < total ? { NextToken: Buffer.from(String(last), 'utf8').toString('base64') } : {}) });
}

export const getImagesRoute: Route = Object.freeze({ method: 'POST', path: '/getImages', handler: getImages } as const);
