// The server itself: extra route tables (how the media routes plug in), failures inside handlers, the request
// log, and close() ending streaming connections at once.
import { connect } from 'node:tls';
import { controlPlaneRoutes } from '../../../sim/cloud/kvs/controlPlane.ts';
import { startCloud } from '../../../sim/cloud/startCloud.ts';
import { CloudError, type Route } from '../../../sim/cloud/types.ts';
import { EMPTY_PAYLOAD_SHA256 } from '../../../firmware/core/sigv4/SigV4Signer.ts';
import { writeJson } from '../../../sim/cloud/http.ts';
import { assert, suite } from '../../harness/index.ts';
import { rawRequest, signedPost, startTestCloud, tempStateDir } from './support.ts';

const test = suite('sim/cloud startCloud');
const state = tempStateDir();

let streamingStarted: () => void = () => {};
const streaming = new Promise<void>((done) => (streamingStarted = done));

const extra: Route[] = [
  {
    method: 'POST',
    path: '/echo',
    async handler(req, res, ctx) {
      // A streamed body is signed over the empty-body hash (kvs-reference.md §10.2), as PutMedia is.
      const who = await ctx.authenticate(req, EMPTY_PAYLOAD_SHA256);
      writeJson(res, 200, { accessKeyId: who.accessKeyId });
    },
  },
  {
    method: 'POST',
    path: '/forever',
    async handler(_req, res) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.write('{"EventType":"BUFFERING"}');
      streamingStarted();
      await new Promise(() => {}); // an ACK stream that never ends on its own
    },
  },
  {
    method: 'POST',
    path: '/refuse',
    handler: async () => {
      throw new CloudError(400, 'ConnectionLimitExceededException', 'one connection per stream');
    },
  },
  {
    method: 'POST',
    path: '/bug',
    handler: async () => {
      throw new Error('a bug in a handler');
    },
  },
];

const cloud = await startTestCloud(state.dir, { routes: [...controlPlaneRoutes, ...extra] });

test.after(async () => {
  await cloud.close();
  state.remove();
});

test('extra routes are served next to the control plane; repeating the control-plane routes is harmless', async () => {
  const res = await signedPost(cloud, '/echo', '');
  assert.is(res.status, 200, res.body);
  assert.equal(JSON.parse(res.body), { accessKeyId: 'AKIDEXAMPLE' });
  const list = await signedPost(cloud, '/listStreams', '{}');
  assert.is(list.status, 200);
});

test('two different routes for one method and path are refused at start', async () => {
  const dir = tempStateDir();
  try {
    const clash: Route = { method: 'POST', path: '/createStream', handler: async () => {} };
    await assert.rejects(() => startCloud({ stateDir: dir.dir, routes: [clash] }), /two different routes for POST \/createStream/);
  } finally {
    dir.remove();
  }
});

test('a CloudError from a handler before the body is read: AWS error shape, connection closed', async () => {
  const res = await rawRequest(cloud, 'POST', '/refuse', { 'content-type': 'application/octet-stream' }, 'x'.repeat(1000));
  assert.is(res.status, 400);
  assert.is(res.headers['x-amzn-errortype'], 'ConnectionLimitExceededException:');
  assert.is(res.headers.connection, 'close');
  assert.equal(JSON.parse(res.body), { Message: 'one connection per stream' });
});

test('an unexpected exception is a 500 InternalFailure, logged with its stack', async () => {
  cloud.events.length = 0;
  const res = await rawRequest(cloud, 'POST', '/bug', {});
  assert.is(res.status, 500);
  assert.is(res.headers['x-amzn-errortype'], 'InternalFailure:');
  const logged = cloud.events.find((e) => e.event === 'internal-error');
  assert.ok(logged && String(logged.fields.error).includes('a bug in a handler'));
});

test('every request is logged once with method, path, status, time and error type', async () => {
  cloud.events.length = 0;
  await signedPost(cloud, '/describeStream', JSON.stringify({ StreamName: 'absent' }));
  await new Promise((r) => setTimeout(r, 20));
  const requests = cloud.events.filter((e) => e.event === 'request');
  assert.is(requests.length, 1);
  const f = requests[0]!.fields;
  assert.is(f.method, 'POST');
  assert.is(f.path, '/describeStream');
  assert.is(f.status, 404);
  assert.is(f.error, 'ResourceNotFoundException');
  assert.ok(typeof f.ms === 'number' && typeof f.requestId === 'string');
});

test('close() ends an open streaming connection promptly', async () => {
  const url = new URL(cloud.endpoint);
  const socket = connect({ host: url.hostname, port: Number(url.port), ca: cloud.caPem, servername: 'localhost' });
  const ended = new Promise<void>((done) => socket.on('close', () => done()));
  socket.on('error', () => {}); // the reset at close() is expected
  socket.resume(); // consume the ACK stream so the end of the connection is seen
  await new Promise<void>((done) => socket.once('secureConnect', () => done()));
  socket.write(`POST /forever HTTP/1.1\r\nHost: ${url.host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
  await streaming;
  const started = performance.now();
  await cloud.close();
  await ended;
  assert.ok(performance.now() - started < 1000, `close took ${Math.round(performance.now() - started)} ms`);
  await cloud.close(); // idempotent
});

test.run();
