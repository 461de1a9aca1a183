// Reading stored fragments back through the unmodified AWS SDK v3 clients (ListFragments,
// GetMediaForFragmentList, GetMedia), and through `fieldcam fragments` / `fieldcam get-media`, whose output
// must decode with ffprobe/ffmpeg; then a restart of the cloud on the same state directory.
import { CreateStreamCommand, GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import {
  GetMediaForFragmentListCommand,
  KinesisVideoArchivedMediaClient,
  ListFragmentsCommand,
  paginateListFragments,
  type Fragment,
} from '@aws-sdk/client-kinesis-video-archived-media';
import { GetMediaCommand, KinesisVideoMediaClient, type StartSelector } from '@aws-sdk/client-kinesis-video-media';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { awsClientConfig, type AwsClientConfig } from '../../../../../host/aws/awsClientConfig.ts';
import { mediaRoutes } from '../../../../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../../../../sim/cloud/startCloud.ts';
import { assert, suite } from '../../../../harness/index.ts';
import { asciiValue, childrenWithId, walk, type EbmlNode } from '../../../../firmware/core/mkv/ebmlWalk.ts';
import { EBML_IDS } from '../../../../../firmware/core/mkv/ebmlIds.ts';
import { ebmlUint } from '../../../../../host/shared/mkv/EbmlReader.ts';
import { ACCESS_KEY_ID, RawPutMedia, REGION, SECRET_ACCESS_KEY, uploadBody } from './putMediaClient.ts';
import { muxFixture, ROOT } from './mediaKit.ts';

const test = suite('sim/cloud archived media (SDK clients, fieldcam get-media)');
const run = promisify(execFile);
const stateDir = mkdtempSync(join(tmpdir(), 'fieldcam-archive-'));
const work = mkdtempSync(join(tmpdir(), 'fieldcam-archive-out-'));
let cloud: RunningCloud = await startCloud({ stateDir, routes: mediaRoutes });
const STREAM = 'porch';
const T = Date.now() - 3_600_000;
const BODY = muxFixture({ startTimecode: T });

test.after(async () => {
  await cloud.close();
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

function config(): AwsClientConfig {
  return awsClientConfig({
    region: REGION,
    endpointUrl: cloud.endpoint,
    caBundle: cloud.caFile,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  });
}

const endpoints = new Map<string, string>();
/** GetDataEndpoint once per API and cloud (it allows 5 calls per second per stream). */
async function dataEndpoint(api: 'LIST_FRAGMENTS' | 'GET_MEDIA' | 'GET_MEDIA_FOR_FRAGMENT_LIST'): Promise<string> {
  const key = `${cloud.endpoint} ${api}`;
  const known = endpoints.get(key);
  if (known) return known;
  const control = new KinesisVideoClient(config());
  try {
    const endpoint = (await control.send(new GetDataEndpointCommand({ StreamName: STREAM, APIName: api }))).DataEndpoint!;
    endpoints.set(key, endpoint);
    return endpoint;
  } finally {
    control.destroy();
  }
}

async function archived(): Promise<KinesisVideoArchivedMediaClient> {
  return new KinesisVideoArchivedMediaClient({ ...config(), endpoint: await dataEndpoint('LIST_FRAGMENTS') });
}

async function listAll(): Promise<Fragment[]> {
  const client = await archived();
  try {
    const all: Fragment[] = [];
    for await (const page of paginateListFragments({ client, pageSize: 1000 }, { StreamName: STREAM })) all.push(...(page.Fragments ?? []));
    return all.sort((a, b) => a.ProducerTimestamp!.getTime() - b.ProducerTimestamp!.getTime());
  } finally {
    client.destroy();
  }
}

/** The fragment numbers in the KVS tags of each segment of a media answer. */
function chunkNumbers(bytes: Uint8Array): string[] {
  const top = walk(bytes);
  const segments = top.filter((n) => n.id === EBML_IDS.Segment);
  assert.equal(
    top.map((n) => n.id),
    segments.flatMap(() => [EBML_IDS.EBML, EBML_IDS.Segment]),
    'a sequence of EBML header + Segment',
  );
  return segments.map((s) => {
    assert.equal(
      s.children.map((c) => c.id),
      [EBML_IDS.Info, EBML_IDS.Tracks, EBML_IDS.Tags, EBML_IDS.Cluster],
      'header, KVS tags, fragment',
    );
    return tagValue(bytes, s.children[2]!, 'AWS_KINESISVIDEO_FRAGMENT_NUMBER');
  });
}

function tagValue(bytes: Uint8Array, tags: EbmlNode, name: string): string {
  for (const tag of childrenWithId(tags, EBML_IDS.Tag)) {
    for (const simple of childrenWithId(tag, EBML_IDS.SimpleTag)) {
      const [n] = childrenWithId(simple, EBML_IDS.TagName);
      const [v] = childrenWithId(simple, EBML_IDS.TagString);
      if (n && asciiValue(bytes, n) === name) return v ? asciiValue(bytes, v) : '';
    }
  }
  throw new Error(`no tag ${name}`);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), ...args, '--endpoint-url', cloud.endpoint, '--region', REGION], {
    cwd: ROOT,
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_CA_BUNDLE: cloud.caFile,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_PROFILE: '',
    },
    maxBuffer: 16 << 20,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof err.code === 'number' ? err.code : -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? '',
    }),
  );
}

let fragments: Fragment[] = [];

test('ListFragments (SDK): 10 fragments with numbers, sizes, producer/server timestamps as Dates, 1000 ms each', async () => {
  const control = new KinesisVideoClient(config());
  await control.send(new CreateStreamCommand({ StreamName: STREAM, DataRetentionInHours: 24 }));
  control.destroy();
  const upload = await uploadBody(cloud.endpoint, cloud.caPem, STREAM, BODY);
  upload.destroy();
  fragments = await listAll();
  assert.is(fragments.length, 10);
  fragments.forEach((f, i) => {
    assert.ok(/^\d+$/.test(f.FragmentNumber!));
    assert.ok(f.ProducerTimestamp instanceof Date && f.ServerTimestamp instanceof Date);
    assert.is(f.ProducerTimestamp!.getTime(), T + i * 1000);
    assert.ok(Math.abs(f.ServerTimestamp!.getTime() - Date.now()) < 60_000);
    assert.is(f.FragmentLengthInMilliseconds, 1000);
    assert.ok(f.FragmentSizeInBytes! > 1000);
  });
  assert.is(fragments.reduce((n, f) => n + f.FragmentSizeInBytes!, 0) < BODY.length, true, 'fragment sizes exclude the header');
});

test('ListFragments: pages of MaxResults with NextToken, and timestamp ranges (start inclusive, end inclusive)', async () => {
  const client = await archived();
  try {
    const pages: number[] = [];
    const seen = new Set<string>();
    for await (const page of paginateListFragments({ client, pageSize: 3 }, { StreamName: STREAM })) {
      pages.push(page.Fragments!.length);
      for (const f of page.Fragments!) seen.add(f.FragmentNumber!);
    }
    assert.equal(pages, [3, 3, 3, 1]);
    assert.is(seen.size, 10);
    const range = await client.send(
      new ListFragmentsCommand({
        StreamName: STREAM,
        FragmentSelector: {
          FragmentSelectorType: 'PRODUCER_TIMESTAMP',
          TimestampRange: { StartTimestamp: new Date(T + 1500), EndTimestamp: new Date(T + 4000) },
        },
      }),
    );
    assert.equal(
      range.Fragments!.map((f) => f.ProducerTimestamp!.getTime() - T).sort((a, b) => a - b),
      [2000, 3000, 4000],
    );
    assert.is(range.NextToken, undefined);
    const future = await client.send(
      new ListFragmentsCommand({
        StreamName: STREAM,
        FragmentSelector: {
          FragmentSelectorType: 'SERVER_TIMESTAMP',
          TimestampRange: { StartTimestamp: new Date(Date.now() + 60_000), EndTimestamp: new Date(Date.now() + 120_000) },
        },
      }),
    );
    assert.equal(future.Fragments, []);
    await assert.rejects(() => client.send(new ListFragmentsCommand({ StreamName: 'nope' })), /not found/);
  } finally {
    client.destroy();
  }
});

test('GetMediaForFragmentList (SDK): video/webm, one segment per requested fragment in the order asked, KVS tags', async () => {
  const client = new KinesisVideoArchivedMediaClient({ ...config(), endpoint: await dataEndpoint('GET_MEDIA_FOR_FRAGMENT_LIST') });
  try {
    const wanted = [fragments[3]!.FragmentNumber!, fragments[0]!.FragmentNumber!];
    const answer = await client.send(new GetMediaForFragmentListCommand({ StreamName: STREAM, Fragments: wanted }));
    assert.is(answer.ContentType, 'video/webm');
    const bytes = await answer.Payload!.transformToByteArray();
    assert.equal(chunkNumbers(bytes), wanted);
    const top = walk(bytes);
    const tags = top[1]!.children[2]!;
    assert.is(tagValue(bytes, tags, 'AWS_KINESISVIDEO_PRODUCER_SIDE_TIMESTAMP'), ((T + 3000) / 1000).toFixed(3));
    let failure: unknown;
    try {
      await client.send(new GetMediaForFragmentListCommand({ StreamName: STREAM, Fragments: ['12345'] }));
    } catch (err) {
      failure = err;
    }
    assert.is((failure as Error).name, 'ResourceNotFoundException');
  } finally {
    client.destroy();
  }
});

test('GetMedia (SDK): EARLIEST, FRAGMENT_NUMBER (after), PRODUCER_TIMESTAMP, CONTINUATION_TOKEN, NOW; the stream ends after the last stored fragment', async () => {
  const client = new KinesisVideoMediaClient({ ...config(), endpoint: await dataEndpoint('GET_MEDIA') });
  const numbers = fragments.map((f) => f.FragmentNumber!);
  const get = async (selector: StartSelector): Promise<string[]> => {
    const answer = await client.send(new GetMediaCommand({ StreamName: STREAM, StartSelector: selector }));
    assert.is(answer.ContentType, 'video/webm');
    return chunkNumbers(await answer.Payload!.transformToByteArray());
  };
  try {
    assert.equal(await get({ StartSelectorType: 'EARLIEST' }), numbers);
    assert.equal(await get({ StartSelectorType: 'FRAGMENT_NUMBER', AfterFragmentNumber: numbers[4] }), numbers.slice(5));
    assert.equal(await get({ StartSelectorType: 'PRODUCER_TIMESTAMP', StartTimestamp: new Date(T + 3500) }), numbers.slice(3));
    assert.equal(await get({ StartSelectorType: 'CONTINUATION_TOKEN', ContinuationToken: numbers[7] }), numbers.slice(8));
    assert.equal(await get({ StartSelectorType: 'NOW' }), numbers.slice(9));
    await assert.rejects(() => get({ StartSelectorType: 'FRAGMENT_NUMBER' }), /afterFragmentNumber/);
  } finally {
    client.destroy();
  }
});

test('fieldcam fragments: a table and --json; fieldcam get-media: ONE playable file, 100 frames, ffmpeg silent', async () => {
  const table = await cli(['fragments', '--stream', STREAM]);
  assert.is(table.code, 0, table.stderr);
  assert.ok(table.stdout.includes(fragments[0]!.FragmentNumber!));
  assert.ok(table.stdout.trimEnd().endsWith(`10 fragment(s) in ${STREAM}, 10.0 s, ${fragments.reduce((n, f) => n + f.FragmentSizeInBytes!, 0)} bytes`));
  const json = await cli(['fragments', '--stream', STREAM, '--json']);
  assert.is(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { fragments: { FragmentNumber: string; ProducerTimestamp: string }[] };
  assert.equal(
    parsed.fragments.map((f) => f.FragmentNumber),
    fragments.map((f) => f.FragmentNumber),
  );
  assert.is(parsed.fragments[0]!.ProducerTimestamp, new Date(T).toISOString());

  const out = join(work, 'porch.mkv');
  const got = await cli(['get-media', '--stream', STREAM, '-o', out]);
  assert.is(got.code, 0, got.stderr);
  assert.is(got.stderr, '');
  const bytes = new Uint8Array(readFileSync(out));
  const top = walk(bytes);
  assert.equal(
    top.map((n) => n.id),
    [EBML_IDS.EBML, EBML_IDS.Segment],
    'one header, one segment',
  );
  assert.is(childrenWithId(top[1]!, EBML_IDS.Cluster).length, 10);
  assert.equal(bytes, BODY, 'the device stream, byte for byte (no metadata, no end-of-fragment tags were sent)');
  const frames = await run('ffprobe', [
    '-v',
    'error',
    '-count_frames',
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=nb_read_frames',
    '-of',
    'csv=p=0',
    out,
  ]);
  assert.is(frames.stdout.trim(), '100');
  assert.is(frames.stderr, '');
  const decode = await run('ffmpeg', ['-nostdin', '-v', 'error', '-i', out, '-f', 'null', '-']);
  assert.is(decode.stderr, '');
});

test('fieldcam get-media: a stream without fragments or an unknown stream is a named error, no output file', async () => {
  const control = new KinesisVideoClient(config());
  await control.send(new CreateStreamCommand({ StreamName: 'empty', DataRetentionInHours: 24 }));
  control.destroy();
  const out = join(work, 'empty.mkv');
  const empty = await cli(['get-media', '--stream', 'empty', '-o', out]);
  assert.is(empty.code, 1);
  assert.ok(/error INPUT_EMPTY: .*no stored fragments/.test(empty.stderr), empty.stderr);
  const unknown = await cli(['get-media', '--stream', 'nope', '-o', out]);
  assert.is(unknown.code, 1);
  assert.ok(/error UPLOAD_STREAM_NOT_FOUND/.test(unknown.stderr), unknown.stderr);
  assert.throws(() => readFileSync(out));
});

test('RELATIVE uploads in two sessions: GetMedia (SDK) serves absolute Cluster timecodes (producer start + timecode), never going backwards', async () => {
  const stream = 'relative';
  const control = new KinesisVideoClient(config());
  await control.send(new CreateStreamCommand({ StreamName: stream, DataRetentionInHours: 24 }));
  control.destroy();
  const starts = [T - 600_000, T - 590_000];
  for (const start of starts) {
    const c = await RawPutMedia.open(cloud.endpoint, cloud.caPem, { stream, timecodeType: 'RELATIVE', producerStartSeconds: (start / 1000).toFixed(3) });
    await c.waitFor(() => c.status === 200);
    c.write(muxFixture({ startTimecode: 0 }));
    c.end();
    await c.waitFor(() => c.ended, 10_000, 'the end of the session');
    assert.is(c.acks.filter((a) => a.EventType === 'PERSISTED').length, 10);
    c.destroy();
  }
  const client = new KinesisVideoMediaClient({ ...config(), endpoint: await dataEndpoint('GET_MEDIA') });
  try {
    const answer = await client.send(new GetMediaCommand({ StreamName: stream, StartSelector: { StartSelectorType: 'EARLIEST' } }));
    const bytes = await answer.Payload!.transformToByteArray();
    const timecodes = walk(bytes)
      .filter((n) => n.id === EBML_IDS.Segment)
      .map((segment) => {
        const [cluster] = childrenWithId(segment, EBML_IDS.Cluster);
        const [timecode] = childrenWithId(cluster!, EBML_IDS.Timecode);
        return ebmlUint(bytes.subarray(timecode!.dataStart, timecode!.end));
      });
    assert.equal(
      timecodes,
      starts.flatMap((start) => Array.from({ length: 10 }, (_, i) => start + i * 1000)),
    );
  } finally {
    client.destroy();
  }
});

test('a restart on the same state directory keeps the fragments; new fragments get larger numbers', async () => {
  await cloud.close();
  cloud = await startCloud({ stateDir, routes: mediaRoutes });
  const before = await listAll();
  assert.equal(
    before.map((f) => f.FragmentNumber),
    fragments.map((f) => f.FragmentNumber),
  );
  const upload = await uploadBody(cloud.endpoint, cloud.caPem, STREAM, muxFixture({ startTimecode: T + 60_000 }));
  upload.destroy();
  const after = await listAll();
  assert.is(after.length, 20);
  const last = BigInt(fragments.at(-1)!.FragmentNumber!);
  assert.ok(after.slice(10).every((f) => BigInt(f.FragmentNumber!) > last));
});

test.run();
