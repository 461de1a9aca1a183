// The runtime's TLS write path (firmware/runtime/net.c writeTls, tls.c): a gather write of a frame — HTTP chunk
// line, Matroska block header, AVCC length, payload ranges in a pool slot, CRLF — leaves as ONE TLS record when
// it fits in 16 KiB (one record per 16 KiB above that), counted by the TLS layer itself (native.tlsStats), and every
// byte arrives in order. And the cipher suites: the client offers ChaCha20-Poly1305 first (about 3.6x cheaper per
// byte than AES-128-GCM on the ARM1176, docs/performance.md), the server chooses, and both work, verified.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { assert, suite } from '../harness/index.ts';
import { runScript, testPki, type Pki } from './support.ts';

const test = suite('fieldcam-runtime TLS records and ciphers');

/** A TLS 1.2 sink: hashes what arrives, answers `<cipher> <sha256>` once `total` bytes are in. */
async function sink(p: Pki, total: number, options: { ciphers?: string; honorCipherOrder?: boolean } = {}) {
  const server = createTlsServer({ key: p.serverKey, cert: p.serverCert, maxVersion: 'TLSv1.2', ...options }, (s: TLSSocket) => {
    const hash = createHash('sha256');
    let received = 0;
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      hash.update(d);
      received += d.length;
      if (received === total) s.write(`${s.getCipher().name} ${hash.digest('hex')}\n`);
    });
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((done) => server.close(() => done())) };
}

/** What the uploader's gather list holds for a frame of `size` payload bytes, as the sink must receive it. */
function frameBytes(size: number, seed: number): Buffer {
  const payload = Buffer.alloc(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 7 + seed) & 255;
  const body = Buffer.concat([Buffer.from([0xa3, 0x10, 0, 0, 0, 0x81, 0, 0, 0x80]), Buffer.from([0, 0, size >> 8, size & 255]), payload]);
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]);
}

// The script writes each frame as 6 ranges from 4 views (scratch headers, a big "pool slot"), then prints the
// records each write took, then the server's answer.
const SCRIPT = `
const sizes = JSON.parse(native.argv[2]);
const chunked = native.argv[3] === 'chunk';
const slot = new Uint8Array(70000);
const scratch = new Uint8Array(64);
const crlf = ascii('\\r\\n');
const h = native.socketOpen('127.0.0.1', Number(native.argv[0]), { ca: native.argv[1] });
const sources = [], offsets = new Uint32Array(6), lengths = new Uint32Array(6);
const perFrame = [];
let reply = '';
const buf = new Uint8Array(256);
on[EVENT.SOCKET_CONNECT] = () => {
  sizes.forEach((size, k) => {
    for (let i = 0; i < size; i++) slot[100 + i] = (i * 7 + k) & 255;
    const line = ascii((size + 13).toString(16) + '\\r\\n');
    scratch.set(line, 0);
    scratch.set([0xa3, 0x10, 0, 0, 0, 0x81, 0, 0, 0x80], 16);
    scratch.set([0, 0, size >> 8, size & 255], 32);
    const data = [[scratch, 16, 9], [scratch, 32, 4], [slot, 100, size >> 1], [slot, 100 + (size >> 1), size - (size >> 1)]];
    const ranges = chunked ? data : [[scratch, 0, line.length], ...data, [crlf, 0, 2]];
    ranges.forEach(([s, o, n], i) => { sources[i] = s; offsets[i] = o; lengths[i] = n; });
    const before = native.tlsStats().records;
    if (chunked) native.socketWriteChunk(h, sources, offsets, lengths, ranges.length);
    else native.socketWrite(h, sources, offsets, lengths, 6);
    perFrame.push(native.tlsStats().records - before);
  });
  native.print('records ' + perFrame.join(','));
};
on[EVENT.SOCKET_READABLE] = () => {
  reply += text(buf, native.socketRead(h, buf, 0, buf.length));
  if (reply.endsWith('\\n')) { native.print(reply.trim()); native.socketClose(h); }
};
on[EVENT.SOCKET_CLOSE] = (_, value) => native.print('close ' + value);
`;

async function run(p: Pki, sizes: number[], server: { ciphers?: string; honorCipherOrder?: boolean } = {}, write: 'gather' | 'chunk' = 'gather') {
  const frames = sizes.map((size, k) => frameBytes(size, k));
  const expected = createHash('sha256').update(Buffer.concat(frames)).digest('hex');
  const s = await sink(
    p,
    frames.reduce((n, f) => n + f.length, 0),
    server,
  );
  try {
    const r = await runScript(SCRIPT, { args: [String(s.port), p.ca, JSON.stringify(sizes), write] });
    assert.is(r.status, 0, r.stderr);
    const [records, answer] = r.lines;
    const [cipher, digest] = answer!.split(' ');
    assert.is(digest, expected, 'every byte arrived, in order');
    return { records: records!.slice('records '.length).split(',').map(Number), cipher: cipher!, wire: frames.map((f) => f.length) };
  } finally {
    await s.close();
  }
}

test('a frame gathered from 6 ranges is one TLS record up to 16 KiB, one per 16 KiB above; every byte arrives', async () => {
  const p = await testPki();
  // The reference clip's average frame, a tiny one, frames just under/over 16 KiB on the wire, a 1080p I frame.
  const sizes = [5143, 800, 16363, 16364, 40000, 65000]; // 16363 + 21 B of framing: exactly 16 KiB on the wire
  const { records, wire } = await run(p, sizes);
  assert.equal(
    records,
    wire.map((bytes) => Math.ceil(bytes / 16384)),
    `wire sizes ${wire.join(', ')}`,
  );
  assert.equal(records.slice(0, 3), [1, 1, 1]);
  assert.is(records[3], 2);
});

test('socketWriteChunk: the data ranges framed in C as one HTTP chunk give the same bytes, one record up to 16 KiB', async () => {
  const p = await testPki();
  const sizes = [5143, 800, 1, 16363, 16364, 40000, 65000];
  const { records, wire } = await run(p, sizes, {}, 'chunk');
  assert.equal(
    records,
    wire.map((bytes) => Math.ceil(bytes / 16384)),
    `wire sizes ${wire.join(', ')}`,
  );
  assert.equal(records.slice(0, 4), [1, 1, 1, 1]);
});

test('cipher suites: ChaCha20-Poly1305 when the server leaves the choice to the client; AES-128-GCM and ChaCha20 each work alone', async () => {
  const p = await testPki();
  // Server key type decides ECDSA vs RSA suites; OpenSSL names both families, the server picks what its key allows.
  const chacha = 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305';
  const aes = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256';
  const aes256 = 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384';
  // The client's order decides: ChaCha20 ahead of every AES-GCM suite (tls.c pins it; Debian's mbedTLS 2.28 list has it so).
  const preferred = await run(p, [5143], { ciphers: `${aes256}:${aes}:${chacha}`, honorCipherOrder: false });
  assert.ok(/CHACHA20-POLY1305/.test(preferred.cipher), `the client offers ChaCha20-Poly1305 first: ${preferred.cipher}`);
  const serverChoice = await run(p, [5143], { ciphers: `${aes}:${chacha}`, honorCipherOrder: true });
  // Node's default server (the local cloud's) prefers its own order: AES-128-GCM, what the whole-device bench measures.
  assert.ok(/AES128-GCM/.test((await run(p, [800])).cipher));
  assert.ok(/AES128-GCM/.test(serverChoice.cipher), `the server still chooses: ${serverChoice.cipher}`);
  for (const [only, name] of [
    [chacha, /CHACHA20-POLY1305/],
    [aes, /AES128-GCM/],
  ] as const) {
    const r = await run(p, [5143, 40000], { ciphers: only });
    assert.ok(name.test(r.cipher), r.cipher);
    assert.equal(r.records, [1, 3]);
  }
});

test.run();
