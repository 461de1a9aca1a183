import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileStreamStore } from '../../../sim/cloud/FileStreamStore.ts';
import { startCloud } from '../../../sim/cloud/startCloud.ts';
import type { StreamRecord } from '../../../sim/cloud/types.ts';
import { assert, suite } from '../../harness/index.ts';
import { tempStateDir } from './support.ts';

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
  assert.equal(store.list().map((r) => r.StreamName), ['alpha', 'zeta']);
  assert.is(store.getByArn('arn:aws:kinesisvideo:us-east-1:123456789012:stream/zeta/1700000000000')?.StreamName, 'zeta');
  const again = new FileStreamStore(dir);
  assert.equal(again.list(), store.list());
  assert.equal(again.get('zeta')!.Tags, { a: '1' });
  again.put({ ...again.get('zeta')!, Version: 'v2' });
  assert.is(new FileStreamStore(dir).get('zeta')!.Version, 'v2');
  again.delete('zeta');
  assert.is(again.get('zeta'), undefined);
  assert.is(again.getByArn('arn:aws:kinesisvideo:us-east-1:123456789012:stream/zeta/1700000000000'), undefined);
  assert.equal(new FileStreamStore(dir).list().map((r) => r.StreamName), ['alpha']);
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left behind');
});

test('records are frozen copies: mutating what was put changes nothing', () => {
  const store = new FileStreamStore(join(tmp.dir, 'frozen'));
  const tags: Record<string, string> = { a: '1' };
  store.put(record('cam', 1, { Tags: tags }));
  tags.b = '2';
  assert.equal(store.get('cam')!.Tags, { a: '1' });
  assert.ok(Object.isFrozen(store.get('cam')));
});

test('dir(): one media directory per stream incarnation, removed with the stream', () => {
  const dir = join(tmp.dir, 'media');
  const store = new FileStreamStore(dir);
  store.put(record('cam', 1_000));
  const media = store.dir('cam');
  assert.is(media, join(dir, 'streams', 'cam@1000'));
  assert.ok(existsSync(media));
  writeFileSync(join(media, 'fragment'), 'x');
  store.delete('cam');
  assert.ok(!existsSync(media), 'deleting a stream deletes its media');
  store.put(record('cam', 2_000));
  assert.is(store.dir('cam'), join(dir, 'streams', 'cam@2000'));
  assert.throws(() => store.dir('absent'), /no stream named 'absent'/);
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
