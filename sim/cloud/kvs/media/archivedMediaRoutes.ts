// Reading stored fragments back, as the KVS archived-media and media APIs do (kvs-reference.md §12):
// ListFragments (JSON), GetMediaForFragmentList and GetMedia (Matroska streams). Every request is signed
// over the SHA-256 of its JSON body.
//
// Media answers are a sequence of "chunks", one per fragment, each a complete Matroska prefix: the
// fragment's segment header (EBML, Segment of unknown size, Info, Tracks), a Tags element with the KVS
// fragment tags, then the stored fragment (its metadata Tags and Cluster). Players and the KVS parser
// library read such a stream segment by segment; `fieldcam get-media` merges it into one segment.
//
// GetMedia sends the stored fragments from its start selector. With the NOW selector it then keeps the
// connection open and streams each new fragment as it is PERSISTED (the live tail, as KVS switches from
// archive to live), for as long as a producer is connected to the stream and the client listens; it ends
// once no PutMedia connection is left and every persisted fragment was sent. Other selectors end after the
// last stored fragment (real GetMedia follows live data for them too); use the continuation token of the
// last chunk to resume.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorizeStream } from '../../auth/authorizeStream.ts';
import { readJsonRequest, writeJson } from '../../http.ts';
import { CloudError, type CloudContext, type Route, type StreamRecord } from '../../types.ts';
import { InputValidator, PATTERNS } from '../InputValidator.ts';
import { encodeTags } from './encodeTags.ts';
import { fragmentStoreFor } from './fragmentStoreFor.ts';
import { putMediaConnections } from './putMediaRoute.ts';
import { compareNumbers, type FragmentRecord, type FragmentStore } from './FragmentStore.ts';

/** ListFragments MaxResults: 1-1000 (API model); 100 when absent. */
const MAX_RESULTS = 1000;
const DEFAULT_RESULTS = 100;
/** GetMediaForFragmentList: at most 1000 fragments per request (kvs-reference.md §6.2). */
const MAX_FRAGMENT_LIST = 1000;
const MEDIA_CONTENT_TYPE = 'video/webm';
const FRAGMENT_NUMBER = /^[0-9]+$/;

/** The stream named by StreamName or StreamARN ("specify either"), authorized for the caller's `api`, or 404. */
export function findStream(v: InputValidator, ctx: CloudContext, req: IncomingMessage, api: string): StreamRecord {
  const name = v.string('StreamName', { min: 1, max: 256, pattern: PATTERNS.streamName });
  const arn = v.string('StreamARN', { min: 1, max: 1024, pattern: PATTERNS.streamArn });
  v.done();
  if (name === undefined && arn === undefined) throw new CloudError(400, 'InvalidArgumentException', 'Either StreamName or StreamARN must be specified.');
  authorizeStream(ctx, req, api, { name, arn });
  const byName = name !== undefined ? ctx.streams.get(name) : undefined;
  const byArn = arn !== undefined ? ctx.streams.getByArn(arn) : undefined;
  if (name !== undefined && arn !== undefined && byName !== byArn) {
    throw new CloudError(400, 'InvalidArgumentException', `StreamName '${name}' and StreamARN '${arn}' do not name the same stream.`);
  }
  const stream = byArn ?? byName;
  if (!stream) throw new CloudError(404, 'ResourceNotFoundException', 'The requested stream is not found or not active.');
  return stream;
}

/** A timestamp member as the AWS JSON protocol sends it: epoch seconds, possibly fractional → ms. */
export function timestampMs(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CloudError(400, 'SerializationException', `${at} must be a timestamp (epoch seconds)`);
  return Math.round(value * 1000);
}

function seconds(ms: number): number {
  return ms / 1000;
}

// ── ListFragments ──

type SelectorType = 'PRODUCER_TIMESTAMP' | 'SERVER_TIMESTAMP';

function startOf(r: FragmentRecord, type: SelectorType): number {
  return type === 'PRODUCER_TIMESTAMP' ? r.producerTimestampMs : r.serverTimestampMs;
}

async function listFragments(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const input = await readJsonRequest(req, ctx);
  const v = new InputValidator(input);
  const maxResults = v.integer('MaxResults', { min: 1, max: MAX_RESULTS }) ?? DEFAULT_RESULTS;
  const nextToken = v.string('NextToken', { min: 1, max: 4096, pattern: PATTERNS.nextToken });
  const selector = v.object('FragmentSelector');
  let range: { type: SelectorType; from: number; to: number } | undefined;
  if (selector) {
    const sv = new InputValidator(selector);
    const type = sv.oneOf('FragmentSelectorType', ['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'] as const, true);
    const tr = sv.object('TimestampRange');
    if (!tr) sv.fail('fragmentSelector.timestampRange', null, 'Member must not be null');
    sv.done();
    const from = timestampMs(tr!.StartTimestamp, 'StartTimestamp');
    const to = timestampMs(tr!.EndTimestamp, 'EndTimestamp');
    if (from > to) throw new CloudError(400, 'InvalidArgumentException', 'StartTimestamp must not be after EndTimestamp.');
    range = { type: type!, from, to };
  }
  const stream = findStream(v, ctx, req, 'ListFragments');
  let after: string | undefined;
  if (nextToken !== undefined) {
    after = Buffer.from(nextToken, 'base64').toString('utf8');
    if (!FRAGMENT_NUMBER.test(after)) throw new CloudError(400, 'InvalidArgumentException', 'NextToken is not a token this API returned.');
  }
  // Fragments whose start timestamp lies in [StartTimestamp, EndTimestamp] (FragmentSelector, API reference).
  const selected = fragmentStoreFor(ctx, stream)
    .list()
    .filter((r) => {
      if (after !== undefined && compareNumbers(r.fragmentNumber, after) <= 0) return false;
      if (!range) return true;
      const t = startOf(r, range.type);
      return t >= range.from && t <= range.to;
    });
  const page = selected.slice(0, maxResults);
  writeJson(res, 200, {
    Fragments: page.map((r) => ({
      FragmentNumber: r.fragmentNumber,
      FragmentSizeInBytes: r.size,
      ProducerTimestamp: seconds(r.producerTimestampMs),
      ServerTimestamp: seconds(r.serverTimestampMs),
      FragmentLengthInMilliseconds: r.durationMs,
    })),
    ...(selected.length > page.length ? { NextToken: Buffer.from(page.at(-1)!.fragmentNumber, 'utf8').toString('base64') } : {}),
  });
}

// ── media chunks ──

/** A timestamp tag value: epoch seconds with milliseconds. */
function tagTime(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** Streams the chunks of `records`, honouring back-pressure; ends the response unless `end` is false. */
async function sendChunks(
  res: ServerResponse,
  store: FragmentStore,
  records: readonly FragmentRecord[],
  tagsOf: (r: FragmentRecord) => Uint8Array,
  end = true,
): Promise<void> {
  if (!res.headersSent) {
    res.writeHead(200, { 'Content-Type': MEDIA_CONTENT_TYPE });
    res.flushHeaders(); // a live tail may have nothing to send yet: the client must see the 200 now
  }
  for (const r of records) {
    if (res.destroyed) return;
    const chunk = Buffer.concat([store.readHeader(r.header), tagsOf(r), store.readFragment(r)]);
    if (!res.write(chunk)) {
      await new Promise<void>((resume) => {
        const go = (): void => {
          res.off('drain', go);
          res.off('close', go);
          resume();
        };
        res.on('drain', go);
        res.on('close', go);
      });
    }
  }
  if (end) res.end();
}

/** How often the live tail looks for newly PERSISTED fragments (real ms): a small part of a 1 s fragment. */
const LIVE_POLL_MS = 50;

/** Stored fragments numbered above `after` (the store lists them in number order). */
function storedAfter(store: FragmentStore, after: string | undefined): readonly FragmentRecord[] {
  const all = store.list();
  let i = all.length;
  while (i > 0 && (after === undefined || compareNumbers(all[i - 1]!.fragmentNumber, after) > 0)) i--;
  return all.slice(i);
}

/**
 * GetMedia's live tail: sends each fragment PERSISTED after `after` as it appears, until the client goes
 * away, or no PutMedia connection feeds the stream any more and every stored fragment was sent.
 */
async function followLive(
  res: ServerResponse,
  ctx: CloudContext,
  stream: StreamRecord,
  store: FragmentStore,
  after: string | undefined,
  tagsOf: (r: FragmentRecord) => Uint8Array,
): Promise<void> {
  let closed = false;
  res.once('close', () => (closed = true));
  let last = after;
  while (!closed && !res.destroyed) {
    const fresh = storedAfter(store, last);
    if (fresh.length > 0) {
      await sendChunks(res, store, fresh, tagsOf, false);
      last = fresh.at(-1)!.fragmentNumber;
      continue;
    }
    if (!putMediaConnections(ctx).active.some((c) => c.stream === stream.StreamName)) break;
    await new Promise((resume) => setTimeout(resume, LIVE_POLL_MS));
  }
  if (!res.destroyed) res.end();
}

async function getMediaForFragmentList(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const input = await readJsonRequest(req, ctx);
  const v = new InputValidator(input);
  const list = input.Fragments;
  if (list === undefined || list === null) {
    v.fail('fragments', null, 'Member must not be null');
  } else if (!Array.isArray(list)) {
    throw new CloudError(400, 'SerializationException', 'Fragments must be a list');
  } else {
    if (list.length < 1 || list.length > MAX_FRAGMENT_LIST)
      v.fail('fragments', `[${list.length} items]`, `Member must have length between 1 and ${MAX_FRAGMENT_LIST}`);
    list.forEach((n, i) => void v.string('Fragments', { required: true, min: 1, max: 128, pattern: FRAGMENT_NUMBER }, `fragments.${i + 1}.member`, n));
  }
  const stream = findStream(v, ctx, req, 'GetMediaForFragmentList');
  const store = fragmentStoreFor(ctx, stream);
  const records = (list as string[]).map((n) => {
    const r = store.get(n);
    if (!r) throw new CloudError(404, 'ResourceNotFoundException', `Fragment ${n} of stream ${stream.StreamName} is not found.`);
    return r;
  });
  await sendChunks(res, store, records, (r) =>
    encodeTags([
      ['AWS_KINESISVIDEO_FRAGMENT_NUMBER', r.fragmentNumber],
      ['AWS_KINESISVIDEO_SERVER_SIDE_TIMESTAMP', tagTime(r.serverTimestampMs)],
      ['AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP', tagTime(r.producerTimestampMs)],
    ]),
  );
}

// ── GetMedia ──

const START_SELECTORS = ['FRAGMENT_NUMBER', 'SERVER_TIMESTAMP', 'PRODUCER_TIMESTAMP', 'NOW', 'EARLIEST', 'CONTINUATION_TOKEN'] as const;

/** Where GetMedia starts (StartSelector, API reference), as an index into the stored fragments. */
function startIndex(records: readonly FragmentRecord[], selector: Record<string, unknown>): number {
  const sv = new InputValidator(selector);
  const type = sv.oneOf('StartSelectorType', START_SELECTORS, true);
  const afterNumber = sv.string('AfterFragmentNumber', { min: 1, max: 128, pattern: FRAGMENT_NUMBER });
  const token = sv.string('ContinuationToken', { min: 1, max: 128, pattern: /^[a-zA-Z0-9_.-]+$/ });
  if (type === 'FRAGMENT_NUMBER' && afterNumber === undefined)
    sv.fail('startSelector.afterFragmentNumber', null, 'Member must not be null for FRAGMENT_NUMBER');
  if (type === 'CONTINUATION_TOKEN' && token === undefined) sv.fail('startSelector.continuationToken', null, 'Member must not be null for CONTINUATION_TOKEN');
  const timed = type === 'SERVER_TIMESTAMP' || type === 'PRODUCER_TIMESTAMP';
  if (timed && selector.StartTimestamp === undefined) sv.fail('startSelector.startTimestamp', null, `Member must not be null for ${type}`);
  sv.done();
  switch (type) {
    case 'EARLIEST':
      return 0;
    case 'NOW':
      // "Start with the latest chunk on the stream".
      return Math.max(0, records.length - 1);
    case 'FRAGMENT_NUMBER':
    case 'CONTINUATION_TOKEN': {
      // "Start with the chunk after a specific fragment"; our continuation token is the last chunk's number.
      const after = (type === 'FRAGMENT_NUMBER' ? afterNumber : token)!;
      if (!FRAGMENT_NUMBER.test(after)) throw new CloudError(400, 'InvalidArgumentException', 'The continuation token is not one GetMedia returned.');
      const i = records.findIndex((r) => compareNumbers(r.fragmentNumber, after) > 0);
      return i < 0 ? records.length : i;
    }
    default: {
      // "Start with the chunk containing a fragment with the specified timestamp" (or the first one after it).
      const t = timestampMs(selector.StartTimestamp, 'StartTimestamp');
      const kind = type === 'PRODUCER_TIMESTAMP' ? 'PRODUCER_TIMESTAMP' : 'SERVER_TIMESTAMP';
      const i = records.findIndex((r) => startOf(r, kind) + r.durationMs > t);
      return i < 0 ? records.length : i;
    }
  }
}

async function getMedia(req: IncomingMessage, res: ServerResponse, ctx: CloudContext): Promise<void> {
  const input = await readJsonRequest(req, ctx);
  const v = new InputValidator(input);
  const selector = v.object('StartSelector');
  if (!selector) v.fail('startSelector', null, 'Member must not be null');
  const stream = findStream(v, ctx, req, 'GetMedia');
  const store = fragmentStoreFor(ctx, stream);
  const records = store.list();
  const from = startIndex(records, selector!);
  const tagsOf = (r: FragmentRecord): Uint8Array =>
    encodeTags([
      ['AWS_KINESISVIDEO_FRAGMENT_NUMBER', r.fragmentNumber],
      ['AWS_KINESISVIDEO_SERVER_TIMESTAMP', tagTime(r.serverTimestampMs)],
      ['AWS_KINESISVIDEO_PRODUCER_TIMESTAMP', tagTime(r.producerTimestampMs)],
      // How far this chunk is behind the latest one on the stream.
      ['AWS_KINESISVIDEO_MILLIS_BEHIND_NOW', String(Math.max(0, (store.list().at(-1)?.serverTimestampMs ?? r.serverTimestampMs) - r.serverTimestampMs))],
      ['AWS_KINESISVIDEO_CONTINUATION_TOKEN', r.fragmentNumber],
    ]);
  const live = selector!.StartSelectorType === 'NOW';
  const sent = records.slice(from);
  await sendChunks(res, store, sent, tagsOf, !live);
  if (live) await followLive(res, ctx, stream, store, sent.at(-1)?.fragmentNumber ?? records.at(-1)?.fragmentNumber, tagsOf);
}

export const archivedMediaRoutes: readonly Route[] = Object.freeze([
  Object.freeze({ method: 'POST', path: '/listFragments', handler: listFragments } as const),
  Object.freeze({ method: 'POST', path: '/getMediaForFragmentList', handler: getMediaForFragmentList } as const),
  Object.freeze({ method: 'POST', path: '/getMedia', handler: getMedia } as const),
]);
