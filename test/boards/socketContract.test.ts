// One Socket contract, two adapters and the fake: the scenarios of socketContract.ts run over nodeSocket here and
// over the XS board's xsSocket inside fieldcam-runtime (x86_64), against the same local peers, and over the core
// suites' FakeSocket (test/harness/support.ts) with the same peers scripted on FakeTime; every transcript must
// equal the contract's.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket as NetSocket } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { nodeSocket } from '../../firmware/boards/node/nodeSocket.ts';
import { nodeTimers } from '../../firmware/boards/node/nodeTime.ts';
import type { SocketFactory } from '../../firmware/io/Socket.ts';
import { assert, suite } from '../harness/index.ts';
import { FakeSocket, FakeTime } from '../harness/support.ts';
import { runtime, scratch } from '../runtime/support.ts';
import { runSocketContract, SOCKET_CONTRACT_TRANSCRIPT, type ContractPeers } from './socketContract.ts';

const test = suite('Socket contract: nodeSocket, xsSocket and FakeSocket');
const servers: Server[] = [];
const clients = new Set<NetSocket>();

function listen(onConnection: (s: NetSocket) => void): Promise<number> {
  const server = createServer((s) => {
    clients.add(s);
    s.on('close', () => clients.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

async function peers(): Promise<ContractPeers> {
  const echo = await listen((s) => {
    let seen = 0;
    s.on('data', (d: Buffer) => {
      s.write(d);
      seen += d.length;
      if (seen >= 4) s.end();
    });
  });
  const chatter = await listen((s) => {
    const timer = setInterval(() => s.write('hello'), 10);
    s.on('close', () => clearInterval(timer));
  });
  const closedPort = await listen(() => {});
  const last = servers.pop()!;
  await new Promise<void>((resolve) => last.close(() => resolve()));
  return { echo, chatter, refused: closedPort };
}

test('nodeSocket keeps the contract', async () => {
  const p = await peers();
  const lines: string[] = [];
  await new Promise<void>((resolve) => runSocketContract(nodeSocket, nodeTimers, p, (l) => lines.push(l), resolve));
  assert.equal(lines, [...SOCKET_CONTRACT_TRANSCRIPT]);
});

test('xsSocket keeps the contract inside fieldcam-runtime', async () => {
  const p = await peers();
  const outfile = join(scratch, 'socketContract.js');
  await build({
    entryPoints: [join(import.meta.dirname, 'xs', 'socketContractMain.ts')],
    outfile,
    bundle: true,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    charset: 'ascii',
    logLevel: 'warning',
  });
  // The peers live in this process, so the runtime runs beside the event loop, not with spawnSync.
  const child = spawn(runtime('x86_64'), [outfile, String(p.echo), String(p.chatter), String(p.refused)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.is(code, 0, err);
  assert.equal(out.trim().split('\n'), [...SOCKET_CONTRACT_TRANSCRIPT, 'done']);
});

/** The contract's peers as scripts on FakeSocket: each answers 1 ms of fake time after the client acts. */
function fakePeers(time: FakeTime): { sockets: SocketFactory; peers: ContractPeers } {
  const peers: ContractPeers = { echo: 1, chatter: 2, refused: 3 };
  const sockets: SocketFactory = (options) => {
    const socket = new FakeSocket(options);
    if (options.port === peers.refused) {
      time.set(1, () => socket.end('connect ECONNREFUSED', 'ECONNREFUSED'));
      return socket;
    }
    time.set(1, () => {
      if (!socket.closed) options.onConnect();
    });
    if (options.port === peers.echo) {
      let echoed = 0;
      socket.onWrite = () =>
        time.set(1, () => {
          const all = socket.written();
          socket.deliver(all.slice(echoed));
          echoed = all.length;
          if (echoed >= 4) socket.end();
        });
    } else {
      const hello = new Uint8Array([0x68, 0x65, 0x6c, 0x6c, 0x6f]);
      // Like a real peer, it keeps talking for a while after the client closed; the socket must drop it.
      let left = 30;
      const chat = (): void => {
        socket.deliver(hello);
        if (--left > 0) time.set(10, chat);
      };
      time.set(10, chat);
    }
    return socket;
  };
  return { sockets, peers };
}

test('the fake (FakeSocket on FakeTime) keeps the contract', () => {
  const time = new FakeTime();
  const { sockets, peers } = fakePeers(time);
  const lines: string[] = [];
  let done = false;
  runSocketContract(
    sockets,
    time,
    peers,
    (l) => lines.push(l),
    () => (done = true),
  );
  for (let ms = 0; !done && ms < 10_000; ms += 10) time.advance(10);
  assert.ok(done, 'every scenario finished');
  assert.equal(lines, [...SOCKET_CONTRACT_TRANSCRIPT]);
});

test.after(async () => {
  for (const c of clients) c.destroy();
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

test.run();
