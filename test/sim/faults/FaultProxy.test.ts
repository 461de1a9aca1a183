// The fault proxy against a real TCP echo peer: pass forwards both ways, stall accepts and forwards nothing
// (and a stalled connection stays dead when the mode returns to pass), throttle holds bytes back and releases
// them all, reset sends a TCP RST to the device side of open and new connections.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { startFaultProxy } from '../../../sim/faults/FaultProxy.ts';
import { assert, suite } from '../../harness/index.ts';

const test = suite('sim/faults: FaultProxy');

async function echoServer(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

function client(port: number) {
  const s = connect({ host: '127.0.0.1', port });
  const state = { received: 0, error: undefined as (Error & { code?: string }) | undefined, closed: false, connected: false };
  s.on('connect', () => (state.connected = true));
  s.on('data', (d: Buffer) => (state.received += d.length));
  s.on('error', (e) => (state.error = e));
  s.on('close', () => (state.closed = true));
  return { s, state };
}

const until = async (cond: () => boolean, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
};
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('pass, stall (dead for good), throttle, reset', async () => {
  const echo = await echoServer();
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echo.port } });
  try {
    const a = client(proxy.port);
    a.s.write(Buffer.alloc(1000, 1));
    await until(() => a.state.received === 1000, 'pass: echoed through the proxy');

    proxy.setMode({ kind: 'stall' });
    a.s.write(Buffer.alloc(1000, 2));
    const b = client(proxy.port);
    await until(() => b.state.connected, 'stall: a new connection is still accepted');
    b.s.write(Buffer.alloc(10, 3));
    await pause(200);
    assert.is(a.state.received, 1000, 'nothing forwarded on the stalled connection');
    assert.is(b.state.received, 0, 'nothing forwarded on the new one');
    proxy.setMode({ kind: 'pass' });
    a.s.write(Buffer.alloc(10, 4));
    await pause(200);
    assert.is(a.state.received, 1000, 'a stalled connection stays dead');
    assert.ok(!a.state.closed, '… and open: the device must give up by itself');

    const c = client(proxy.port);
    proxy.setMode({ kind: 'throttle', bytesPerSecond: 20_000 });
    c.s.write(Buffer.alloc(10_000, 5));
    await pause(100);
    assert.ok(c.state.received < 10_000, `throttle holds bytes back (${c.state.received} of 10000 after a moment)`);
    await until(() => c.state.received === 10_000, 'throttle releases every byte', 5000);

    proxy.setMode({ kind: 'reset' });
    await until(() => c.state.closed, 'reset: open connections end');
    assert.is(c.state.error?.code, 'ECONNRESET');
    const d = client(proxy.port);
    await until(() => d.state.closed, 'reset: new connections end');
    assert.ok(proxy.stats.reset >= 2 && proxy.stats.stalled >= 2 && proxy.stats.accepted === 4, JSON.stringify(proxy.stats));
    for (const x of [a, b, c, d]) x.s.destroy();
  } finally {
    await proxy.close();
    for (const s of echo.sockets) s.destroy();
    await new Promise<void>((done) => echo.server.close(() => done()));
  }
});

test.run();
