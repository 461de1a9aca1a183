// nodeSocket against real peers: a node:http server answering a chunked POST with chunked JSON ACK lines
// while the body is still being sent (PutMedia's full duplex, kvs-reference.md §4.4), TLS with throwaway
// certificates made by the openssl CLI, and the failure paths (refused, DNS, bad certificate, reset).
// A Node-only suite: it lives outside test/firmware because it uses node: modules.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket as NetSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { nodeSocket } from '../../../firmware/boards/node/nodeSocket.ts';
import { ChunkFramer } from '../../../firmware/core/http/ChunkFramer.ts';
import { HttpResponseParser } from '../../../firmware/core/http/HttpResponseParser.ts';
import { writeRequestHead } from '../../../firmware/core/http/writeRequestHead.ts';
import { ViewList } from '../../../firmware/core/media/ViewList.ts';
import type { Socket, TlsOptions } from '../../../firmware/io/Socket.ts';
import { assert, suite } from '../../harness/index.ts';

const test = suite('nodeSocket');

/** A connection driven through nodeSocket, with every callback recorded. */
class Client {
  readonly events: string[] = [];
  readonly received: Buffer[] = [];
  readonly socket: Socket;
  closeError: Error | undefined;
  closes = 0;
  private readonly checks = new Set<() => void>();

  constructor(port: number, extra: { host?: string; tls?: TlsOptions; onBytes?: (b: Uint8Array, n: number) => void; onConnect?: () => void } = {}) {
    const scratch = new Uint8Array(4096);
    this.socket = nodeSocket({
      host: extra.host ?? '127.0.0.1',
      port,
      ...(extra.tls ? { tls: extra.tls } : {}),
      onConnect: () => {
        this.note('connect');
        extra.onConnect?.();
      },
      onReadable: (count) => {
        this.note(`readable ${count}`);
        for (let n = this.socket.read(scratch, 0, scratch.length); n > 0; n = this.socket.read(scratch, 0, scratch.length)) {
          this.received.push(Buffer.from(scratch.subarray(0, n)));
          extra.onBytes?.(scratch, n);
        }
        this.poke();
      },
      onWritable: (count) => this.note(`writable ${count > 0 ? '>0' : count}`),
      onClose: (error) => {
        this.closes++;
        this.closeError = error;
        this.note(`close ${error ? ((error as NodeJS.ErrnoException).code ?? error.message) : 'orderly'}`);
      },
    });
  }

  get text(): string {
    return Buffer.concat(this.received).toString('latin1');
  }

  has(prefix: string): boolean {
    return this.events.some((e) => e.startsWith(prefix));
  }

  /** Resolves once `predicate` holds after some callback; rejects after `ms`. */
  until(predicate: () => boolean, what: string, ms = 10000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.checks.delete(check);
        reject(new Error(`timed out waiting for ${what}; events: ${this.events.slice(-12).join(', ')}`));
      }, ms);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.checks.delete(check);
        resolve();
      };
      this.checks.add(check);
    });
  }

  poke(): void {
    for (const check of [...this.checks]) check();
  }

  private note(event: string): void {
    this.events.push(event);
    this.poke();
  }
}

function listen(server: Server | HttpServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function shut(server: Server | HttpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function views(...parts: Uint8Array[]): ViewList {
  const list = new ViewList(Math.max(1, parts.length));
  for (const p of parts) list.push(p, 0, p.length);
  return list;
}

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deterministic payload bytes. */
function payload(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test('full duplex over node:http: a chunked POST body while chunked JSON ACKs stream back', async () => {
  const sizes = [1, 15, 16, 4095, 2 ** 16 + 3, 300000];
  const bodies = sizes.map((s, i) => payload(s, i + 1));
  const expected = createHash('sha256').update(Buffer.concat(bodies)).digest('hex');
  let seen: Record<string, unknown> = {};
  const server = createHttpServer((req, res) => {
    seen = { method: req.method, url: req.url, te: req.headers['transfer-encoding'], stream: req.headers['x-amzn-stream-name'] };
    // The service answers 200 before reading the body, then streams one ACK per chunk (kvs-reference.md §4.4).
    res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': 'req-1' });
    res.flushHeaders();
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
      res.write(`${JSON.stringify({ EventType: 'BUFFERING', Bytes: bytes })}\n`);
    });
    req.on('end', () => {
      res.write(`${JSON.stringify({ EventType: 'PERSISTED', Bytes: bytes, Sha256: hash.digest('hex') })}\n`);
      res.end();
    });
  });
  const port = await listen(server);
  try {
    const heads: string[] = [];
    const acks: { EventType: string; Bytes: number; Sha256?: string; sentChunks: number }[] = [];
    let line = '';
    let ended = false;
    let sentChunks = 0;
    const parser = new HttpResponseParser({
      onHead: (status, reason, headers) => heads.push(`${status} ${reason} ${headers.map(([k, v]) => `${k}=${v}`).join(';')}`),
      onBody: (b, offset, length) => {
        line += Buffer.from(b.buffer, b.byteOffset + offset, length).toString('latin1');
        for (let nl = line.indexOf('\n'); nl >= 0; nl = line.indexOf('\n')) {
          acks.push({ ...JSON.parse(line.slice(0, nl)), sentChunks });
          line = line.slice(nl + 1);
        }
      },
      onEnd: () => {
        ended = true;
      },
    });
    const headScratch = new Uint8Array(1024);
    const headLength = writeRequestHead(
      'POST',
      '/putMedia',
      [
        ['Host', `127.0.0.1:${port}`],
        ['x-amzn-stream-name', 'demo-stream'],
        ['x-amzn-fragment-timecode-type', 'ABSOLUTE'],
        ['transfer-encoding', 'chunked'],
        ['Expect', '100-continue'],
        ['connection', 'keep-alive'],
      ],
      headScratch,
    );
    const client: Client = new Client(port, {
      onConnect: () => client.socket.write(views(headScratch.subarray(0, headLength))),
      onBytes: (b, n) => parser.push(b, 0, n),
    });
    // The service's 100 Continue is skipped; the body starts after the final 200 head.
    await client.until(() => heads.length === 1, 'the 200 head');
    assert.ok(client.text.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n'), 'interim 100 then 200 on the wire');
    assert.ok(/^200 OK .*content-type=application\/json;x-amzn-requestid=req-1;.*transfer-encoding=chunked/.test(heads[0]!), heads[0]);

    const framer = new ChunkFramer();
    const list = new ViewList(4);
    let sentBytes = 0;
    for (const body of bodies) {
      list.clear();
      framer.pushChunkHeader(list, body.length);
      list.push(body, 0, body.length);
      framer.pushChunkEnd(list);
      const left = client.socket.write(list); // the header scratch is reused by the next chunk at once
      sentChunks++;
      sentBytes += body.length;
      if (left <= 0) {
        // Loopback often absorbs every write; backpressure has its own test below.
        await client.until(() => client.has('writable'), 'onWritable after backpressure');
      }
      // Wait for the ACK of this chunk before sending the next: the response is read mid-request.
      await client.until(() => acks.length > 0 && acks[acks.length - 1]!.Bytes === sentBytes, `the ACK of ${sentBytes} bytes`);
    }
    list.clear();
    framer.pushLastChunk(list);
    client.socket.write(list);
    await client.until(() => ended, 'the end of the response');

    assert.equal(seen, { method: 'POST', url: '/putMedia', te: 'chunked', stream: 'demo-stream' });
    assert.is(heads.length, 1, 'one final head');
    const last = acks[acks.length - 1]!;
    assert.is(last.EventType, 'PERSISTED');
    assert.is(
      last.Bytes,
      sizes.reduce((a, b) => a + b, 0),
    );
    assert.is(last.Sha256, expected, 'the server received exactly the chunked payload');
    // Full duplex: ACKs arrived while the request body was still being sent.
    assert.ok(acks.filter((a) => a.EventType === 'BUFFERING' && a.sentChunks < sizes.length).length >= sizes.length - 1);
    assert.ok(acks[0]!.sentChunks === 1, 'the first ACK arrived right after the first chunk');
    client.socket.close();
  } finally {
    await shut(server);
  }
});

test('write reports backpressure (<= 0) and onWritable follows the drain', async () => {
  let peer: NetSocket | undefined;
  const server = createNetServer((s) => {
    peer = s;
    s.pause(); // read nothing until the client is backed up
    s.on('error', () => {});
  });
  const port = await listen(server);
  try {
    const client = new Client(port);
    await client.until(() => client.has('connect') && peer !== undefined, 'connect');
    const block = views(new Uint8Array(1 << 20));
    let left = 1;
    for (let i = 0; i < 256 && left > 0; i++) left = client.socket.write(block);
    assert.ok(left <= 0, 'the socket reported backpressure');
    assert.ok(!client.has('writable'));
    peer!.resume();
    await client.until(() => client.has('writable >0'), 'onWritable with room');
    client.socket.close();
  } finally {
    peer?.destroy();
    await shut(server);
  }
});

test('received bytes are queued and handed out through read() in any piece size', async () => {
  const server = createNetServer((s) => {
    s.end(Buffer.from('0123456789abcdefghij'));
  });
  const port = await listen(server);
  try {
    let socket: Socket;
    let got = '';
    const counts: number[] = [];
    const closed = new Promise<Error | undefined>((resolve) => {
      socket = nodeSocket({
        host: '127.0.0.1',
        port,
        onConnect() {},
        onReadable(count) {
          counts.push(count);
          const b = new Uint8Array(3);
          // Read in 3-byte pieces, leaving the rest queued for the next callback or after close.
          const n = socket.read(b, 1, 2);
          got += Buffer.from(b.subarray(1, 1 + n)).toString('latin1');
        },
        onWritable() {},
        onClose: resolve,
      });
    });
    assert.is(await closed, undefined, 'an orderly close by the peer');
    assert.ok(counts.length > 0 && counts[0]! > 0);
    // What was not read before onClose can still be drained.
    const rest = new Uint8Array(64);
    const n = socket!.read(rest, 0, rest.length);
    got += Buffer.from(rest.subarray(0, n)).toString('latin1');
    assert.is(got, '0123456789abcdefghij');
    assert.is(socket!.read(rest, 0, rest.length), 0);
    assert.throws(() => socket!.write(views(ascii('x'))), /closed/);
    assert.throws(() => socket!.read(rest, 60, 5), /offset/);
    socket!.close();
    assert.throws(() => socket!.read(rest, 0, 1), /after close/);
  } finally {
    await shut(server);
  }
});

test('nothing is delivered after close(); use after close throws; close twice is a no-op', async () => {
  let peer: NetSocket | undefined;
  const server = createNetServer((s) => {
    peer = s;
    s.on('error', () => {});
  });
  const port = await listen(server);
  try {
    const client = new Client(port);
    await client.until(() => client.has('connect') && peer !== undefined, 'connect');
    client.socket.close();
    client.socket.close();
    const count = client.events.length;
    peer!.write('late data');
    peer!.end();
    await delay(100);
    assert.is(client.events.length, count, 'no callback after close()');
    assert.throws(() => client.socket.write(views(ascii('x'))), /after close/);
    assert.throws(() => client.socket.read(new Uint8Array(4), 0, 4), /after close/);
  } finally {
    await shut(server);
  }
});

test('ECONNREFUSED arrives as onClose(error) with the original message, exactly once', async () => {
  const probe = createNetServer();
  const port = await listen(probe);
  await shut(probe);
  const client = new Client(port);
  await client.until(() => client.closes > 0, 'onClose');
  await delay(50);
  assert.is(client.closes, 1);
  assert.is((client.closeError as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  assert.ok(/ECONNREFUSED/.test(client.closeError!.message), client.closeError!.message);
  assert.ok(!client.has('connect'));
});

test('TLS: TCP connected is reported apart (onTransportConnect) when the handshake then stays silent', async () => {
  const held: NetSocket[] = [];
  const silent = createNetServer((s) => held.push(s)); // accepts, never answers the ClientHello
  const port = await listen(silent);
  const events: string[] = [];
  const socket = nodeSocket({
    host: '127.0.0.1',
    port,
    tls: { ca: 'not used: the handshake never completes' },
    onTransportConnect: () => events.push('tcp'),
    onConnect: () => events.push('connect'),
    onReadable() {},
    onWritable() {},
    onClose: () => events.push('close'),
  });
  for (let i = 0; i < 100 && events.length === 0; i++) await delay(10);
  await delay(50);
  assert.equal(events, ['tcp'], 'TCP up, no handshake, nothing else');
  socket.close();
  for (const s of held) s.destroy();
  await shut(silent);
});

test('a DNS failure arrives as onClose(error) from getaddrinfo', async () => {
  const client = new Client(80, { host: 'fieldcam-test.invalid' }); // .invalid never resolves (RFC 6761 §6.4)
  await client.until(() => client.closes > 0, 'onClose');
  assert.ok(/getaddrinfo/.test(client.closeError!.message), client.closeError!.message);
  assert.ok(!client.has('connect'));
});

test('a peer reset mid-write arrives as onClose(ECONNRESET/EPIPE), once, and writes then throw', async () => {
  const server = createNetServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.resetAndDestroy());
  });
  const port = await listen(server);
  try {
    const client = new Client(port);
    await client.until(() => client.has('connect'), 'connect');
    const block = views(payload(256 * 1024, 7));
    for (let i = 0; i < 400 && client.closes === 0; i++) {
      client.socket.write(block);
      await delay(2);
    }
    await client.until(() => client.closes > 0, 'onClose');
    await delay(50);
    assert.is(client.closes, 1);
    assert.ok(['ECONNRESET', 'EPIPE'].includes((client.closeError as NodeJS.ErrnoException).code!), String(client.closeError));
    assert.throws(() => client.socket.write(block), /closed/);
    client.socket.close();
  } finally {
    await shut(server);
  }
});

test('bad arguments are programmer errors', () => {
  const callbacks = { onConnect() {}, onReadable() {}, onWritable() {}, onClose() {} };
  assert.throws(() => nodeSocket({ ...callbacks, host: '', port: 80 }), /host/);
  assert.throws(() => nodeSocket({ ...callbacks, host: 'localhost', port: 0 }), /port/);
  assert.throws(() => nodeSocket({ ...callbacks, host: 'localhost', port: 70000 }), /port/);
});

// ── TLS with throwaway certificates (openssl CLI) ──

interface Pki {
  readonly dir: string;
  readonly ca: string;
  readonly otherCa: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly clientKey: string;
  readonly clientCert: string;
}

let pki: Pki | undefined;

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for localhost / 127.0.0.1, a client certificate, and an unrelated CA. */
function makePki(): Pki {
  if (pki) return pki;
  const dir = mkdtempSync(join(tmpdir(), 'fieldcam-tls-'));
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, [
      'req',
      '-x509',
      ...key,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=fieldcam test ${ca}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  const leaf = (name: string, cn: string, ext: string, serial: string) => {
    writeFileSync(join(dir, `${name}.ext`), `${ext}\nbasicConstraints=CA:FALSE\n`);
    openssl(dir, ['req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      serial,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
  };
  leaf('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth', '0x51');
  leaf('client', 'fieldcam-device', 'extendedKeyUsage=clientAuth', '0x52');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  pki = {
    dir,
    ca: read('ca.pem'),
    otherCa: read('other-ca.pem'),
    serverKey: read('server.key'),
    serverCert: read('server.pem'),
    clientKey: read('client.key'),
    clientCert: read('client.pem'),
  };
  return pki;
}

test.after(() => {
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

/** A TLS server that greets, then echoes; it records client certificate subjects (mTLS). */
async function tlsServer(p: Pki, mutual: boolean): Promise<{ port: number; peers: string[]; close: () => Promise<void> }> {
  const peers: string[] = [];
  const server = createTlsServer(
    { key: p.serverKey, cert: p.serverCert, ...(mutual ? { requestCert: true, rejectUnauthorized: true, ca: p.ca } : {}) },
    (s: TLSSocket) => {
      s.on('error', () => {});
      const subject = s.getPeerCertificate()?.subject;
      if (subject?.CN) peers.push(String(subject.CN));
      s.write('hello over tls\n');
      s.pipe(s);
    },
  );
  server.on('tlsClientError', () => {});
  const port = await listen(server);
  return { port, peers, close: () => shut(server) };
}

test('TLS: the right CA verifies the server by IP SAN, and by DNS SAN through servername', async () => {
  const p = makePki();
  const srv = await tlsServer(p, false);
  try {
    for (const tls of [{ ca: p.ca }, { ca: p.ca, servername: 'localhost' }]) {
      const client: Client = new Client(srv.port, { tls, onConnect: () => client.socket.write(views(ascii('ping\n'))) });
      await client.until(() => client.text === 'hello over tls\nping\n', 'greeting and echo');
      assert.is(client.events[0], 'connect');
      client.socket.close();
    }
  } finally {
    await srv.close();
  }
});

test('TLS: a wrong CA fails verification as onClose(error), with no connect and no data', async () => {
  const p = makePki();
  const srv = await tlsServer(p, false);
  try {
    const client = new Client(srv.port, { tls: { ca: p.otherCa, servername: 'localhost' } });
    await client.until(() => client.closes > 0, 'onClose');
    assert.ok(client.closeError, 'an error');
    assert.ok(/certificate|self.signed|verify/i.test(client.closeError!.message), client.closeError!.message);
    assert.is((client.closeError as Error & { code?: string }).code, 'TLS_VERIFY', "the port's verification-failure code");
    assert.ok(!client.has('connect') && !client.has('readable'), client.events.join(', '));
    assert.is(client.closes, 1);
  } finally {
    await srv.close();
  }
});

test('TLS: a certificate for another name fails verification (no way to turn it off)', async () => {
  const p = makePki();
  const srv = await tlsServer(p, false);
  try {
    const client = new Client(srv.port, { tls: { ca: p.ca, servername: 'kinesisvideo.example' } });
    await client.until(() => client.closes > 0, 'onClose');
    assert.ok(/altnames|does not match/i.test(client.closeError!.message), client.closeError!.message);
    assert.is((client.closeError as Error & { code?: string }).code, 'TLS_VERIFY');
    assert.ok(!client.has('connect') && !client.has('readable'));
  } finally {
    await srv.close();
  }
});

test('TLS: mTLS presents the client certificate and key', async () => {
  const p = makePki();
  const srv = await tlsServer(p, true);
  try {
    const client = new Client(srv.port, { tls: { ca: p.ca, servername: 'localhost', cert: p.clientCert, key: p.clientKey } });
    await client.until(() => client.text.startsWith('hello over tls\n'), 'greeting');
    assert.equal(srv.peers, ['fieldcam-device']);
    client.socket.close();
    // Without a client certificate the server refuses: the connection closes without data.
    const anonymous = new Client(srv.port, { tls: { ca: p.ca, servername: 'localhost' } });
    await anonymous.until(() => anonymous.closes > 0, 'onClose');
    assert.ok(!anonymous.has('readable'), anonymous.events.join(', '));
  } finally {
    await srv.close();
  }
});

test.run();
