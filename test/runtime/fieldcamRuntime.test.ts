// fieldcam-runtime (firmware/runtime) on x86_64: the event loop and every native of
// firmware/boards/xs/native.ts, exercised by small scripts that call `native` directly, against real peers
// (node:net and node:tls servers in this process, node:crypto for digests, the kernel for CPU time).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket as NetSocket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { assert, suite } from '../harness/index.ts';
import { hashExpected, HASH_SCRIPT, runScript, scratch, testPki, TIMERS_EXPECTED, TIMERS_SCRIPT, TLS_CLIENT_SCRIPT, tlsServer } from './support.ts';

const test = suite('fieldcam-runtime: event loop and natives (x86_64)');

function listen(server: Server): Promise<number> {
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port)));
}

function shut(server: Server): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

test('timers fire in due order (creation order on ties), clearTimer cancels, jobs drain after each dispatch, then exit 0', async () => {
  const r = await runScript(TIMERS_SCRIPT);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines, [TIMERS_EXPECTED]);
});

test('the process exits 0 when nothing can happen: a signal watch alone keeps nothing alive', async () => {
  const r = await runScript('native.watchSignals(); native.openInput(0); native.print("idle " + native.argv[0]);', { stdin: 'pipe', args: ['-'] });
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines, ['idle -']);
});

test('now() is whole epoch milliseconds from CLOCK_REALTIME, as Date.now(); monotonic() never goes back', async () => {
  const before = Date.now();
  const r = await runScript(
    'const a = native.monotonic(), n = native.now(), b = native.monotonic(); native.print(Number.isInteger(n) + " " + n + " " + (b >= a));',
  );
  assert.is(r.status, 0, r.stderr);
  const [integer, now, ordered] = r.lines[0]!.split(' ');
  assert.is(integer, 'true');
  assert.ok(Number(now) >= before && Number(now) <= Date.now(), `${now} not within [${before}, ${Date.now()}]`);
  assert.is(ordered, 'true');
});

test('an exception escaping the dispatcher exits 1 and prints it; an unhandled rejection in a callback exits 5', async () => {
  const thrown = await runScript('native.setTimer(1); on[EVENT.TIMER] = () => { throw new RangeError("from a timer"); };');
  assert.is(thrown.status, 1, thrown.stderr);
  assert.ok(thrown.stderr.includes('uncaught exception: RangeError: from a timer'), thrown.stderr);
  const rejected = await runScript('native.setTimer(1); on[EVENT.TIMER] = () => { Promise.reject(new TypeError("nobody catches")); };');
  assert.is(rejected.status, 5, rejected.stderr);
  assert.ok(rejected.stderr.includes('unhandled promise rejection: TypeError: nobody catches'), rejected.stderr);
});

test('SIGTERM arrives as EVENT.SIGNAL; a second SIGINT exits at once with 130', async () => {
  const script = `
native.watchSignals();
const t = native.setTimer(20000);
on[EVENT.SIGNAL] = (signo, name) => { native.print('signal ' + signo + ' ' + name); if (native.argv[0] === 'stop') native.clearTimer(t); };
native.print('ready');`;
  const stopped = await runScript(script, {
    args: ['stop'],
    started: async (child, line) => {
      await line('ready');
      child.kill('SIGTERM');
    },
  });
  assert.is(stopped.status, 0, stopped.stderr);
  assert.equal(stopped.lines, ['ready', 'signal 15 SIGTERM']);
  const twice = await runScript(script, {
    args: ['ignore'],
    started: async (child, line) => {
      await line('ready');
      child.kill('SIGINT');
      await line('signal 2 SIGINT');
      child.kill('SIGINT');
    },
  });
  assert.is(twice.status, 130, twice.stderr);
  assert.equal(twice.lines, ['ready', 'signal 2 SIGINT']);
});

test('input from a pipe: watchInput/readInput read bytes as they trickle in, straight into one view; sha256 matches node:crypto', async () => {
  const script = `
native.openInput(0);
const big = new Uint8Array(1 << 20);
const out = new Uint8Array(32);
let total = 0, reads = 0, wouldBlock = 0;
on[EVENT.INPUT_READABLE] = (fd) => {
  for (;;) {
    const n = native.readInput(fd, big, total, big.length - total);
    if (n > 0) { total += n; reads++; continue; }
    if (n === 0) { native.sha256(big, 0, total, out, 0); native.print(total + ' ' + (reads > 1) + ' ' + (wouldBlock > 0) + ' ' + hex(out)); native.closeInput(fd); return; }
    wouldBlock++;
    native.watchInput(fd);
    return;
  }
};
native.watchInput(0);`;
  const sent: Buffer[] = [];
  const r = await runScript(script, {
    stdin: 'pipe',
    started: async (child) => {
      for (let i = 0; i < 8; i++) {
        const chunk = randomBytes(8192 + i);
        sent.push(chunk);
        child.stdin!.write(chunk);
        await sleep(25);
      }
      child.stdin!.end();
    },
  });
  assert.is(r.status, 0, r.stderr);
  const all = Buffer.concat(sent);
  assert.equal(r.lines, [`${all.length} true true ${createHash('sha256').update(all).digest('hex')}`]);
});

test('sha256 and hmacSha256 match node:crypto for keys of 0-200 bytes and data of 0-70000 bytes, at offsets; bad ranges throw', async () => {
  const r = await runScript(HASH_SCRIPT);
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines, hashExpected());
});

test('TCP: a gather write of ranges from several views arrives in order through an echo server', async () => {
  const server = createServer((s) => s.pipe(s));
  const port = await listen(server);
  try {
    const r = await runScript(`
const h = native.socketOpen('localhost', ${port});
const a = ascii('--head--'), b = ascii('0123456789'), buf = new Uint8Array(64);
let got = '';
on[EVENT.SOCKET_CONNECT] = () => native.print('writable ' + native.socketWrite(h, [a, b, a, b], new Uint32Array([2, 0, 0, 9]), new Uint32Array([4, 10, 2, 1]), 4));
on[EVENT.SOCKET_READABLE] = (_, held) => {
  got += text(buf, native.socketRead(h, buf, 0, buf.length));
  if (got.length === 17) { native.print(got); native.socketClose(h); }
};`);
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.lines, ['writable 65536', 'head0123456789--9']);
  } finally {
    await shut(server);
  }
});

// socketWriteChunk (the uploader's per-frame write): the same writes framed in C as HTTP chunks, through the same
// partial sends and queue, the size line and CRLF included (net.c's head and tail ranges).
for (const [mode, write] of [
  ['TCP', 'gather'],
  ['TLS', 'gather'],
  ['TCP', 'chunk'],
  ['TLS', 'chunk'],
] as const) {
  const how = write === 'chunk' ? ' with socketWriteChunk' : '';
  test(`${mode} backpressure${how}: 16 MiB to a slow reader; writes report <= 0, SOCKET_WRITABLE follows, every byte arrives intact`, async () => {
    const block = Buffer.alloc(65536);
    for (let i = 0; i < block.length; i++) block[i] = (i * 13 + (i >> 9)) & 255;
    const wire = write === 'chunk' ? Buffer.concat([Buffer.from('10000\r\n'), block, Buffer.from('\r\n')]) : block;
    const total = 256 * wire.length;
    const expected = createHash('sha256');
    for (let k = 0; k < 256; k++) expected.update(wire);
    const p = await testPki();
    const sink = (s: NetSocket) => {
      const hash = createHash('sha256');
      let received = 0;
      s.pause();
      setTimeout(() => s.resume(), 300); // the reader is late: the client's queue must fill up
      s.on('data', (d: Buffer) => {
        hash.update(d);
        received += d.length;
        if (received === total) s.write(`done ${hash.digest('hex')}\n`);
      });
      s.on('error', () => {});
    };
    const server = mode === 'TLS' ? createTlsServer({ key: p.serverKey, cert: p.serverCert }, sink) : createServer(sink);
    const port = await listen(server);
    try {
      const r = await runScript(
        `
const total = ${total};
const block = new Uint8Array(65536);
for (let i = 0; i < block.length; i++) block[i] = (i * 13 + (i >> 9)) & 255;
const sources = [block, block], offsets = new Uint32Array([0, 20000]), lengths = new Uint32Array([20000, 45536]);
const h = native.argv[0] === 'TLS' ? native.socketOpen('127.0.0.1', ${port}, { ca: native.argv[1] }) : native.socketOpen('127.0.0.1', ${port});
let sent = 0, blocked = 0, writableEvents = 0, reply = '';
const buf = new Uint8Array(256);
function pump() {
  while (sent < total) {
    const room = native.argv[2] === 'chunk' ? native.socketWriteChunk(h, sources, offsets, lengths, 2) : native.socketWrite(h, sources, offsets, lengths, 2);
    sent += ${wire.length};
    if (room <= 0) { blocked++; return; }
  }
}
on[EVENT.SOCKET_CONNECT] = pump;
on[EVENT.SOCKET_WRITABLE] = (_, room) => { writableEvents++; if (room <= 0) native.print('bad room ' + room); pump(); };
on[EVENT.SOCKET_READABLE] = () => {
  reply += text(buf, native.socketRead(h, buf, 0, buf.length));
  if (reply.endsWith('\\n')) { native.print(reply.trim()); native.print('blocked ' + (blocked > 0) + ' ' + (writableEvents === blocked)); native.socketClose(h); }
};
on[EVENT.SOCKET_CLOSE] = (_, value) => native.print('close ' + value);`,
        { args: [mode, p.ca, write] },
      );
      assert.is(r.status, 0, r.stderr);
      assert.equal(r.lines, [`done ${expected.digest('hex')}`, 'blocked true true']);
    } finally {
      await shut(server);
    }
  });
}

// A name under .invalid never resolves (RFC 6761 §6.4): NET_DNS_FAILED (EAI_NONAME with a resolver, EAI_AGAIN
// without a network, named after the code).
test('TCP errors arrive as SOCKET_CLOSE: ECONNREFUSED, NET_DNS_FAILED for a name that does not resolve, ECONNRESET mid-transfer; orderly EOF is undefined', async () => {
  const closed = createServer();
  const refusedPort = await listen(closed);
  await shut(closed);
  const resetter = createServer((s: NetSocket) => {
    s.on('error', () => {});
    s.write(Buffer.alloc(1000, 0x61));
    setTimeout(() => s.resetAndDestroy(), 100);
  });
  const resetPort = await listen(resetter);
  const ender = createServer((s: NetSocket) => s.end('bye'));
  const endPort = await listen(ender);
  try {
    const r = await runScript(`
const names = {};
names[native.socketOpen('127.0.0.1', ${refusedPort})] = 'refused';
names[native.socketOpen('no-such-host.invalid', 80)] = 'dns';
names[native.socketOpen('127.0.0.1', ${resetPort})] = 'reset';
names[native.socketOpen('127.0.0.1', ${endPort})] = 'end';
const buf = new Uint8Array(4096), held = {};
on[EVENT.SOCKET_READABLE] = (h, n) => { held[h] = n; };
on[EVENT.SOCKET_CLOSE] = (h, value) => {
  const n = held[h] ? native.socketRead(h, buf, 0, buf.length) : 0;
  const code = value === undefined ? 'undefined' : value.split(':')[0];
  native.print(names[h] + ' ' + n + ' ' + code);
  try { native.socketWrite(h, [buf], new Uint32Array([0]), new Uint32Array([1]), 1); } catch (e) { native.print(names[h] + ' write throws ' + e.message.split(':')[0]); }
  native.socketClose(h);
};`);
    assert.is(r.status, 0, r.stderr);
    assert.equal([...r.lines].sort(), [
      'dns 0 NET_DNS_FAILED',
      'dns write throws EPIPE',
      'end 3 undefined',
      'end write throws EPIPE',
      'refused 0 ECONNREFUSED',
      'refused write throws EPIPE',
      'reset 1000 ECONNRESET',
      'reset write throws EPIPE',
    ]);
  } finally {
    await shut(resetter);
    await shut(ender);
  }
});

test('TLS: the right CA verifies the server by IP SAN (no SNI) and by DNS name (SNI); mTLS presents the client certificate', async () => {
  const p = await testPki();
  const open = await tlsServer(p, false);
  const mutual = await tlsServer(p, true);
  try {
    const cases: [string, number, object, string][] = [
      ['127.0.0.1', open.port, { ca: p.ca }, 'pong sni=- client=-'],
      ['localhost', open.port, { ca: p.ca }, 'pong sni=localhost client=-'],
      ['127.0.0.1', open.port, { ca: p.ca, servername: 'localhost' }, 'pong sni=localhost client=-'],
      ['127.0.0.1', mutual.port, { ca: p.ca, cert: p.clientCert, key: p.clientKey }, 'pong sni=- client=fieldcam-test-device'],
    ];
    for (const [host, port, options, reply] of cases) {
      const r = await runScript(TLS_CLIENT_SCRIPT, { args: [host, String(port), JSON.stringify(options)] });
      assert.is(r.status, 0, r.stderr);
      assert.equal(r.lines, ['connect', reply], `${host} ${JSON.stringify(Object.keys(options))}`);
    }
  } finally {
    await open.close();
    await mutual.close();
  }
});

test('TLS: a wrong CA, a name the certificate does not hold, or a missing client certificate end in SOCKET_CLOSE, never SOCKET_CONNECT', async () => {
  const p = await testPki();
  const open = await tlsServer(p, false);
  const mutual = await tlsServer(p, true);
  try {
    const cases: [number, string, object, RegExp][] = [
      [open.port, '127.0.0.1', { ca: p.otherCa }, /^close TLS_VERIFY: .*not correctly signed by the trusted CA/],
      [open.port, '127.0.0.1', { ca: p.ca, servername: 'camera.example.com' }, /^close TLS_VERIFY: .*Common Name/],
      [open.port, '127.0.0.1', { ca: p.ca, servername: '127.0.0.2' }, /^close TLS_VERIFY: .*Common Name/],
      [mutual.port, '127.0.0.1', { ca: p.ca }, /^close (TLS|ECONNRESET|EPIPE): /], // the server aborts the handshake
    ];
    for (const [port, host, options, expected] of cases) {
      const r = await runScript(TLS_CLIENT_SCRIPT, { args: [host, String(port), JSON.stringify(options)] });
      assert.is(r.status, 0, r.stderr);
      assert.is(r.lines.length, 1, r.stdout);
      assert.ok(expected.test(r.lines[0]!), r.lines[0]);
    }
    const bad = await runScript(
      `
for (const tls of [{}, { ca: 'not a pem' }, { ca: native.argv[0], cert: native.argv[0] }]) {
  try { native.socketOpen('127.0.0.1', 1, tls); native.print('opened'); } catch (e) { native.print(e.name + ' ' + e.message.split(':')[0]); }
}`,
      { args: [p.ca] },
    );
    assert.is(bad.status, 0, bad.stderr);
    assert.equal(bad.lines, ['TypeError socketOpen', 'Error TLS_CA', 'TypeError socketOpen']);
  } finally {
    await open.close();
    await mutual.close();
  }
});

test('writeFileAtomic replaces a file whole, keeps its mode (new files 0600), leaves no temporary file; errors name errno and path', async () => {
  const dir = join(scratch, 'files');
  execFileSync('mkdir', ['-p', dir]);
  const kept = join(dir, 'kept.cbor');
  writeFileSync(kept, 'old contents that are longer');
  chmodSync(kept, 0o640);
  const r = await runScript(
    `
const [dir] = native.argv;
const data = ascii('xxhello worldxx');
native.writeFileAtomic(dir + '/new.cbor', data, 2, 11);
native.writeFileAtomic(dir + '/kept.cbor', data, 8, 5);
try { native.writeFileAtomic(dir + '/missing/x', data, 0, 1); } catch (e) { native.print(e.message); }
try { native.writeFileAtomic(dir + '/y', data, 10, 10); } catch (e) { native.print(e.name); }`,
    { args: [dir] },
  );
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines, [`ENOENT: ${dir}/missing/x: No such file or directory`, 'RangeError']);
  assert.is(readFileSync(join(dir, 'new.cbor'), 'utf8'), 'hello world');
  assert.is(statSync(join(dir, 'new.cbor')).mode & 0o777, 0o600);
  assert.is(readFileSync(kept, 'utf8'), 'world');
  assert.is(statSync(kept).mode & 0o777, 0o640);
  assert.equal(readdirSync(dir).sort(), ['kept.cbor', 'new.cbor']);
});

test('memory flags set the budget: memory() reports it, argv follows the bundle, and the limit ends the machine with OUT_OF_MEMORY, exit 6', async () => {
  const r = await runScript(
    `
const m = native.memory();
native.print(native.argv.join(' ') + ' ' + m.limitBytes + ' ' + (m.heapBytes > 0 && m.heapBytes <= m.peakBytes && m.peakBytes <= m.limitBytes));
const hold = [];
for (;;) hold.push(new ArrayBuffer(65536));`,
    { flags: ['--heap-limit', '12000000', '--initial-chunk', '1048576', '--initial-slots', '8192', '--stack-slots', '4096'], args: ['a', '--b'] },
  );
  assert.is(r.status, 6, r.stderr);
  assert.equal(r.lines, ['a --b 12000000 true']);
  assert.is(r.stderr, 'fieldcam-runtime: OUT_OF_MEMORY: the JS heap reached its limit of 12000000 bytes (raise memory.jsBudgetBytes in the board manifest)\n');
  const usage = await runScript('', { flags: ['--heap-limit', 'lots'] });
  assert.is(usage.status, 2);
  assert.ok(usage.stderr.includes('usage: '), usage.stderr);
});

test('the bundle is parsed from its file, not copied into the JS heap: a 4 MiB bundle runs under a 2 MiB heap limit', async () => {
  // Its text (a comment here, bytecode-free) would not fit the limit if it became a JS string (the old indirect
  // eval); on esp32-cam that copy was 0.5 MiB of its 1.5 MiB.
  const text = 4 * 1024 * 1024;
  const r = await runScript(
    `/*${'x'.repeat(text)}*/
const m = native.memory();
native.print(String(m.peakBytes < ${text} / 4));`,
    { flags: ['--heap-limit', String(2 * 1024 * 1024), '--initial-chunk', '262144', '--initial-slots', '4096', '--stack-slots', '1024'] },
  );
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines, ['true']);
});

test('an idle loop sleeps in poll(): a 1.5 s timer costs < 0.05 s of CPU time (kernel accounting, /proc/<pid>/stat)', async () => {
  const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  let cpuSeconds = -1;
  const r = await runScript('native.setTimer(1500); on[EVENT.TIMER] = () => native.print("fired"); native.print("armed");', {
    started: async (child, line) => {
      await line('armed');
      await sleep(1300);
      // Fields after the command name: state is field 3, utime 14 and stime 15 (proc(5)).
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ');
      cpuSeconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
    },
  });
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.lines, ['armed', 'fired']);
  assert.ok(cpuSeconds >= 0 && cpuSeconds < 0.05, `CPU seconds while idle: ${cpuSeconds}`);
});

test.run();
