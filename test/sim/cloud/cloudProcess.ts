// The local cloud in a child process (Node only), for the suites that attack it: a crash is then an exit of
// the child with its stderr, not the end of the test runner, and the child's memory (RSS from
// /proc/<pid>/status) is its own. The child runs with a raised file-descriptor limit (`ulimit -n`), so a
// thousand held connections fit. `view` has the fields of RunningCloud the SDK and MQTT helpers read.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CloudConfig } from '../../../sim/cloud/types.ts';
import type { ConnectionTimeouts } from '../../../sim/cloud/connectionTimeouts.ts';
import type { RunningCloud } from '../../../sim/cloud/startCloud.ts';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const MAIN = join(import.meta.dirname, 'cloudProcessMain.ts');

export interface CloudProcess {
  readonly pid: number;
  /** endpoint, credentialsEndpoint, caPem, caFile, ctx.config.{region, accountId}, mqtt.{port, endpoint}: nothing else. */
  readonly view: RunningCloud;
  /** Events the cloud logged so far. */
  readonly events: { readonly event: string; readonly fields: Record<string, unknown> }[];
  readonly stderr: () => string;
  /** The exit code or signal once the child has exited; undefined while it runs. */
  exited(): string | undefined;
  /** Resident set size of the child in KiB (VmRSS). */
  rssKiB(): number;
  /** SIGTERM and wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

interface Ready {
  pid: number;
  endpoint: string;
  credentialsEndpoint: string;
  caFile: string;
  mqttPort: number;
  region: string;
  accountId: string;
}

export async function startCloudProcess(
  stateDir: string,
  options: { config?: Partial<CloudConfig>; connectionTimeouts?: Partial<ConnectionTimeouts>; fdLimit?: number } = {},
): Promise<CloudProcess> {
  const args = [
    process.execPath,
    '--import',
    'tsx',
    MAIN,
    JSON.stringify({ stateDir, config: options.config ?? {}, connectionTimeouts: options.connectionTimeouts ?? {} }),
  ];
  const child: ChildProcess = spawn('sh', ['-c', `ulimit -n ${options.fdLimit ?? 4096} && exec "$@"`, 'sh', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: { event: string; fields: Record<string, unknown> }[] = [];
  let stderr = '';
  let exit: string | undefined;
  const exitPromise = new Promise<void>((done) =>
    child.on('exit', (code, signal) => {
      exit = signal ?? String(code);
      done();
    }),
  );
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let pending = '';
  const ready = await new Promise<Ready>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`cloud child not ready after 60 s; stderr: ${stderr}`)), 60_000);
    void exitPromise.then(() => {
      clearTimeout(timer);
      fail(new Error(`cloud child exited (${exit}) before it was ready; stderr: ${stderr}`));
    });
    child.stdout!.on('data', (c: Buffer) => {
      pending += c.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const parsed = JSON.parse(line) as { ready?: Ready; event?: string; fields?: Record<string, unknown> };
        if (parsed.ready) {
          clearTimeout(timer);
          done(parsed.ready);
        } else if (parsed.event) {
          events.push({ event: parsed.event, fields: parsed.fields ?? {} });
        }
      }
    });
  });
  const caPem = readFileSync(ready.caFile, 'utf8');
  const mqttEndpoint = `127.0.0.1:${ready.mqttPort}`;
  const view = {
    endpoint: ready.endpoint,
    credentialsEndpoint: ready.credentialsEndpoint,
    caPem,
    caFile: ready.caFile,
    ctx: { config: { region: ready.region, accountId: ready.accountId } },
    mqtt: { port: ready.mqttPort, endpoint: mqttEndpoint },
  } as unknown as RunningCloud;
  return {
    pid: ready.pid,
    view,
    events,
    stderr: () => stderr,
    exited: () => exit,
    rssKiB() {
      const status = readFileSync(`/proc/${ready.pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN);
    },
    async stop() {
      if (exit !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
