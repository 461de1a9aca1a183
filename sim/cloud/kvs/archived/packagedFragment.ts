import type { CloudContext } from '../../types.ts';
import type { FragmentRecord, FragmentStore } from '../media/FragmentStore.ts';
import { RemuxCache } from './RemuxCache.ts';
import { remuxWithFfmpeg } from './remuxWithFfmpeg.ts';

/** Remuxed fragments kept per running cloud: ~64 MB is a few minutes of a 1 Mbit/s camera for every viewer. */
const CACHE_BYTES = 64 * 1024 * 1024;
const caches = new WeakMap<CloudContext, RemuxCache>();

function cacheOf(ctx: CloudContext): RemuxCache {
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = new RemuxCache(CACHE_BYTES)));
  return cache;
}

/** One stored fragment as Matroska a demuxer reads alone: its segment header, then the fragment. */
export function fragmentAsMkv(store: FragmentStore, record: FragmentRecord): Buffer {
  return Buffer.concat([store.readHeader(record.header), store.readFragment(record)]);
}

/** The top-level ISO BMFF boxes of `mp4` (ISO/IEC 14496-12 §4.2): type and byte range. */
function topLevelBoxes(mp4: Buffer): { type: string; start: number; end: number }[] {
  const boxes: { type: string; start: number; end: number }[] = [];
  for (let at = 0; at + 8 <= mp4.length; ) {
    let size = mp4.readUInt32BE(at);
    if (size === 1 && at + 16 <= mp4.length) size = Number(mp4.readBigUInt64BE(at + 8));
    else if (size === 0) size = mp4.length - at;
    if (size < 8 || at + size > mp4.length) break;
    boxes.push({ type: mp4.toString('latin1', at + 4, at + 8), start: at, end: at + size });
    at += size;
  }
  return boxes;
}

/** A fragment as fMP4: `init` (ftyp + moov) and `media` (its moof + mdat pairs; ffmpeg's trailing mfra dropped). */
export async function fmp4Fragment(
  ctx: CloudContext,
  streamArn: string,
  store: FragmentStore,
  record: FragmentRecord,
): Promise<{ init: Buffer; media: Buffer }> {
  const whole = await cacheOf(ctx).get(`${streamArn} ${record.fragmentNumber} fmp4`, () => remuxWithFfmpeg(fragmentAsMkv(store, record), 'fmp4'));
  const boxes = topLevelBoxes(whole);
  const firstMoof = boxes.find((b) => b.type === 'moof')?.start ?? whole.length;
  const media = boxes.filter((b) => b.type === 'moof' || b.type === 'mdat');
  return {
    init: whole.subarray(0, firstMoof),
    media: Buffer.concat(media.map((b) => whole.subarray(b.start, b.end))),
  };
}

export async function tsFragment(ctx: CloudContext, streamArn: string, store: FragmentStore, record: FragmentRecord): Promise<Buffer> {
  return cacheOf(ctx).get(`${streamArn} ${record.fragmentNumber} ts`, () => remuxWithFfmpeg(fragmentAsMkv(store, record), 'ts'));
}
