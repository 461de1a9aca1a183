// Issue 11, item 2, at the runtime's level: a name lookup never stops the event loop. Each script runs in a
// mount namespace whose /etc/resolv.conf names a nameserver of ours on 127.0.0.x (sim/faults): black-holed
// (reads every query, answers none, as behind a dead link) or answering A records. Natively and as the
// pi-zero-w runs, under `qemu-arm -cpu arm1176` (the static armv6 build: glibc's resolver without shared NSS).
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { namespaceCommand, resolvConfFor } from '../../sim/faults/namespaceCommand.ts';
import { startNameserver, type Nameserver } from '../../sim/faults/startNameserver.ts';
import { assert, suite } from '../harness/index.ts';
import { runScript, scratch, type Arch } from './support.ts';

const test = suite('fieldcam-runtime: name resolution off the loop (black-holed and answering nameserver, x86_64 and armv6 under QEMU)');
const dir = mkdtempSync(join(scratch, 'namespace-'));
const NAME = 'cam.fieldcam.test';
let nameserver: Nameserver;
let server: Server;
let port: number;

/** Runs the script with `resolvConf` as its /etc/resolv.conf. */
const inNamespace = (resolvConf: string) => (command: string, args: string[]) => namespaceCommand({ dir, resolvConf }, command, args);

test.before(async () => {
  // the nameserver and a TCP server on 127.0.0.1
  nameserver = await startNameserver();
  server = createServer((s) => s.on('error', () => undefined).end());
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as { port: number }).port;
});

// A timer every TICK device-ms records the longest gap between its firings while a socket waits for a
// black-holed name (glibc's defaults: 5 s × 2 attempts before it gives up). Before the fix getaddrinfo ran
// inside socketOpen: no tick for the whole 10 s and an EAI_AGAIN at the end.
const TICKING = (tick: number) => `
let ticks = 0, last = native.monotonic(), gap = 0, t0 = last;
on[EVENT.TIMER] = () => { const now = native.monotonic(); gap = Math.max(gap, now - last); last = now; ticks++; native.setTimer(${tick}); };
native.setTimer(${tick});
on[EVENT.SOCKET_CLOSE] = (h, message) => {
  native.print(JSON.stringify({ code: String(message).split(':')[0], message, ticks, gap, elapsed: native.monotonic() - t0 }));
  native.exit(0);
};
native.socketOpen('${NAME}', ${80});`;

for (const [arch, scale, tick, timeoutMs] of [
  ['x86_64', 1, 50, 2000],
  ['armv6', 10, 200, 20000],
] as const) {
  test(`${arch}${scale > 1 ? ` at --time-scale ${scale}` : ''}: a black-holed lookup → NET_DNS_TIMEOUT after --dns-timeout ${timeoutMs} ms; timers kept firing every ${tick} ms meanwhile`, async () => {
    nameserver.blackhole();
    const flags = [...(scale > 1 ? ['--time-scale', String(scale)] : []), '--dns-timeout', String(timeoutMs)];
    const r = await runScript(TICKING(tick), { arch: arch as Arch, flags, wrap: inNamespace(resolvConfFor(nameserver.address)), timeoutMs: 40_000 });
    assert.is(r.status, 0, r.stderr);
    const out = JSON.parse(r.lines.at(-1)!) as { code: string; message: string; ticks: number; gap: number; elapsed: number };
    assert.is(out.code, 'NET_DNS_TIMEOUT', out.message);
    assert.ok(out.message.includes(NAME), out.message);
    assert.ok(nameserver.queries.includes(NAME), 'the name went to the namespace’s nameserver');
    // Device time: the deadline is the runtime's (scaled) time, and the loop never stopped for the lookup:
    // no gap between ticks came near the deadline (a blocked loop shows one gap as long as the lookup).
    assert.ok(out.elapsed >= timeoutMs, `deadline ${timeoutMs} ms, closed after ${out.elapsed} ms`);
    assert.ok(out.gap < timeoutMs / 4, `longest gap between ${tick} ms ticks: ${out.gap} ms (of ${out.elapsed} ms)`);
    assert.ok(out.ticks >= timeoutMs / tick / 2, `${out.ticks} ticks in ${out.elapsed} ms`);
  });
}

for (const arch of ['x86_64', 'armv6'] as const) {
  test(`${arch}: an answered name connects; the answer is held (a second socket connects while the nameserver is black-holed); NXDOMAIN → NET_DNS_FAILED`, async () => {
    nameserver.answer({ [NAME]: '127.0.0.1' });
    const script = `
native.openInput(0);
on[EVENT.SOCKET_CONNECT] = (h) => { native.print('connected ' + h); native.socketClose(h); };
on[EVENT.SOCKET_CLOSE] = (h, message) => { native.print('closed ' + h + ' ' + String(message).split(':')[0]); native.socketClose(h); };
on[EVENT.INPUT_READABLE] = (fd) => {
  const b = new Uint8Array(16);
  if (native.readInput(fd, b, 0, 16) <= 0) { native.closeInput(fd); return; }
  native.socketOpen('${NAME.toUpperCase()}', ${port});
  native.socketOpen('nope.fieldcam.test', ${port});
  native.closeInput(fd);
};
native.watchInput(0);
native.socketOpen('${NAME}', ${port});`;
    const r = await runScript(script, {
      arch,
      stdin: 'pipe',
      flags: ['--dns-timeout', '3000'],
      wrap: inNamespace(resolvConfFor(nameserver.address, 'timeout:1 attempts:1')),
      timeoutMs: 40_000,
      started: async (child, line) => {
        await line('connected 1');
        nameserver.answer({}); // from now on every name is NXDOMAIN: only the held answer can connect the same name
        child.stdin!.write('go');
      },
    });
    assert.is(r.status, 0, r.stderr);
    assert.equal([...r.lines].sort(), ['closed 3 NET_DNS_FAILED', 'connected 1', 'connected 2']);
  });

  test(`${arch}: sockets closed while their lookup hangs: one lookup for twenty opens, no event after close, the loop ends cleanly`, async () => {
    nameserver.blackhole();
    const name = `closed-${arch}.fieldcam.test`;
    const script = `
on[EVENT.SOCKET_CLOSE] = (h, message) => native.print('event for closed socket ' + h + ' ' + message);
for (let i = 0; i < 20; i++) native.socketClose(native.socketOpen('${name}', 80));
let ticks = 0;
on[EVENT.TIMER] = () => { if (++ticks < 30) native.setTimer(100); else native.print('survived ' + ticks); };
native.setTimer(100);`;
    // glibc gives up after 1 s here, within the script's 3 s: the finished lookup finds no socket waiting.
    const r = await runScript(script, { arch, wrap: inNamespace(resolvConfFor(nameserver.address, 'timeout:1 attempts:1')), timeoutMs: 40_000 });
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.lines, ['survived 30']);
    const asked = nameserver.queries.filter((q) => q === name).length;
    assert.ok(asked >= 1 && asked <= 2, `one lookup (A, maybe AAAA) for 20 sockets: ${asked} queries`);
  });
}

for (const arch of ['x86_64', 'armv6'] as const) {
  test(`${arch}: a name in the namespace's /etc/hosts connects while the nameserver is black-holed (glibc's files module, static on armv6)`, async () => {
    nameserver.blackhole();
    const name = `hosts-${arch}.fieldcam.test`;
    const script = `
on[EVENT.SOCKET_CONNECT] = (h) => { native.print('connected'); native.socketClose(h); };
on[EVENT.SOCKET_CLOSE] = (h, message) => { native.print('closed ' + message); native.socketClose(h); };
native.socketOpen('${name}', ${port});`;
    const wrap = (command: string, args: string[]) =>
      namespaceCommand({ dir, resolvConf: resolvConfFor(nameserver.address), hosts: `127.0.0.1 localhost\n127.0.0.1 ${name}\n` }, command, args);
    const r = await runScript(script, { arch, flags: ['--dns-timeout', '3000'], wrap, timeoutMs: 40_000 });
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.lines, ['connected']);
    assert.ok(!nameserver.queries.includes(name), 'answered from /etc/hosts, not DNS');
  });
}

test.after(async () => {
  await nameserver.close();
  await new Promise<void>((done) => server.close(() => done()));
});

test.run();
