// Hostile input on both sides of the wire (issue 3 proof): corrupted Matroska bodies never crash the local
// KVS, which keeps serving other streams; a hostile endpoint never crashes the device session, which keeps
// retrying with backoff and stops cleanly.
import { CreateStreamCommand } from '@aws-sdk/client-kinesis-video';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { nodeClock } from '../../firmware/boards/node/nodeTime.ts';
import { isFieldcamError } from '../../firmware/core/errors.ts';
import type { PutMediaSession } from '../../firmware/core/kvs/PutMediaSession.ts';
import { ServerClock } from '../../firmware/core/net/ServerClock.ts';
import { FrameInput } from '../../firmware/core/media/FrameInput.ts';
import { PREPARE } from '../../firmware/core/media/StreamCursor.ts';
import { FramePool } from '../../firmware/core/pool/FramePool.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { assert, suite } from '../harness/index.ts';
import { cluster, block, concat, header, muxFixture, prng } from '../sim/cloud/kvs/media/mediaKit.ts';
import { uploadBody } from '../sim/cloud/kvs/media/putMediaClient.ts';
import { kvsClient } from '../sim/cloud/support.ts';
import { FIXTURES, tempDir } from './tools.ts';
import { nodeUploadSession } from './nodeUploadSession.ts';

const test = suite('robustness: hostile bytes on both sides of PutMedia');
const tmp = tempDir('fieldcam-robust-');
let cloud: RunningCloud;

function mutate(body: Uint8Array, random: () => number): Uint8Array {
  const kind = Math.floor(random() * 4);
  const copy = body.slice();
  if (kind === 0) return copy.subarray(0, Math.floor(random() * body.length)); // truncated
  if (kind === 1) {
    for (let i = 0; i < 1 + random() * 40; i++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256); // bytes flipped
    return copy;
  }
  if (kind === 2) {
    const at = Math.floor(random() * body.length);
    const junk = Uint8Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256));
    return concat([copy.subarray(0, at), junk, copy.subarray(at)]); // garbage inserted
  }
  return Uint8Array.from({ length: 1 + Math.floor(random() * 4096) }, () => Math.floor(random() * 256)); // pure noise
}

test.before(async () => {
  // start the local cloud with two streams
  cloud = await startCloud({ stateDir: join(tmp.dir, 'cloud'), port: 0, routes: [...mediaRoutes], config: { enforceTps: false } });
  const kvs = kvsClient(cloud);
  await kvs.send(new CreateStreamCommand({ StreamName: 'victim', DataRetentionInHours: 24 }));
  await kvs.send(new CreateStreamCommand({ StreamName: 'bystander', DataRetentionInHours: 24 }));
});

test('60 corrupted or truncated bodies never crash the emulator; another stream is served meanwhile and after', async () => {
  const body = muxFixture();
  const random = prng(20261121);
  const bystander = uploadBody(cloud.endpoint, cloud.caPem, 'bystander', body);
  let completed = 0;
  for (let i = 0; i < 60; i++) {
    try {
      const c = await uploadBody(cloud.endpoint, cloud.caPem, 'victim', mutate(body, random));
      if (c.status === 200) completed++;
    } catch {
      // the emulator may close on an unparseable body; only its survival matters here
    }
  }
  assert.ok(completed > 0, 'bodies were answered');
  const served = await bystander;
  assert.is(served.acks.filter((a) => a.EventType === 'PERSISTED').length, 10, 'the bystander stream was fully served');
  const after = await uploadBody(cloud.endpoint, cloud.caPem, 'bystander', muxFixture({ startTimecode: 1_750_000_000_000 }));
  assert.is(after.acks.filter((a) => a.EventType === 'PERSISTED').length, 10, 'and is still served after the fuzz');
});

test('decreasing cluster timecodes → ERROR 4004; a garbage body → ERROR 4006; the stream stays usable', async () => {
  const decreasing = concat([header(), cluster(1_740_000_002_000, [block(1, 0)]), cluster(1_740_000_001_000, [block(1, 0)])]);
  const a = await uploadBody(cloud.endpoint, cloud.caPem, 'victim', decreasing);
  assert.ok(
    a.acks.some((x) => x.EventType === 'ERROR' && x.ErrorId === 4004),
    `4004 in ${JSON.stringify(a.acks)}`,
  );
  const garbage = Uint8Array.from({ length: 2000 }, (_, i) => (i * 7919) & 0xff);
  const b = await uploadBody(cloud.endpoint, cloud.caPem, 'victim', garbage);
  assert.ok(
    b.acks.some((x) => x.EventType === 'ERROR' && x.ErrorId === 4006),
    `4006 in ${JSON.stringify(b.acks)}`,
  );
  const c = await uploadBody(cloud.endpoint, cloud.caPem, 'victim', muxFixture({ startTimecode: 1_760_000_000_000 }));
  assert.is(c.acks.filter((x) => x.EventType === 'PERSISTED').length, 10);
  const record = cloud.ctx.streams.get('victim')!;
  assert.ok(
    fragmentStoreFor(cloud.ctx, record)
      .list()
      .some((f) => f.producerTimestampMs === 1_760_000_000_000),
  );
});

// ── the device against a hostile endpoint ──

const HOSTILE: readonly ((res: import('node:http').ServerResponse) => void)[] = [
  (res) => res.socket?.end('\x00\xffgarbage, not HTTP\r\n\r\n'),
  (res) => res.socket?.end('HTTP/1.1 2'),
  (res) => res.socket?.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'),
  (res) => res.socket?.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n30\r\n{"EventType":"PERSISTED","FragmentTimecode":"x"}\r\n'),
  (res) => res.socket?.end(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`),
  (res) => res.socket?.end('HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nshort'),
  (res) => res.socket?.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"Eve'),
  (res) => {
    res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalFailure:' });
    res.end('{"message":"boom"}');
  },
  (res) => {
    res.writeHead(200, { 'content-type': 'application/json' }); // then silence: the staleness timer must act
    res.flushHeaders();
  },
];

test('a hostile PutMedia endpoint never crashes the session: it retries with backoff and stops cleanly', async () => {
  let putMediaCalls = 0;
  const server: Server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('error', () => {});
    res.on('error', () => {});
    const url = req.url ?? '';
    if (url === '/describeStream') return void res.end('{"StreamInfo":{"Status":"ACTIVE","DataRetentionInHours":24}}');
    if (url === '/getDataEndpoint') return void res.end(`{"DataEndpoint":"http://127.0.0.1:${(server.address() as AddressInfo).port}"}`);
    HOSTILE[putMediaCalls++ % HOSTILE.length]!(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const pool = new FramePool({ slotCount: 8, slotBytes: 65536, maxFrames: 128 });
  const clock = new ServerClock(nodeClock);
  const credentials = () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
  let session: PutMediaSession | undefined;
  const input = new FrameInput({ codec: 'h264', pool, fragmentMs: 1000, startTimecode: clock.now(), onQueued: () => session?.framesQueued() });
  const target = { host: '127.0.0.1', port };
  session = nodeUploadSession(input, {
    target,
    clock,
    streamName: 'cam',
    credentials,
    maxFragmentMs: 10_000,
    stalenessMs: 300,
    backoff: { initialMs: 5, maxMs: 40 },
    stopTimeoutMs: 2500,
    random: prng(7),
    userAgent: 'test',
  });
  session.start();
  const bytes = readFileSync(join(FIXTURES, 'h264-320x240-10fps-gop10.h264'));
  for (let at = 0; at < bytes.length; ) {
    assert.is(input.prepare(), PREPARE.OK);
    const n = Math.min(input.targetSpace, bytes.length - at, 4096);
    input.target.set(bytes.subarray(at, at + n), input.targetOffset);
    input.push(n);
    at += n;
  }
  input.end();
  const deadline = Date.now() + 15_000;
  while (putMediaCalls < 2 * HOSTILE.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  let stopError: unknown;
  try {
    await session.stop();
  } catch (err) {
    stopError = err;
  }
  server.close();
  server.closeAllConnections();
  assert.ok(putMediaCalls >= 2 * HOSTILE.length, `kept reconnecting: ${putMediaCalls} PutMedia calls`);
  assert.ok(isFieldcamError(stopError, 'UPLOAD_LAST_ACK_MISSING'), `stop reports the unacknowledged frames: ${String(stopError)}`);
  const errors = session.stats.errors;
  assert.ok((errors.UPLOAD_BAD_RESPONSE ?? 0) + (errors.UPLOAD_NETWORK ?? 0) >= HOSTILE.length, JSON.stringify(errors));
  assert.ok((errors.UPLOAD_STALE ?? 0) >= 1, `the silent 200 was reset as stale: ${JSON.stringify(errors)}`);
  assert.is(pool.stats.framesInUse, 100, 'every frame is still held for a later replay');
});

test.after(async () => {
  await cloud?.close();
  tmp.remove();
});

test.run();
