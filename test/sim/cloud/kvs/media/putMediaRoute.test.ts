// PutMedia against the running local cloud over real HTTPS: a raw chunked client with a SigV4 signature made
// by @smithy/signature-v4, ACKs read incrementally off the chunked response, the connection rules and the
// fault knobs. The stored result is checked through the store; reading back through the SDK is in
// archivedMedia.test.ts.
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsClientConfig } from '../../../../../host/aws/awsClientConfig.ts';
import { fragmentStoreFor, mediaRoutes, putMediaConnections } from '../../../../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../../../../sim/cloud/startCloud.ts';
import type { Faults } from '../../../../../sim/cloud/types.ts';
import { assert, suite } from '../../../../harness/index.ts';
import type { Ack } from '../../../../../sim/cloud/kvs/media/Ack.ts';
import { ACCESS_KEY_ID, groupedTrace, RawPutMedia, REGION, SECRET_ACCESS_KEY, signedHead, type PutMediaHeaders } from './putMediaClient.ts';
import { concat, EOFR, header, muxFixture, prng, randomSplit, second } from './mediaKit.ts';

const test = suite('sim/cloud PutMedia over HTTPS');
const stateDir = mkdtempSync(join(tmpdir(), 'fieldcam-putmedia-'));
const faults: Faults = {};
const cloud: RunningCloud = await startCloud({
  stateDir,
  routes: mediaRoutes,
  faults,
  config: { idleAckMs: 250, idleCloseMs: 1500 },
});
const clouds: RunningCloud[] = [cloud];
const control = new KinesisVideoClient(
  awsClientConfig({
    region: REGION,
    endpointUrl: cloud.endpoint,
    caBundle: cloud.caFile,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  }),
);

test.after(async () => {
  control.destroy();
  for (const c of clouds) await c.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const T = Date.now() - 60_000;
const BODY = muxFixture({ startTimecode: T });
const CLUSTER_STARTS = (() => {
  const at: number[] = [];
  for (let i = 0; i + 4 <= BODY.length; i++) if (BODY[i] === 0x1f && BODY[i + 1] === 0x43 && BODY[i + 2] === 0xb6 && BODY[i + 3] === 0x75) at.push(i);
  return at;
})();
const OK10 = Array.from({ length: 10 }, () => ['BUFFERING', 'RECEIVED', 'PERSISTED']).flat();

let streams = 0;
async function createStream(retentionHours = 24): Promise<string> {
  const name = `cam-${++streams}`;
  await control.send(new CreateStreamCommand({ StreamName: name, DataRetentionInHours: retentionHours }));
  return name;
}

function open(h: PutMediaHeaders, on: RunningCloud = cloud): Promise<RawPutMedia> {
  return RawPutMedia.open(on.endpoint, on.caPem, h);
}

async function upload(stream: string, body: Uint8Array = BODY): Promise<RawPutMedia> {
  const c = await open({ stream });
  await c.waitFor(() => c.status !== 0, 5000, 'status');
  for (const part of randomSplit(body, prng(body.length), 16_384)) c.write(part);
  c.end();
  await c.waitFor(() => c.ended || c.closed, 10_000, 'end of response');
  return c;
}

function stored(stream: string, on: RunningCloud = cloud): number {
  return fragmentStoreFor(on.ctx, on.ctx.streams.get(stream)!).list().length;
}

test('signed chunked PutMedia: 200 + chunked JSON before any body byte; one ACK per chunk, read as they come; 10 fragments stored', async () => {
  const stream = await createStream();
  const c = await open({ stream, expectContinue: true });
  await c.waitFor(() => c.status !== 0, 5000, 'the 200 before any body byte');
  assert.is(c.status, 200);
  assert.equal(c.interim, [100], 'expect: 100-continue answered once');
  assert.is(c.headers['content-type'], 'application/json');
  assert.is(c.headers['transfer-encoding'], 'chunked');
  // Header, fragment 1 and the start of fragment 2: fragment 1 is acknowledged while the body is still open.
  c.write(BODY.subarray(0, CLUSTER_STARTS[1]! + 40));
  await c.waitFor(() => c.acks.some((a) => a.EventType === 'PERSISTED'), 5000, 'PERSISTED of fragment 1');
  assert.equal(c.trace(), ['BUFFERING', 'RECEIVED', 'PERSISTED', 'BUFFERING']);
  for (const part of randomSplit(BODY.subarray(CLUSTER_STARTS[1]! + 40), prng(5), 3000)) c.write(part);
  c.end();
  await c.waitFor(() => c.ended, 10_000, 'the zero-length chunk');
  assert.equal(c.trace(), OK10);
  for (const chunk of c.chunks) assert.ok(chunk.endsWith('\n') && chunk.indexOf('\n') === chunk.length - 1, `one JSON object per chunk: ${chunk}`);
  const persisted = c.acks.filter((a) => a.EventType === 'PERSISTED');
  assert.equal(
    persisted.map((a) => a.FragmentTimecode),
    Array.from({ length: 10 }, (_, i) => T + i * 1000),
  );
  assert.ok(persisted.every((a, i) => i === 0 || BigInt(a.FragmentNumber!) > BigInt(persisted[i - 1]!.FragmentNumber!)));
  assert.is(stored(stream), 10);
  const conn = putMediaConnections(cloud.ctx).recent.find((r) => r.stream === stream)!;
  assert.is(conn.reason, 'end');
  assert.is(conn.stats.persisted, 10);
  assert.is(conn.stats.bytes, BODY.length);
  c.destroy();
});

test('node:https as the client: full duplex, the response and its ACKs arrive while the request body is still being written', async () => {
  const stream = await createStream();
  const head = await signedHead(cloud.endpoint, { stream });
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0 && !/^(host|transfer-encoding|connection)$/i.test(line.slice(0, i))) headers[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  const url = new URL(cloud.endpoint);
  const lines: string[] = [];
  let text = '';
  let ended!: () => void;
  const done = new Promise<void>((resolve) => (ended = resolve));
  let sawResponse!: () => void;
  const responded = new Promise<void>((resolve) => (sawResponse = resolve));
  let status = 0;
  const req = request({ host: url.hostname, port: Number(url.port), method: 'POST', path: '/putMedia', headers, ca: cloud.caPem }, (res) => {
    status = res.statusCode ?? 0;
    sawResponse();
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      text += d;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
        lines.push(text.slice(0, nl));
        text = text.slice(nl + 1);
      }
    });
    res.on('end', ended);
  });
  req.flushHeaders();
  await responded;
  assert.is(status, 200, 'the 200 arrives before any body byte is written');
  req.write(BODY.subarray(0, CLUSTER_STARTS[1]! + 40));
  const started = Date.now();
  while (!lines.some((l) => l.includes('PERSISTED')) && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 10));
  assert.ok(
    lines.some((l) => l.includes('PERSISTED')),
    'fragment 1 acknowledged mid-request',
  );
  req.end(BODY.subarray(CLUSTER_STARTS[1]! + 40));
  await done;
  assert.equal(groupedTrace(lines.map((l) => JSON.parse(l) as Ack)), OK10);
});

test('token rotation hand-over: a second connection while one is open takes over; the first finishes its fragment, is acknowledged, then closed; a third gets 400 ConnectionLimitExceededException', async () => {
  // The grace is the longest fragment (config.maxFragmentMs): 2 s here, fragments of the fixture last 1 s.
  const rotating = await startCloud({ stateDir: mkdtempSync(join(tmpdir(), 'fieldcam-handover-')), routes: mediaRoutes, config: { maxFragmentMs: 2000 } });
  clouds.push(rotating);
  const kvs = new KinesisVideoClient(
    awsClientConfig({
      region: REGION,
      endpointUrl: rotating.endpoint,
      caBundle: rotating.caFile,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    }),
  );
  await kvs.send(new CreateStreamCommand({ StreamName: 'rotating', DataRetentionInHours: 24 }));
  kvs.destroy();
  const first = await open({ stream: 'rotating' }, rotating);
  await first.waitFor(() => first.status === 200);
  first.write(BODY.subarray(0, CLUSTER_STARTS[2]!)); // fragment 2 open
  await first.waitFor(() => first.acks.length === 4, 5000, 'fragment 0 PERSISTED, fragment 1 BUFFERING');
  const second_ = await open({ stream: 'rotating' }, rotating);
  await second_.waitFor(() => second_.status !== 0, 5000, 'the answer');
  assert.is(second_.status, 200, 'the new connection is accepted');
  const third = await open({ stream: 'rotating' }, rotating);
  await third.waitFor(() => third.status !== 0 && third.closed, 5000, 'the refusal');
  assert.is(third.status, 400);
  assert.is(third.headers['x-amzn-errortype'], 'ConnectionLimitExceededException:');
  third.destroy();
  // The old connection finishes the fragment it had open, closing it with an end-of-fragment tag.
  first.write(BODY.subarray(CLUSTER_STARTS[2]!, CLUSTER_STARTS[3]!));
  first.write(EOFR);
  await first.waitFor(() => first.acks.length === 9, 5000, 'fragments 0-2 PERSISTED');
  // The new one sends the header again, then the following fragments (as the SDK does after rotating).
  second_.write(BODY.subarray(0, CLUSTER_STARTS[0]!));
  second_.write(BODY.subarray(CLUSTER_STARTS[3]!));
  second_.end();
  await second_.waitFor(() => second_.ended, 10_000, 'the end of the new connection');
  await first.waitFor(() => first.ended && first.closed, 10_000, 'the old connection closed after its grace');
  assert.equal(first.trace(), OK10.slice(0, 3 * 3), 'its fragments 0-2 acknowledged up to PERSISTED');
  assert.equal(second_.trace(), OK10.slice(0, 3 * 7));
  assert.ok(
    putMediaConnections(rotating.ctx).recent.some((c) => c.reason === 'handed-over'),
    'the old one ended by the hand-over',
  );
  const records = fragmentStoreFor(rotating.ctx, rotating.ctx.streams.get('rotating')!).list();
  assert.equal(
    records.map((r) => r.timecode),
    Array.from({ length: 10 }, (_, i) => T + i * 1000),
    'all 10 fragments stored once, in order',
  );
  first.destroy();
  second_.destroy();
});

test('a disk write that hangs under one stream stalls no other stream: writes run off the event loop, queued per stream', async () => {
  const a = await createStream();
  const b = await createStream();
  // Stream a's index is a FIFO: appending to it blocks in open(2) until someone reads, as a hung disk would.
  const storeA = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(a)!);
  const fifo = join(storeA.dir, 'index.jsonl');
  execFileSync('mkfifo', [fifo]);
  // Breaks the hang if the cloud blocked its event loop on it (then this test fails below instead of hanging).
  const breaker = spawn('sh', ['-c', `sleep 30; exec cat "${fifo}" > /dev/null`], { stdio: 'ignore' });
  try {
    const c = await open({ stream: a });
    await c.waitFor(() => c.status === 200);
    c.write(concat([header(), second(T), EOFR]));
    await c.waitFor(() => c.acks.some((x) => x.EventType === 'RECEIVED'), 5000, "stream a's fragment RECEIVED");
    const other = await upload(b);
    assert.equal(other.trace(), OK10, 'stream b: every fragment PERSISTED while stream a is stuck');
    assert.equal(c.trace(), ['BUFFERING', 'RECEIVED'], 'stream a: still waiting for its disk');
    other.destroy();
    // The disk comes back: stream a's fragment gets its answer (a FIFO cannot be fsynced: 5001, else PERSISTED).
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let line = '';
    reader.stdout.on('data', (d: Buffer) => (line += d.toString('utf8')));
    await c.waitFor(() => c.trace().length === 3, 10_000, "stream a's answer");
    assert.ok(['PERSISTED', 'ERROR:5001'].includes(c.trace()[2]!), c.trace().join(' '));
    c.end();
    c.destroy();
    reader.kill();
  } finally {
    breaker.kill();
  }
});

test('a bad signature gets 403 and stores nothing; an unknown stream 404; bad headers 400', async () => {
  const stream = await createStream();
  const forged = await open({ stream, secret: 'not-the-secret' });
  await forged.waitFor(() => forged.status !== 0);
  assert.is(forged.status, 403);
  forged.destroy();
  assert.is(stored(stream), 0);

  const missing = await open({ stream: 'no-such-stream' });
  await missing.waitFor(() => missing.status !== 0);
  assert.is(missing.status, 404);
  assert.is(missing.headers['x-amzn-errortype'], 'ResourceNotFoundException:');
  missing.destroy();

  const cases: PutMediaHeaders[] = [
    { stream, arn: cloud.ctx.streams.get(stream)!.StreamARN },
    { timecodeType: 'ABSOLUTE' },
    { stream, timecodeType: 'LOCAL' },
    { stream, timecodeType: 'RELATIVE' },
    { stream, timecodeType: 'RELATIVE', producerStartSeconds: 'yesterday' },
  ];
  for (const h of cases) {
    const c = await open(h);
    await c.waitFor(() => c.status !== 0);
    assert.is(c.status, 400, JSON.stringify(h));
    assert.is(c.headers['x-amzn-errortype'], 'InvalidArgumentException:');
    c.destroy();
  }
});

test('by ARN, RELATIVE timecodes: producer timestamps are the start header plus the timecodes', async () => {
  const stream = await createStream();
  const arn = cloud.ctx.streams.get(stream)!.StreamARN;
  const c = await open({ arn, timecodeType: 'RELATIVE', producerStartSeconds: ((T + 500) / 1000).toFixed(3) });
  await c.waitFor(() => c.status === 200);
  c.write(concat([header(), second(0), second(1000)]));
  c.end();
  await c.waitFor(() => c.ended);
  assert.equal(c.trace(), OK10.slice(0, 6));
  const list = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(stream)!).list();
  assert.equal(
    list.map((r) => r.producerTimestampMs),
    [T + 500, T + 1500],
  );
  c.destroy();
});

test('throttle fault: the next request gets 400 ClientLimitExceededException, the one after is served', async () => {
  const stream = await createStream();
  faults.throttle = 1;
  const refused = await open({ stream });
  await refused.waitFor(() => refused.status !== 0);
  assert.is(refused.status, 400);
  assert.is(refused.headers['x-amzn-errortype'], 'ClientLimitExceededException:');
  refused.destroy();
  assert.is(faults.throttle, 0);
  const c = await upload(stream);
  assert.equal(c.trace(), OK10);
  c.destroy();
});

test('drop fault mid-fragment: the connection breaks, only complete fragments are stored, a new connection goes on', async () => {
  const stream = await createStream();
  faults.dropAfterBytes = CLUSTER_STARTS[6]! + 500; // inside fragment 7
  const c = await open({ stream });
  await c.waitFor(() => c.status === 200);
  for (const part of randomSplit(BODY, prng(9), 4000)) c.write(part);
  await c.waitFor(() => c.closed, 5000, 'the dropped connection');
  assert.is(c.ended, false, 'no zero-length chunk: the connection was reset');
  assert.is(faults.dropAfterBytes, undefined, 'the fault fires once');
  await fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(stream)!).idle();
  assert.is(stored(stream), 6);
  assert.is(
    putMediaConnections(cloud.ctx).active.some((a) => a.stream === stream),
    false,
    'the slot is released',
  );
  const later = muxFixture({ startTimecode: T + 60_000 });
  const again = await upload(stream, later);
  assert.equal(again.trace(), OK10);
  assert.is(stored(stream), 16);
  again.destroy();
});

test('errorAck fault 5000 for two fragments: ERROR instead of RECEIVED, not stored; the rest PERSISTED', async () => {
  const stream = await createStream();
  faults.errorAck = { errorId: 5000, remaining: 2 };
  const c = await upload(stream);
  assert.equal(c.trace(), ['BUFFERING', 'ERROR:5000', 'BUFFERING', 'ERROR:5000', ...OK10.slice(6)]);
  assert.is(faults.errorAck, undefined);
  assert.is(stored(stream), 8);
  c.destroy();
});

test('ackDelayMs fault: every ACK is held back, order kept', async () => {
  const stream = await createStream();
  faults.ackDelayMs = 300;
  const started = Date.now();
  try {
    const c = await open({ stream });
    await c.waitFor(() => c.status === 200);
    c.write(concat([header(), second(T), second(T + 1000)]));
    c.end();
    await c.waitFor(() => c.ended, 5000);
    assert.equal(c.trace(), OK10.slice(0, 6));
    assert.ok(c.acks[0]!.at - started >= 290, `first ACK after ${c.acks[0]!.at - started} ms`);
    c.destroy();
  } finally {
    faults.ackDelayMs = undefined;
  }
});

test('no bytes: IDLE every idleAckMs, then the response ends idleCloseMs after the last byte and the slot is free', async () => {
  const stream = await createStream();
  const c = await open({ stream });
  await c.waitFor(() => c.status === 200);
  c.write(header());
  await c.waitFor(() => c.ended && c.closed, 4000, 'idle close');
  const idle = c.acks.filter((a) => a.EventType === 'IDLE');
  assert.ok(idle.length >= 3 && idle.length <= 7, `${idle.length} IDLE ACKs in 1.5 s at 250 ms`);
  assert.ok(idle.every((a) => a.FragmentNumber === undefined));
  const conn = putMediaConnections(cloud.ctx).recent.find((r) => r.stream === stream)!;
  assert.is(conn.reason, 'idle');
  assert.is(
    putMediaConnections(cloud.ctx).active.some((a) => a.stream === stream),
    false,
  );
  c.destroy();
});

test('an unparseable body: ERROR 4006, then the response ends and the connection closes', async () => {
  const stream = await createStream();
  const c = await open({ stream });
  await c.waitFor(() => c.status === 200);
  c.write(concat([header(), second(T), EOFR, Uint8Array.of(0x00, 0x00, 0x00)]));
  await c.waitFor(() => c.ended && c.closed, 5000, 'the close');
  assert.equal(c.trace(), ['BUFFERING', 'RECEIVED', 'PERSISTED', 'ERROR:4006']);
  assert.is(c.acks.find((a) => a.EventType === 'ERROR')!.FragmentNumber, undefined, 'no fragment was open');
  assert.is(stored(stream), 1);
});

test('retention 0: BUFFERING and RECEIVED only, nothing stored', async () => {
  const stream = await createStream(0);
  const c = await upload(stream);
  assert.equal(c.trace(), Array.from({ length: 10 }, () => ['BUFFERING', 'RECEIVED']).flat());
  assert.is(stored(stream), 0);
  c.destroy();
});

test('connection-duration limit: ERROR 4003 for the open fragment, then the connection closes', async () => {
  const short = await startCloud({
    stateDir: join(stateDir, 'short'),
    routes: mediaRoutes,
    config: { maxConnectionMs: 800, idleAckMs: 5000, idleCloseMs: 10_000 },
  });
  clouds.push(short);
  const client = new KinesisVideoClient(
    awsClientConfig({
      region: REGION,
      endpointUrl: short.endpoint,
      caBundle: short.caFile,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    }),
  );
  await client.send(new CreateStreamCommand({ StreamName: 'long', DataRetentionInHours: 1 }));
  client.destroy();
  const c = await open({ stream: 'long' }, short);
  await c.waitFor(() => c.status === 200);
  c.write(concat([header(), second(T), second(T + 1000).subarray(0, 60)]));
  await c.waitFor(() => c.ended && c.closed, 4000, 'the forced close');
  assert.equal(c.trace(), ['BUFFERING', 'RECEIVED', 'PERSISTED', 'BUFFERING', 'ERROR:4003']);
  assert.is(c.acks.at(-1)!.FragmentTimecode, T + 1000);
  assert.is(stored('long', short), 1);
});

test.run();
