import { existsSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { FaultMode, FaultProxyStats } from './FaultProxy.ts';

export interface FaultNetnsOptions {
  /** The local cloud's port on 127.0.0.1 (its endpoint, GetDataEndpoint's answer). */
  readonly cloudPort: number;
  /** A private directory for the Unix sockets. */
  readonly dir: string;
  /** The repository root (where sim/faults/netnsDevice.ts and node_modules live). */
  readonly root: string;
}

export interface FaultNetnsStats extends FaultProxyStats {
  readonly mode: FaultMode;
  /** Connections open through the proxy now. */
  readonly open: number;
}

export interface FaultNetns {
  /** The command line that starts `command args` inside the namespace, behind the proxy (bootBoard `wrap`). */
  wrap(command: string, args: readonly string[]): { command: string; args: string[] };
  /** Changes the proxy's mode for the device running now; resolves with the proxy's counters. */
  setMode(mode: FaultMode): Promise<FaultNetnsStats>;
  /** The proxy's counters, without changing the mode. */
  stats(): Promise<FaultNetnsStats>;
  close(): Promise<void>;
}

/**
 * A device in its own network namespace (`unshare -n`, root) whose only route to the cloud is a FaultProxy
 * listening on the cloud's own address (sim/faults/netnsDevice.ts). Here, the test's side: the Unix socket that
 * carries the proxy's upstream connections to the cloud, and the control channel of the proxy.
 */
export async function startFaultNetns(o: FaultNetnsOptions): Promise<FaultNetns> {
  const upstream = join(o.dir, 'upstream.sock');
  const control = join(o.dir, 'control.sock');
  rmSync(upstream, { force: true });
  const forwarder: Server = createServer((hop) => {
    const cloud = connect({ host: '127.0.0.1', port: o.cloudPort });
    cloud.setNoDelay(true);
    hop.on('error', () => cloud.destroy());
    cloud.on('error', () => hop.destroy());
    hop.on('close', () => cloud.destroy());
    cloud.on('close', () => hop.destroy());
    hop.pipe(cloud);
    cloud.pipe(hop);
  });
  await new Promise<void>((done) => forwarder.listen(upstream, done));

  const ask = async (line: string): Promise<FaultNetnsStats> => {
    for (let i = 0; i < 200 && !existsSync(control); i++) await new Promise((r) => setTimeout(r, 25));
    return new Promise((resolve, reject) => {
      const s = connect({ path: control });
      let got = '';
      s.on('error', reject);
      s.on('data', (chunk: Buffer) => {
        got += chunk.toString('utf8');
        const nl = got.indexOf('\n');
        if (nl < 0) return;
        s.destroy();
        const answer = JSON.parse(got.slice(0, nl)) as FaultNetnsStats & { error?: string };
        if (answer.error) reject(new Error(answer.error));
        else resolve(answer);
      });
      s.write(`${line}\n`);
    });
  };

  return {
    wrap: (command, args) => ({
      command: 'unshare',
      args: [
        '-n',
        'sh',
        '-c',
        'ip link set lo up && exec "$0" "$@"',
        process.execPath,
        '--import',
        'tsx',
        join(o.root, 'sim', 'faults', 'netnsDevice.ts'),
        '--listen',
        `127.0.0.1:${o.cloudPort}`,
        '--upstream',
        upstream,
        '--control',
        control,
        '--',
        command,
        ...args,
      ],
    }),
    setMode: (mode) => ask(JSON.stringify(mode)),
    stats: () => ask(''),
    close: () => new Promise<void>((done) => forwarder.close(() => done())),
  };
}
