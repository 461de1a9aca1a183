// The KVS control plane of the local cloud, driven by the unmodified @aws-sdk/client-kinesis-video with an
// endpoint override: every API, the errors it models (as the SDK raises them), quotas, and persistence.
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  GetDataEndpointCommand,
  ListStreamsCommand,
  ListTagsForStreamCommand,
  TagStreamCommand,
  UntagStreamCommand,
  UpdateDataRetentionCommand,
} from '@aws-sdk/client-kinesis-video';
import { assert, suite } from '../../harness/index.ts';
import { kvsClient, rawRequest, sdkError, signedPost, startTestCloud, tempStateDir } from './support.ts';

const test = suite('sim/cloud control plane (AWS SDK v3)');
const state = tempStateDir();
// Quotas off here (this suite calls DescribeStream on one stream more than 5 times a second); the quota test
// below runs its own cloud with the default, enforced quotas.
let cloud = await startTestCloud(state.dir, { config: { enforceTps: false } });
let kvs = kvsClient(cloud);

test.after(async () => {
  await cloud.close();
  state.remove();
});

test('CreateStream → DescribeStream: ARN, defaults, ACTIVE, creation time', async () => {
  const before = Date.now();
  const created = await kvs.send(new CreateStreamCommand({ StreamName: 'cam-1', DataRetentionInHours: 24, MediaType: 'video/h264', DeviceName: 'pi-zero' }));
  assert.ok(/^arn:aws:kinesisvideo:us-east-1:123456789012:stream\/cam-1\/\d{13}$/.test(created.StreamARN!), created.StreamARN);
  assert.ok(created.$metadata.requestId && /^[0-9a-f-]{36}$/.test(created.$metadata.requestId), 'x-amzn-RequestId reaches $metadata');
  const { StreamInfo: info } = await kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' }));
  assert.is(info!.StreamARN, created.StreamARN);
  assert.is(info!.Status, 'ACTIVE');
  assert.is(info!.DataRetentionInHours, 24);
  assert.is(info!.MediaType, 'video/h264');
  assert.is(info!.DeviceName, 'pi-zero');
  assert.is(info!.KmsKeyId, 'arn:aws:kms:us-east-1:123456789012:alias/aws/kinesisvideo');
  assert.ok(/^[a-zA-Z0-9]{1,64}$/.test(info!.Version!), `version ${info!.Version}`);
  assert.ok(info!.CreationTime instanceof Date, 'CreationTime deserialises as a Date');
  assert.ok(Math.abs(info!.CreationTime!.getTime() - before) < 5000);
  const byArn = await kvs.send(new DescribeStreamCommand({ StreamARN: created.StreamARN }));
  assert.is(byArn.StreamInfo!.StreamName, 'cam-1');
});

test('CreateStream of an existing name → ResourceInUseException (400)', async () => {
  await sdkError(kvs.send(new CreateStreamCommand({ StreamName: 'cam-1' })), 'ResourceInUseException', 400, /cam-1/);
});

test('bad names, retention, media type → InvalidArgumentException with AWS validation wording', async () => {
  await sdkError(
    kvs.send(new CreateStreamCommand({ StreamName: 'has space' })),
    'InvalidArgumentException',
    400,
    /^1 validation error detected: Value 'has space' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-zA-Z0-9_.-\]\+$/,
  );
  await sdkError(kvs.send(new CreateStreamCommand({ StreamName: 'x'.repeat(257) })), 'InvalidArgumentException', 400, /length less than or equal to 256/);
  await sdkError(
    kvs.send(new CreateStreamCommand({ StreamName: 'ok', DataRetentionInHours: -1, MediaType: 'h264' })),
    'InvalidArgumentException',
    400,
    /^2 validation errors detected: .*mediaType.*dataRetentionInHours|^2 validation errors detected: .*dataRetentionInHours.*mediaType/,
  );
  await sdkError(kvs.send(new DescribeStreamCommand({ StreamName: 'bad/name' })), 'InvalidArgumentException', 400);
  await sdkError(kvs.send(new DescribeStreamCommand({})), 'InvalidArgumentException', 400, /StreamName or StreamARN/);
  await sdkError(kvs.send(new DescribeStreamCommand({ StreamARN: 'arn:aws:s3:::bucket' })), 'InvalidArgumentException', 400, /streamARN/);
  await sdkError(kvs.send(new CreateStreamCommand({ StreamName: 'ok', Tags: { 'aws:reserved': 'x' } })), 'InvalidArgumentException', 400, /aws:/);
});

test('missing streams → ResourceNotFoundException (404) with the service message', async () => {
  const err = await sdkError(
    kvs.send(new DescribeStreamCommand({ StreamName: 'nope' })),
    'ResourceNotFoundException',
    404,
    /^The requested stream is not found or not active\.$/,
  );
  assert.is(err.$fault, 'client');
  await sdkError(
    kvs.send(new DescribeStreamCommand({ StreamARN: 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/nope/1' })),
    'ResourceNotFoundException',
    404,
  );
  await sdkError(kvs.send(new GetDataEndpointCommand({ StreamName: 'nope', APIName: 'PUT_MEDIA' })), 'ResourceNotFoundException', 404);
  await sdkError(
    kvs.send(new DeleteStreamCommand({ StreamARN: 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/nope/1' })),
    'ResourceNotFoundException',
    404,
  );
});

test('GetDataEndpoint returns the cloud endpoint for every APIName; a bad APIName is refused', async () => {
  for (const api of [
    'PUT_MEDIA',
    'GET_MEDIA',
    'LIST_FRAGMENTS',
    'GET_MEDIA_FOR_FRAGMENT_LIST',
    'GET_HLS_STREAMING_SESSION_URL',
    'GET_DASH_STREAMING_SESSION_URL',
    'GET_CLIP',
    'GET_IMAGES',
  ] as const) {
    const out = await kvs.send(new GetDataEndpointCommand({ StreamName: 'cam-1', APIName: api }));
    assert.is(out.DataEndpoint, cloud.endpoint, api);
  }
  await sdkError(
    kvs.send(new GetDataEndpointCommand({ StreamName: 'cam-1', APIName: 'PUT_IT' as 'PUT_MEDIA' })),
    'InvalidArgumentException',
    400,
    /enum value set/,
  );
});

test('TagStream / ListTagsForStream / UntagStream, and the 50-tag limit', async () => {
  await kvs.send(new TagStreamCommand({ StreamName: 'cam-1', Tags: { site: 'north gate', owner: 'ops' } }));
  assert.equal((await kvs.send(new ListTagsForStreamCommand({ StreamName: 'cam-1' }))).Tags, { site: 'north gate', owner: 'ops' });
  const { StreamInfo } = await kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' }));
  await kvs.send(new TagStreamCommand({ StreamARN: StreamInfo!.StreamARN, Tags: { site: 'south gate' } }));
  await kvs.send(new UntagStreamCommand({ StreamName: 'cam-1', TagKeyList: ['owner', 'absent'] }));
  assert.equal((await kvs.send(new ListTagsForStreamCommand({ StreamARN: StreamInfo!.StreamARN }))).Tags, { site: 'south gate' });
  const many = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, `${i}`]));
  await sdkError(kvs.send(new TagStreamCommand({ StreamName: 'cam-1', Tags: many })), 'TagsPerResourceExceededLimitException', 400, /50/);
  await sdkError(
    kvs.send(new CreateStreamCommand({ StreamName: 'too-many-tags', Tags: { ...many, extra: 'x' } })),
    'TagsPerResourceExceededLimitException',
    400,
  );
  delete many.k0;
  await kvs.send(new TagStreamCommand({ StreamName: 'cam-1', Tags: many })); // 49 new + site = 50: allowed
  assert.is(Object.keys((await kvs.send(new ListTagsForStreamCommand({ StreamName: 'cam-1' }))).Tags!).length, 50);
  await sdkError(kvs.send(new UntagStreamCommand({ StreamName: 'cam-1', TagKeyList: [] })), 'InvalidArgumentException', 400);
});

test('UpdateDataRetention: increase, decrease, CurrentVersion check, bounds', async () => {
  const v1 = (await kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' }))).StreamInfo!;
  await kvs.send(
    new UpdateDataRetentionCommand({ StreamName: 'cam-1', CurrentVersion: v1.Version, Operation: 'INCREASE_DATA_RETENTION', DataRetentionChangeInHours: 6 }),
  );
  const v2 = (await kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' }))).StreamInfo!;
  assert.is(v2.DataRetentionInHours, 30);
  assert.not(v2.Version, v1.Version, 'the version changes with the metadata');
  await sdkError(
    kvs.send(
      new UpdateDataRetentionCommand({ StreamName: 'cam-1', CurrentVersion: v1.Version, Operation: 'DECREASE_DATA_RETENTION', DataRetentionChangeInHours: 1 }),
    ),
    'VersionMismatchException',
    400,
  );
  await kvs.send(
    new UpdateDataRetentionCommand({
      StreamARN: v2.StreamARN,
      CurrentVersion: v2.Version,
      Operation: 'DECREASE_DATA_RETENTION',
      DataRetentionChangeInHours: 29,
    }),
  );
  const v3 = (await kvs.send(new DescribeStreamCommand({ StreamName: 'cam-1' }))).StreamInfo!;
  assert.is(v3.DataRetentionInHours, 1);
  await sdkError(
    kvs.send(
      new UpdateDataRetentionCommand({ StreamName: 'cam-1', CurrentVersion: v3.Version, Operation: 'DECREASE_DATA_RETENTION', DataRetentionChangeInHours: 2 }),
    ),
    'InvalidArgumentException',
    400,
    /between 0 and 87600/,
  );
  await sdkError(
    kvs.send(
      new UpdateDataRetentionCommand({ StreamName: 'cam-1', CurrentVersion: v3.Version, Operation: 'INCREASE_DATA_RETENTION', DataRetentionChangeInHours: 0 }),
    ),
    'InvalidArgumentException',
    400,
    /dataRetentionChangeInHours/,
  );
});

test('ListStreams: MaxResults pages with NextToken; StreamNameCondition BEGINS_WITH', async () => {
  for (const name of ['lobby-a', 'lobby-b', 'lobby-c', 'yard']) await kvs.send(new CreateStreamCommand({ StreamName: name }));
  const names: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await kvs.send(new ListStreamsCommand({ MaxResults: 2, ...(token ? { NextToken: token } : {}) }));
    assert.ok(page.StreamInfoList!.length <= 2);
    names.push(...page.StreamInfoList!.map((s) => s.StreamName!));
    token = page.NextToken;
    pages++;
  } while (token);
  assert.equal(names, ['cam-1', 'lobby-a', 'lobby-b', 'lobby-c', 'yard']);
  assert.is(pages, 3);
  const lobby = await kvs.send(new ListStreamsCommand({ StreamNameCondition: { ComparisonOperator: 'BEGINS_WITH', ComparisonValue: 'lobby' } }));
  assert.equal(
    lobby.StreamInfoList!.map((s) => s.StreamName),
    ['lobby-a', 'lobby-b', 'lobby-c'],
  );
  assert.is(lobby.NextToken, undefined);
  await sdkError(kvs.send(new ListStreamsCommand({ NextToken: 'Zm9vIGJhcg==' })), 'InvalidArgumentException', 400, /NextToken/);
  await sdkError(kvs.send(new ListStreamsCommand({ MaxResults: 0 })), 'InvalidArgumentException', 400, /maxResults/);
});

test('DeleteStream: CurrentVersion must match; the stream is gone afterwards', async () => {
  const info = (await kvs.send(new DescribeStreamCommand({ StreamName: 'yard' }))).StreamInfo!;
  await sdkError(kvs.send(new DeleteStreamCommand({ StreamARN: info.StreamARN, CurrentVersion: 'stale0' })), 'VersionMismatchException', 400);
  await kvs.send(new DeleteStreamCommand({ StreamARN: info.StreamARN, CurrentVersion: info.Version }));
  await sdkError(kvs.send(new DescribeStreamCommand({ StreamName: 'yard' })), 'ResourceNotFoundException', 404);
  // Re-created under the same name, it is a new stream with a new ARN.
  const again = await kvs.send(new CreateStreamCommand({ StreamName: 'yard' }));
  assert.not(again.StreamARN, info.StreamARN);
});

test('per-stream quota (default on): the 6th DescribeStream within a second → ClientLimitExceededException (400)', async () => {
  const dir = tempStateDir();
  const limited = await startTestCloud(dir.dir);
  try {
    const client = kvsClient(limited);
    await client.send(new CreateStreamCommand({ StreamName: 'busy' }));
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => client.send(new DescribeStreamCommand({ StreamName: 'busy' }))));
    const refused = results.filter((r) => r.status === 'rejected');
    assert.is(refused.length, 1, 'exactly one over the 5 TPS stream quota');
    await sdkError(Promise.reject((refused[0] as PromiseRejectedResult).reason), 'ClientLimitExceededException', 400, /5 calls per second per stream/);
    await client.send(new CreateStreamCommand({ StreamName: 'calm' }));
    await client.send(new DescribeStreamCommand({ StreamName: 'calm' })); // the quota is per stream
  } finally {
    await limited.close();
    dir.remove();
  }
});

test('error responses: status, x-amzn-ErrorType, x-amzn-RequestId, Date, JSON body', async () => {
  const res = await signedPost(cloud, '/describeStream', JSON.stringify({ StreamName: 'absent' }));
  assert.is(res.status, 404);
  assert.is(res.headers['x-amzn-errortype'], 'ResourceNotFoundException:');
  assert.ok(/^[0-9a-f-]{36}$/.test(String(res.headers['x-amzn-requestid'])));
  assert.ok(Math.abs(Date.parse(String(res.headers.date)) - Date.now()) < 5000, 'Date header is the server clock');
  assert.is(res.headers['content-type'], 'application/json');
  assert.equal(JSON.parse(res.body), { Message: 'The requested stream is not found or not active.' });
  const unknown = await signedPost(cloud, '/putStuff', '{}');
  assert.is(unknown.status, 404);
  assert.is(unknown.headers['x-amzn-errortype'], 'UnknownOperationException:');
  assert.ok(typeof JSON.parse(unknown.body).message === 'string');
  const get = await rawRequest(cloud, 'GET', '/describeStream', {});
  assert.is(get.status, 404, 'routes match method and path exactly');
  const notJson = await signedPost(cloud, '/describeStream', '{not json');
  assert.is(notJson.status, 400);
  assert.is(notJson.headers['x-amzn-errortype'], 'SerializationException:');
});

test('state persists across a restart on the same directory (streams, tags, versions)', async () => {
  const before = (await kvs.send(new ListStreamsCommand({}))).StreamInfoList!;
  const tags = (await kvs.send(new ListTagsForStreamCommand({ StreamName: 'cam-1' }))).Tags;
  const caPem = cloud.caPem;
  await cloud.close();
  cloud = await startTestCloud(state.dir, { config: { enforceTps: false } });
  kvs = kvsClient(cloud);
  assert.is(cloud.caPem, caPem, 'the CA is reused, so clients keep trusting the cloud');
  const after = (await kvs.send(new ListStreamsCommand({}))).StreamInfoList!;
  assert.equal(after, before);
  assert.equal((await kvs.send(new ListTagsForStreamCommand({ StreamName: 'cam-1' }))).Tags, tags);
  await sdkError(kvs.send(new CreateStreamCommand({ StreamName: 'cam-1' })), 'ResourceInUseException', 400);
});

test.run();
