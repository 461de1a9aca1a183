// Helpers of the control-channel CLI suites (Node only): the local cloud in this process (IoT control plane
// and its MQTT broker: mTLS for devices, WSS + SigV4 for operators), cameras provisioned by `fieldcam
// provision` itself, and `fieldcam` run as an asynchronous child process (the in-process cloud must keep
// answering), with line-by-line waits for long-running commands such as `watch`.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';
import { tempDir } from '../../e2e/tools.ts';
import { startCloud, type RunningCloud } from '../../../sim/cloud/startCloud.ts';
import { cliEnv } from '../provision/provisionKit.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');

export { tempDir } from '../../e2e/tools.ts';

export function startLocalCloud(stateDir: string): Promise<RunningCloud> {
  return startCloud({ stateDir, port: 0, mqttPort: 0 });
}

/** A local cloud (its state in a folder of its own) with `count` things made by `fieldcam provision` (cam-001, …) in `work`. */
export interface ProvisionedCloud {
  readonly cloud: RunningCloud;
  readonly work: { readonly dir: string };
  /** `--endpoint-url <the cloud>`, for every CLI call. */
  readonly url: readonly string[];
  /** Stops the cloud and removes both folders. */
  close(): Promise<void>;
}

export async function provisionedCloud(prefix: string, count: number): Promise<ProvisionedCloud> {
  const state = tempDir(`${prefix}-state-`);
  const work = tempDir(`${prefix}-`);
  const cloud = await startLocalCloud(state.dir);
  const url = ['--endpoint-url', cloud.endpoint];
  const provisioned = await cli(cloud, work.dir, ['provision', '--count', String(count), '--prefix', 'cam-', ...url]);
  if (provisioned.status !== 0) throw new Error(`provision failed: ${provisioned.stderr}`);
  return {
    cloud,
    work,
    url,
    close: async () => {
      await cloud.close();
      state.remove();
      work.remove();
    },
  };
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running `fieldcam …` child. */
export interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line matching, or rejects when the child exits first. */
  line(pattern: RegExp): Promise<string>;
  readonly done: Promise<Run>;
}

/** `fieldcam <args>` against the local cloud with the example keys; killed if still running after 60 s. */
export function start(cloud: RunningCloud, cwd: string, args: readonly string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [join(ROOT, 'host', 'cli', 'bin.mjs'), ...args], { cwd, env: cliEnv(cloud, cwd, env) });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<{ pattern: RegExp; done: (line: string) => void; fail: (err: Error) => void }>();
  const scan = (): void => {
    for (const w of waiters) {
      const line = stdout.split('\n').find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.delete(w);
        w.done(line);
      }
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    scan();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<Run>((finish) => {
    child.on('close', (status) => {
      clearTimeout(killer);
      for (const w of waiters) w.fail(new Error(`fieldcam ${args.join(' ')} exited (${String(status)}) before printing ${w.pattern}:\n${stdout}\n${stderr}`));
      waiters.clear();
      finish({ status, stdout, stderr });
    });
  });
  return {
    process: child,
    done,
    line: (pattern) =>
      new Promise((resolveLine, fail) => {
        waiters.add({ pattern, done: resolveLine, fail });
        scan();
      }),
  };
}

export function cli(cloud: RunningCloud, cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return start(cloud, cwd, args, env).done;
}
