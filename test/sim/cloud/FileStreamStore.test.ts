import { CreateStreamCommand, DeleteStreamCommand, DescribeStreamCommand, ListStreamsCommand } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient, ListFragmentsCommand } from '@aws-sdk/client-kinesis-video-archived-media';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { basename, dirname, join } from 'node:path';
import { FileStreamStore } from '../../../sim/cloud/FileStreamStore.ts';
import { mediaRoutes } from '../../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../../sim/cloud/startCloud.ts';
import type { StreamRecord } from '../../../sim/cloud/types.ts';
import { assert, suite } from '../../harness/index.ts';
import { muxFixture } from './kvs/media/mediaKit.ts';
import { uploadBody } from './kvs/media/putMediaClient.ts';
import { CREDENTIALS, kvsClient, sdkError, startTestCloud, tempStateDir } from './support.ts';

const test = suite('sim/cloud FileStreamStore');
const tmp = tempStateDir('fieldcam-store-');
test.after(() => tmp.remove());

function record(name: string, ms: number, extra: Partial<StreamRecord> = {}): StreamRecord {
  return {
    StreamName: name,
    StreamARN: `arn:aws:kinesisvideo:us-east-1:123456789012:stream/${name}/${ms}`,
    Status: 'ACTIVE',
    CreationTime: ms / 1000,
    DataRetentionInHours: 0,
    KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:alias/aws/kinesisvideo',
    Version: 'v1',
    Tags: {},
    ...extra,
  };
}

test('put / get / getByArn / list (by name) / delete, persisted for the next instance', () => {
  const dir = join(tmp.dir, 'basic');
  const store = new FileStreamStore(dir);
  store.put(record('zeta', 1_700_000_000_000, { Tags: { a: '1' } }));
  store.put(record('alpha', 1_700_000_000_001, { MediaType: 'video/h264' }));
  assert.equal(
    store.list().map((r) => r.StreamName),
    ['alpha', 'zeta'],
  );
  assert.is(store.getByArn('arn:aws:kinesisvideo:us-east-1:123456789012:stream/zeta/1700000000000')?.StreamName, 'zeta');
  const again = new FileStreamStore(dir);
  assert.equal(again.list(), store.list());
  assert.equal(again.get('zeta')!.Tags, { a: '1' });
  again.put({ ...again.get('zeta')!, Version: 'v2' });
  assert.is(new FileStreamStore(dir).get('zeta')!.Version, 'v2');
  again.delete('zeta');
  assert.is(again.get('zeta'), undefined);
  assert.is(again.getByArn('arn:aws:kinesisvideo:us-east-1:123456789012:stream/zeta/1700000000000'), undefined);
  assert.equal(
    new FileStreamStore(dir).list().map((r) => r.StreamName),
    ['alpha'],
  );
  assert.equal(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary files left behind',
  );
});

test('records are frozen copies: mutating what was put changes nothing', () => {
  const store = new FileStreamStore(join(tmp.dir, 'frozen'));
  const tags: Record<string, string> = { a: '1' };
  store.put(record('cam', 1, { Tags: tags }));
  tags.b = '2';
  assert.equal(store.get('cam')!.Tags, { a: '1' });
  assert.ok(Object.isFrozen(store.get('cam')));
});

test('dir(): one media directory per stream incarnation, named by a hash, naming its stream inside; removed with the stream', () => {
  const dir = join(tmp.dir, 'media');
  const store = new FileStreamStore(dir);
  store.put(record('cam', 1_000));
  const media = store.dir('cam');
  assert.is(dirname(media), join(dir, 'streams'));
  assert.ok(/^[0-9a-f]{32}$/.test(basename(media)), basename(media));
  assert.equal(JSON.parse(readFileSync(join(media, 'stream.json'), 'utf8')), { StreamName: 'cam', StreamARN: record('cam', 1_000).StreamARN });
  writeFileSync(join(media, 'fragment'), 'x');
  assert.is(new FileStreamStore(dir).dir('cam'), media, 'the same directory after a restart');
  store.delete('cam');
  assert.ok(!existsSync(media), 'deleting a stream deletes its media');
  store.put(record('cam', 2_000));
  assert.not(store.dir('cam'), media, 'a new incarnation gets a new directory');
  assert.throws(() => store.dir('absent'), /no stream named 'absent'/);
});

test('a state directory of the old <name>@<creation-ms> layout keeps its media', () => {
  const dir = join(tmp.dir, 'legacy');
  const store = new FileStreamStore(dir);
  store.put(record('cam', 1_000));
  mkdirSync(join(dir, 'streams', 'cam@1000'), { recursive: true });
  assert.is(store.dir('cam'), join(dir, 'streams', 'cam@1000'));
});

function archivedClient(cloud: RunningCloud): KinesisVideoArchivedMediaClient {
  return new KinesisVideoArchivedMediaClient({
    region: cloud.ctx.config.region,
    endpoint: cloud.endpoint,
    credentials: { ...CREDENTIALS },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: cloud.caPem }) }),
    maxAttempts: 1,
  });
}

test('a 256-character stream name (the longest legal): CreateStream, PutMedia, ListFragments, DeleteStream all work', async () => {
  const state = tempStateDir();
  const cloud = await startTestCloud(state.dir, { routes: mediaRoutes });
  const kvs = kvsClient(cloud);
  const archived = archivedClient(cloud);
  try {
    for (const name of ['n'.repeat(242), 'a'.repeat(256)]) {
      await kvs.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: 24 }));
      const upload = await uploadBody(cloud.endpoint, cloud.caPem, name, muxFixture({ startTimecode: Date.now() - 60_000 }));
      assert.is(upload.status, 200);
      const { Fragments } = await archived.send(new ListFragmentsCommand({ StreamName: name }));
      assert.is(Fragments?.length, 10, 'every fragment stored and listed');
      await kvs.send(new DeleteStreamCommand({ StreamARN: (await kvs.send(new DescribeStreamCommand({ StreamName: name }))).StreamInfo!.StreamARN! }));
    }
    assert.equal(readdirSync(join(state.dir, 'streams')), [], 'deleted streams leave no directory');
  } finally {
    kvs.destroy();
    archived.destroy();
    await cloud.close();
    state.remove();
  }
});

test('CreateStream on a full disk (a 1 MiB tmpfs): 500, and no stream was created; once space is back it is created', async () => {
  const state = tempStateDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', state.dir]);
  const cloud = await startTestCloud(state.dir);
  const kvs = kvsClient(cloud);
  const filler = join(state.dir, 'filler');
  try {
    await kvs.send(new CreateStreamCommand({ StreamName: 'before' }));
    // Fill the file system to the last block.
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // dd ends with "No space left on device"
    }
    await sdkError(kvs.send(new CreateStreamCommand({ StreamName: 'cam', DataRetentionInHours: 24 })), 'InternalFailure', 500);
    await sdkError(kvs.send(new DescribeStreamCommand({ StreamName: 'cam' })), 'ResourceNotFoundException', 404);
    assert.equal(
      (await kvs.send(new ListStreamsCommand({}))).StreamInfoList!.map((i) => i.StreamName),
      ['before'],
    );
    rmSync(filler);
    await kvs.send(new CreateStreamCommand({ StreamName: 'cam', DataRetentionInHours: 24 }));
    assert.equal(
      (await kvs.send(new ListStreamsCommand({}))).StreamInfoList!.map((i) => i.StreamName),
      ['before', 'cam'],
    );
    assert.equal(
      new FileStreamStore(state.dir).list().map((r) => r.StreamName),
      ['before', 'cam'],
      'and on disk',
    );
  } finally {
    kvs.destroy();
    await cloud.close();
    execFileSync('umount', [state.dir]);
    state.remove();
  }
});

test('a corrupt state file is a clear error naming the file', async () => {
  const dir = join(tmp.dir, 'corrupt');
  new FileStreamStore(dir).put(record('cam', 1));
  const file = join(dir, 'streams.json');
  writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
  let err: unknown;
  try {
    new FileStreamStore(dir);
  } catch (e) {
    err = e;
  }
  assert.is((err as { code?: string }).code, 'CONFIG_INVALID');
  assert.ok((err as Error).message.includes(file), (err as Error).message);
  await assert.rejects(() => startCloud({ stateDir: dir }), 'CONFIG_INVALID', 'startCloud refuses to start on it');

  writeFileSync(file, JSON.stringify({ format: 'fieldcam-cloud-streams', version: 1, streams: [{ StreamName: 'x' }] }));
  assert.throws(() => new FileStreamStore(dir), /streams\[0\]: StreamARN must be a non-empty string/);
  writeFileSync(file, JSON.stringify({ format: 'something-else' }));
  assert.throws(() => new FileStreamStore(dir), /streams\.json is unusable: not a fieldcam-cloud-streams document/);
});

test.run();
