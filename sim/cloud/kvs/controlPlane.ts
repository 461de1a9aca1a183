// The KVS control plane (API version 2017-09-30): POST /<operation> with a JSON body, REST-JSON answers.
// Request and response members, constraints and errors follow the KVS API reference; quotas follow
// kvs-reference.md §6.1. Streams are ACTIVE as soon as CreateStream returns and gone as soon as DeleteStream
// returns (the real service passes through CREATING / DELETING for a few seconds).
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { authorizeStream } from '../auth/authorizeStream.ts';
import { jsonRoute } from '../http.ts';
import { CloudError, type CloudContext, type Route, type StreamRecord } from '../types.ts';
import { InputValidator, PATTERNS } from './InputValidator.ts';
import { TpsLimiter, type ControlPlaneApi } from './TpsLimiter.ts';

/** DataRetentionInHours upper bound: ten years (API reference, UpdateDataRetention). */
export const MAX_RETENTION_HOURS = 87600;
export const MAX_TAGS_PER_STREAM = 50;
/** Streams per account (kvs-reference.md §6.1; raisable on AWS). */
export const MAX_STREAMS = 10_000;

export const API_NAMES = Object.freeze([
  'PUT_MEDIA',
  'GET_MEDIA',
  'LIST_FRAGMENTS',
  'GET_MEDIA_FOR_FRAGMENT_LIST',
  'GET_HLS_STREAMING_SESSION_URL',
  'GET_DASH_STREAMING_SESSION_URL',
  'GET_CLIP',
  'GET_IMAGES',
] as const);

const NOT_FOUND = 'The requested stream is not found or not active.';

const limiters = new WeakMap<CloudContext, TpsLimiter>();

function admit(ctx: CloudContext, api: ControlPlaneApi, streamArn?: string): void {
  let limiter = limiters.get(ctx);
  if (!limiter) {
    // Quotas per second of the cloud's time (config.timeScale: a device under test lives faster).
    const scale = ctx.config.timeScale ?? 1;
    limiter = new TpsLimiter(
      () => performance.now() * scale,
      () => ctx.config.enforceTps !== false,
    );
    limiters.set(ctx, limiter);
  }
  limiter.admit(api, streamArn);
}

/** A stream Version: KVS uses an opaque alphanumeric token that changes with every metadata update. */
function newVersion(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from(randomBytes(20), (b) => alphabet[b % alphabet.length]).join('');
}

/** StreamInfo as DescribeStream and ListStreams return it (tags are only in ListTagsForStream). */
function streamInfo(r: StreamRecord): Record<string, unknown> {
  return {
    DeviceName: r.DeviceName,
    StreamName: r.StreamName,
    StreamARN: r.StreamARN,
    MediaType: r.MediaType,
    KmsKeyId: r.KmsKeyId,
    Version: r.Version,
    Status: r.Status,
    CreationTime: r.CreationTime,
    DataRetentionInHours: r.DataRetentionInHours,
  };
}

/**
 * The stream a request names by StreamName or StreamARN ("you must specify either"), validated with the
 * rest of the input and authorized for the caller; `admit` checks the per-stream quota once the stream is known.
 */
function findStream(v: InputValidator, ctx: CloudContext, req: IncomingMessage, api: ControlPlaneApi, arnRequired = false): StreamRecord {
  const name = arnRequired ? undefined : v.string('StreamName', { min: 1, max: 256, pattern: PATTERNS.streamName });
  const arn = v.string('StreamARN', { required: arnRequired, min: 1, max: 1024, pattern: PATTERNS.streamArn });
  v.done();
  if (!arnRequired && name === undefined && arn === undefined) {
    throw new CloudError(400, 'InvalidArgumentException', 'Either StreamName or StreamARN must be specified.');
  }
  authorizeStream(ctx, req, api, { name, arn });
  const byName = name !== undefined ? ctx.streams.get(name) : undefined;
  const byArn = arn !== undefined ? ctx.streams.getByArn(arn) : undefined;
  if (name !== undefined && arn !== undefined && byName && byArn && byName !== byArn) {
    throw new CloudError(400, 'InvalidArgumentException', `StreamName '${name}' and StreamARN '${arn}' name different streams.`);
  }
  const stream = arn !== undefined ? byArn : byName;
  if (!stream) throw new CloudError(404, 'ResourceNotFoundException', NOT_FOUND);
  admit(ctx, api, stream.StreamARN);
  return stream;
}

function requireActive(stream: StreamRecord): void {
  if (stream.Status !== 'ACTIVE') {
    throw new CloudError(400, 'ResourceInUseException', `Stream ${stream.StreamName} is ${stream.Status}; the operation needs it ACTIVE.`);
  }
}

function checkVersion(stream: StreamRecord, currentVersion: string | undefined): void {
  if (currentVersion !== undefined && currentVersion !== stream.Version) {
    throw new CloudError(400, 'VersionMismatchException', `The stream version ${currentVersion} does not match the current version of ${stream.StreamName}.`);
  }
}

function checkTagCount(stream: string, count: number): void {
  if (count > MAX_TAGS_PER_STREAM) {
    throw new CloudError(
      400,
      'TagsPerResourceExceededLimitException',
      `Stream ${stream} would have ${count} tags; a stream supports at most ${MAX_TAGS_PER_STREAM}.`,
    );
  }
}

const createStream = jsonRoute('/createStream', (input, ctx, req) => {
  admit(ctx, 'CreateStream');
  const v = new InputValidator(input);
  const name = v.string('StreamName', { required: true, min: 1, max: 256, pattern: PATTERNS.streamName })!;
  const deviceName = v.string('DeviceName', { min: 1, max: 128, pattern: PATTERNS.deviceName });
  const mediaType = v.string('MediaType', { min: 1, max: 128, pattern: PATTERNS.mediaType });
  const kmsKeyId = v.string('KmsKeyId', { min: 1, max: 2048 });
  const retention = v.integer('DataRetentionInHours', { min: 0, max: MAX_RETENTION_HOURS }) ?? 0;
  const tags = v.tags('Tags', false) ?? {};
  v.done();
  authorizeStream(ctx, req, 'CreateStream', { name });
  checkTagCount(name, Object.keys(tags).length);
  if (ctx.streams.get(name)) throw new CloudError(400, 'ResourceInUseException', `The stream ${name} already exists.`);
  if (ctx.streams.list().length >= MAX_STREAMS) {
    throw new CloudError(400, 'AccountStreamLimitExceededException', `The account already has ${MAX_STREAMS} streams.`);
  }
  const { region, accountId } = ctx.config;
  const createdMs = ctx.now();
  const record: StreamRecord = {
    StreamName: name,
    StreamARN: `arn:aws:kinesisvideo:${region}:${accountId}:stream/${name}/${createdMs}`,
    Status: 'ACTIVE',
    CreationTime: createdMs / 1000,
    DataRetentionInHours: retention,
    ...(mediaType !== undefined ? { MediaType: mediaType } : {}),
    KmsKeyId: kmsKeyId ?? `arn:aws:kms:${region}:${accountId}:alias/aws/kinesisvideo`,
    Version: newVersion(),
    ...(deviceName !== undefined ? { DeviceName: deviceName } : {}),
    Tags: tags,
  };
  ctx.streams.put(record);
  ctx.log('stream-created', { stream: name, retentionHours: retention });
  return { StreamARN: record.StreamARN };
});

const describeStream = jsonRoute('/describeStream', (input, ctx, req) => {
  admit(ctx, 'DescribeStream');
  const stream = findStream(new InputValidator(input), ctx, req, 'DescribeStream');
  return { StreamInfo: streamInfo(stream) };
});

const listStreams = jsonRoute('/listStreams', (input, ctx, req) => {
  admit(ctx, 'ListStreams');
  const v = new InputValidator(input);
  const max = v.integer('MaxResults', { min: 1, max: 10_000 }) ?? 10_000;
  const token = v.string('NextToken', { min: 0, max: 1024, pattern: PATTERNS.nextToken });
  const condition = v.object('StreamNameCondition');
  let prefix: string | undefined;
  if (condition) {
    const c = new InputValidator(condition);
    c.oneOf('ComparisonOperator', ['BEGINS_WITH'], false);
    prefix = c.string('ComparisonValue', { min: 1, max: 256, pattern: PATTERNS.streamName }, 'streamNameCondition.comparisonValue');
    c.done();
  }
  v.done();
  authorizeStream(ctx, req, 'ListStreams', {});
  let after = '';
  if (token) {
    // The token is base64 of the last name returned, as the NextToken pattern [a-zA-Z0-9+/=]* allows.
    after = Buffer.from(token, 'base64').toString('utf8');
    if (!PATTERNS.streamName.test(after) || Buffer.from(after, 'utf8').toString('base64') !== token) {
      throw new CloudError(400, 'InvalidArgumentException', 'The NextToken is not valid; pass the NextToken of the previous ListStreams response.');
    }
  }
  const matching = ctx.streams.list().filter((s) => s.StreamName > after && (prefix === undefined || s.StreamName.startsWith(prefix)));
  const page = matching.slice(0, max);
  const more = matching.length > max;
  return {
    StreamInfoList: page.map(streamInfo),
    ...(more ? { NextToken: Buffer.from(page[page.length - 1]!.StreamName, 'utf8').toString('base64') } : {}),
  };
});

const deleteStream = jsonRoute('/deleteStream', (input, ctx, req) => {
  admit(ctx, 'DeleteStream');
  const v = new InputValidator(input);
  const version = v.string('CurrentVersion', { min: 1, max: 64, pattern: PATTERNS.version });
  const stream = findStream(v, ctx, req, 'DeleteStream', true);
  checkVersion(stream, version);
  requireActive(stream);
  ctx.streams.delete(stream.StreamName);
  ctx.log('stream-deleted', { stream: stream.StreamName });
  return {};
});

const getDataEndpoint = jsonRoute('/getDataEndpoint', (input, ctx, req) => {
  admit(ctx, 'GetDataEndpoint');
  const v = new InputValidator(input);
  v.oneOf('APIName', API_NAMES, true);
  findStream(v, ctx, req, 'GetDataEndpoint');
  // One endpoint serves every data-plane API here; on AWS each API may get a different host.
  return { DataEndpoint: ctx.endpoint };
});

const tagStream = jsonRoute('/tagStream', (input, ctx, req) => {
  admit(ctx, 'TagStream');
  const v = new InputValidator(input);
  const tags = v.tags('Tags', true);
  const stream = findStream(v, ctx, req, 'TagStream');
  const merged = { ...stream.Tags, ...tags };
  checkTagCount(stream.StreamName, Object.keys(merged).length);
  ctx.streams.put({ ...stream, Tags: merged });
  return {};
});

const untagStream = jsonRoute('/untagStream', (input, ctx, req) => {
  admit(ctx, 'UntagStream');
  const v = new InputValidator(input);
  const keys = v.tagKeys('TagKeyList');
  const stream = findStream(v, ctx, req, 'UntagStream');
  const remaining = { ...stream.Tags };
  for (const key of keys ?? []) delete remaining[key];
  ctx.streams.put({ ...stream, Tags: remaining });
  return {};
});

const listTagsForStream = jsonRoute('/listTagsForStream', (input, ctx, req) => {
  admit(ctx, 'ListTagsForStream');
  const v = new InputValidator(input);
  // At most 50 tags per stream: one page always holds them all, so NextToken is accepted and never returned.
  v.string('NextToken', { min: 0, max: 512, pattern: PATTERNS.nextToken });
  const stream = findStream(v, ctx, req, 'ListTagsForStream');
  return { Tags: { ...stream.Tags } };
});

const updateDataRetention = jsonRoute('/updateDataRetention', (input, ctx, req) => {
  admit(ctx, 'UpdateDataRetention');
  const v = new InputValidator(input);
  const version = v.string('CurrentVersion', { required: true, min: 1, max: 64, pattern: PATTERNS.version });
  const operation = v.oneOf('Operation', ['INCREASE_DATA_RETENTION', 'DECREASE_DATA_RETENTION'] as const, true);
  const change = v.integer('DataRetentionChangeInHours', { required: true, min: 1 });
  const stream = findStream(v, ctx, req, 'UpdateDataRetention');
  checkVersion(stream, version);
  requireActive(stream);
  const next = stream.DataRetentionInHours + (operation === 'INCREASE_DATA_RETENTION' ? change! : -change!);
  if (next < 0 || next > MAX_RETENTION_HOURS) {
    throw new CloudError(
      400,
      'InvalidArgumentException',
      `Changing the retention of ${stream.StreamName} from ${stream.DataRetentionInHours} by ${operation === 'INCREASE_DATA_RETENTION' ? '+' : '-'}${change} hours leaves ${next} hours; it must stay between 0 and ${MAX_RETENTION_HOURS}.`,
    );
  }
  ctx.streams.put({ ...stream, DataRetentionInHours: next, Version: newVersion() });
  ctx.log('retention-updated', { stream: stream.StreamName, retentionHours: next });
  return {};
});

/** Every control-plane route; startCloud always serves these. */
export const controlPlaneRoutes: readonly Route[] = Object.freeze([
  createStream,
  describeStream,
  listStreams,
  deleteStream,
  getDataEndpoint,
  tagStream,
  untagStream,
  listTagsForStream,
  updateDataRetention,
]);
