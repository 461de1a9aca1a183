// GetClip (API reference; kvs-reference.md §6.2): an MP4 of the fragments of a time range, remuxed without
// re-encoding. KVS returns "the first 100 MB or the first 200 fragments from the specified start timestamp";
// the codec configuration must not change inside the range.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonRequest } from '../../http.ts';
import { CloudError, type CloudContext, type Route, type StreamRecord } from '../../types.ts';
import { InputValidator } from '../InputValidator.ts';
import { findStream, timestampMs } from '../media/archivedMediaRoutes.ts';
import { fragmentStoreFor } from '../media/fragmentStoreFor.ts';
import { firstPlayableFragment } from './hlsRoutes.ts';
import { remuxWithFfmpeg } from './remuxWithFfmpeg.ts';
import { selectFragments, type TimestampSource } from './selectFragments.ts';

/** GetClip limits: 200 fragments, 100 MB (kvs-reference.md §6.2, [003 L648]). */
export const CLIP_LIMITS = Object.freeze({ fragments: 200, bytes: 100 * 1024 * 1024 });

async function getClip(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const input = await readJsonRequest(req, ctx);
  const v = new InputValidator(input);
  const selector = v.object('ClipFragmentSelector');
  if (!selector) v.fail('clipFragmentSelector', null, 'Member must not be null');
  const stream = findStream(v, ctx, req, 'GetClip');
  const sv = new InputValidator(selector!);
  const source = sv.oneOf('FragmentSelectorType', ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const, true)!;
  const range = sv.object('TimestampRange');
  if (!range) sv.fail('clipFragmentSelector.timestampRange', null, 'Member must not be null');
  sv.done();
  const startMs = timestampMs(range!.StartTimestamp, 'StartTimestamp');
  const endMs = timestampMs(range!.EndTimestamp, 'EndTimestamp');
  if (endMs <= startMs) throw new CloudError(400, 'InvalidArgumentException', 'EndTimestamp must be later than StartTimestamp.');
  if (endMs - startMs > 24 * 3_600_000) throw new CloudError(400, 'InvalidArgumentException', 'EndTimestamp must be within 24 hours of StartTimestamp.');
  const mp4 = await buildClip(ctx, stream, source, startMs, endMs);
  res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': mp4.length });
  res.end(mp4);
}

/** The MP4 of the fragments that start in [startMs, endMs], cut at KVS's limits (also the viewer's download). */
export async function buildClip(ctx: CloudContext, stream: StreamRecord, source: TimestampSource, startMs: number, endMs: number): Promise<Buffer> {
  const first = firstPlayableFragment(ctx, { stream, mode: 'ON_DEMAND', source, startMs, endMs });
  const store = fragmentStoreFor(ctx, stream);
  const parts: Uint8Array[] = [store.readHeader(first.header)];
  let bytes = 0;
  let count = 0;
  for (const r of selectFragments(store.list(), source, startMs, endMs)) {
    if (count >= CLIP_LIMITS.fragments || bytes + r.size > CLIP_LIMITS.bytes) break;
    if (r.header !== first.header) {
      throw new CloudError(
        400,
        'InvalidCodecPrivateDataException',
        'The codec private data changes within the requested range; request the parts before and after the change separately.',
      );
    }
    parts.push(store.readFragment(r));
    bytes += r.size;
    count++;
  }
  const mp4 = await remuxWithFfmpeg(Buffer.concat(parts), 'mp4');
  ctx.log('get-clip', { stream: stream.StreamName, fragments: count, bytes: mp4.length });
  return mp4;
}

export const getClipRoute: Route = Object.freeze({ method: 'POST', path: '/getClip', handler: getClip } as const);
