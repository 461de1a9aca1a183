// A PutMedia client out to exhaust the cloud's memory (issue 11 item 12 and its proof "a PutMedia stream of
// huge elements, with bounded RSS"): `fieldcam cloud` runs in a child process, hostile clients speak real
// HTTPS to it, and the child's resident set is read from /proc. The bound asserted is docs/reliability.md's.
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { EBML_IDS } from '../../../../../firmware/core/mkv/ebmlIds.ts';
import { assert, suite } from '../../../../harness/index.ts';
import { sizeBytes } from '../../../../host/shared/mkv/EbmlReaderKit.ts';
import { tempStateDir } from '../../support.ts';
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, signedHead, uploadBody } from './putMediaClient.ts';
import { concat, el, header, muxFixture, ROOT, second, tags } from './mediaKit.ts';

const test = suite('sim/cloud PutMedia: hostile clients against a cloud process, bounded RSS');
const MiB = 1024 * 1024;
/** How much the cloud's resident set may grow while one hostile connection is open (docs/reliability.md). */
const RSS_BOUND = 96 * MiB;
const state = tempStateDir('fieldcam-hostile-');
let child: ChildProcess | undefined;
let endpoint = '';
let ca = '';

test('the cloud starts in its own process and takes a normal upload', async () => {
  child = spawn(
    process.execPath,
    [join(ROOT, 'host', 'cli', 'bin.mjs'), 'cloud', '--port', '0', '--credentials-port', '0', '--mqtt-port', '0', '--state-dir', state.dir, '--quiet'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.resume();
  for (let i = 0; i < 600 && !out.includes('Ctrl-C stops it.'); i++) await new Promise((r) => setTimeout(r, 50));
  endpoint = /^endpoint-url: (https:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1] ?? '';
  assert.ok(endpoint, `the cloud did not start: ${out}`);
  ca = readFileSync(join(state.dir, 'ca.pem'), 'utf8');
  const kvs = new KinesisVideoClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca }) }),
    maxAttempts: 1,
  });
  await kvs.send(new CreateStreamCommand({ StreamName: 'kept', DataRetentionInHours: 24 }));
  await kvs.send(new CreateStreamCommand({ StreamName: 'live', DataRetentionInHours: 0 }));
  kvs.destroy();
  // Warm up: a real upload, so the baseline includes the code paths of a normal connection.
  const warm = await uploadBody(endpoint, ca, 'kept', muxFixture({ startTimecode: Date.now() - 3_600_000 }));
  assert.is(warm.acks.filter((a) => a.EventType === 'PERSISTED').length, 10);
});

test.after(() => {
  child?.kill('SIGKILL');
  state.remove();
});

function rss(): number {
  const status = readFileSync(`/proc/${child!.pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)![1]) * 1024;
}

/**
 * Sends `body` (generated in pieces) as one PutMedia request and never reads the response. Returns when
 * everything was sent or when the cloud stopped reading (no drain for a while): the connection stays open.
 */
async function hostile(stream: string, body: Iterable<Uint8Array>): Promise<{ socket: TLSSocket; sent: number; complete: boolean }> {
  const url = new URL(endpoint);
  const socket = await new Promise<TLSSocket>((done, fail) => {
    const s = connect({ host: url.hostname, port: Number(url.port), ca }, () => done(s));
    s.once('error', fail);
  });
  socket.on('error', () => {});
  socket.pause(); // the ACK stream is never read
  socket.write(await signedHead(endpoint, { stream }));
  let sent = 0;
  for (const piece of body) {
    if (socket.destroyed) return { socket, sent, complete: false };
    socket.write(`${piece.length.toString(16)}\r\n`);
    socket.write(piece);
    const more = socket.write('\r\n');
    sent += piece.length;
    if (!more) {
      const drained = await new Promise<boolean>((done) => {
        const timer = setTimeout(() => settle(false), 3000);
        const settle = (drained: boolean): void => {
          clearTimeout(timer);
          socket.off('drain', onDrain);
          socket.off('close', onClose);
          done(drained);
        };
        const onDrain = (): void => settle(true);
        const onClose = (): void => settle(false);
        socket.on('drain', onDrain);
        socket.on('close', onClose);
      });
      if (!drained) return { socket, sent, complete: false };
    }
  }
  return { socket, sent, complete: true };
}

function* zeros(total: number): Generator<Uint8Array> {
  const piece = new Uint8Array(256 * 1024);
  for (let n = 0; n < total; n += piece.length) yield piece.subarray(0, Math.min(piece.length, total - n));
}

function elementHead(id: number, size: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return concat([Uint8Array.from(bytes), sizeBytes(size)]);
}

async function measure(name: string, stream: string, body: Iterable<Uint8Array>): Promise<{ sent: number; complete: boolean }> {
  const before = rss();
  const r = await hostile(stream, body);
  await new Promise((done) => setTimeout(done, 200)); // let the cloud take in what the kernel buffered
  const during = rss();
  r.socket.destroy();
  console.log(
    `  ${name}: sent ${(r.sent / MiB).toFixed(1)} MiB${r.complete ? '' : ' (the cloud stopped reading)'}; cloud RSS ${(before / MiB).toFixed(0)} → ${(during / MiB).toFixed(0)} MiB`,
  );
  assert.ok(during - before < RSS_BOUND, `${name}: the cloud's RSS grew by ${((during - before) / MiB).toFixed(0)} MiB; the bound is ${RSS_BOUND / MiB} MiB`);
  return r;
}

test('300,000 tiny fragments with the ACK stream unread: the cloud stops reading; RSS bounded', async () => {
  const start = Date.now() - 3_600_000;
  function* body(): Generator<Uint8Array> {
    yield header();
    const batch: Uint8Array[] = [];
    for (let i = 0; i < 300_000; i++) {
      batch.push(
        concat([
          Uint8Array.of(0x1f, 0x43, 0xb6, 0x75, 0xff),
          el(EBML_IDS.Timecode, [0, 0, ...uint6(start + i)]),
          el(EBML_IDS.SimpleBlock, [0x81, 0, 0, 0x80, 0]),
        ]),
      );
      if (batch.length === 2000) yield concat(batch.splice(0));
    }
  }
  const r = await measure('tiny fragments', 'live', body());
  assert.ok(!r.complete, 'the cloud stopped reading a connection whose ACKs are not read');
});

test('a 160 MiB level-1 Void before the first Cluster: refused at the header bound; RSS bounded', async () => {
  await measure('huge Void', 'live', [header(), elementHead(0xec, 160 * MiB), ...zeros(160 * MiB)]);
});

test('a 160 MiB TagString in a metadata Tags: RSS bounded', async () => {
  const big = 160 * MiB;
  const name = el(EBML_IDS.TagName, [0x6b]);
  const valueHead = elementHead(EBML_IDS.TagString, big);
  const simpleHead = elementHead(EBML_IDS.SimpleTag, name.length + valueHead.length + big);
  const tagSize = simpleHead.length + name.length + valueHead.length + big;
  const tagHead = elementHead(EBML_IDS.Tag, tagSize);
  const t = Date.now() - 3_000_000;
  await measure('huge Tags', 'kept', [
    header(),
    second(t),
    tags([['a', 'b']]),
    elementHead(EBML_IDS.Tags, tagHead.length + tagSize),
    tagHead,
    simpleHead,
    name,
    valueHead,
    ...zeros(big),
    second(t + 1000),
  ]);
});

test('after them, the same cloud process serves a normal upload: every fragment PERSISTED', async () => {
  assert.is(child!.exitCode, null, 'the cloud is still running');
  const upload = await uploadBody(endpoint, ca, 'kept', muxFixture({ startTimecode: Date.now() - 1_800_000 }));
  assert.is(upload.acks.filter((a) => a.EventType === 'PERSISTED').length, 10);
  upload.destroy();
});

function uint6(v: number): number[] {
  return Array.from({ length: 6 }, (_, i) => Math.floor(v / 256 ** (5 - i)) % 256);
}

test.run();
