// The inside of a fault network namespace (sim/faults/faultNetns.ts): started by
//
//   unshare -n sh -c 'ip link set lo up && exec node --import tsx sim/faults/netnsDevice.ts \
//       --listen 127.0.0.1:<cloud port> --upstream <unix socket> --control <unix socket> -- <device command…>'
//
// it runs a FaultProxy on the cloud's own address inside the namespace — the device dials exactly the
// addresses the cloud hands out (GetDataEndpoint answers https://127.0.0.1:<port>) — whose upstream is a Unix
// socket (Unix sockets cross network namespaces) the test process forwards to the cloud. The proxy is the
// device's TCP peer, so a stall, a throttle or a reset is what a real path does to it (RST included); TLS stays
// end to end with the cloud. The control socket takes one JSON FaultMode per line and answers the stats.
//
// The device is this process's child with the same stdio (camera on stdin, JSON lines on stdout); SIGTERM and
// SIGINT are forwarded, and this process exits with the device's exit code (128 + signal when it was killed).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { startFaultProxy, type FaultMode } from './FaultProxy.ts';

function option(own: readonly string[], name: string): string {
  const i = own.indexOf(name);
  if (i < 0 || i + 1 >= own.length) throw new Error(`netnsDevice: ${name} is required`);
  return own[i + 1]!;
}

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = Object.freeze({ SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGBUS: 7, SIGABRT: 6 });

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
if (dash < 0 || dash + 1 >= argv.length) throw new Error('netnsDevice: the device command follows --');
const own = argv.slice(0, dash);
const command = argv.slice(dash + 1);
const [host, port] = option(own, '--listen').split(':');
const controlPath = option(own, '--control');

const proxy = await startFaultProxy({ listen: { host: host!, port: Number(port) }, target: { path: option(own, '--upstream') } });
rmSync(controlPath, { force: true });
const control = createServer((s) => {
  let pending = '';
  s.on('error', () => {});
  s.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        if (line.trim() !== '') proxy.setMode(JSON.parse(line) as FaultMode);
        s.write(`${JSON.stringify({ mode: proxy.mode, open: proxy.open, ...proxy.stats })}\n`);
      } catch (err) {
        s.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
      }
    }
  });
});
await new Promise<void>((done) => control.listen(controlPath, done));
const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  rmSync(controlPath, { force: true });
  process.exit(code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 0) : 0));
});
