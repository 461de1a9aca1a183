// Debian's mosquitto (toolchain/setup installs it) as a second broker and as a second set of clients:
// a broker started per test with a generated configuration (TLS listener on 127.0.0.1, client certificates
// required and used as the identity, persistence in a temporary directory), stopped on every path, and the
// mosquitto_pub / mosquitto_sub command-line clients run as child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
export const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';

/** The binaries, or a message saying how to get them (the suite fails with it: never skipped silently). */
export function missingMosquitto(): string | undefined {
  const missing = [MOSQUITTO, MOSQUITTO_PUB, MOSQUITTO_SUB].filter((p) => !existsSync(p));
  return missing.length ? `${missing.join(', ')} not installed: run toolchain/setup (Debian packages mosquitto, mosquitto-clients)` : undefined;
}

/** A TCP port the kernel handed out a moment ago and that is free again. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  return typeof address === 'object' && address ? address.port : 0;
}

export interface MosquittoFiles {
  readonly dir: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface RunningMosquitto {
  readonly port: number;
  /** Everything mosquitto logged (stderr), for failure messages. */
  log(): string;
  /** Resolves when mosquitto's log matches `pattern` (already, or from a later line). */
  waitForLog(pattern: RegExp): Promise<void>;
  /** SIGTERM (mosquitto then saves its persistence database) and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts mosquitto on `port` with the configuration fieldcam's interop needs; resolves once it logs that it
 * is running (an observed event, not a delay). The persistence database lives in `files.dir`.
 */
export function startMosquitto(files: MosquittoFiles, port: number): Promise<RunningMosquitto> {
  const conf = join(files.dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      `cafile ${files.caFile}`,
      `certfile ${files.certFile}`,
      `keyfile ${files.keyFile}`,
      'require_certificate true',
      'use_identity_as_username true',
      'allow_anonymous false',
      'persistence true',
      `persistence_location ${files.dir}/`,
      // Stay the user running the test (as root, mosquitto would switch to a user who cannot read the files).
      `user ${userInfo().username}`,
      'log_dest stderr',
      'log_type all',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const waiters: { pattern: RegExp; done: () => void }[] = [];
  const append = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
    for (const w of waiters.splice(0)) {
      if (w.pattern.test(log)) w.done();
      else waiters.push(w);
    }
  };
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((done, fail) => {
    const onData = (chunk: Buffer): void => {
      append(chunk);
      if (/mosquitto version [\d.]+ running/.test(log)) {
        child.stderr!.off('data', onData);
        child.stderr!.on('data', append);
        done({
          port,
          log: () => log,
          waitForLog: (pattern) => (pattern.test(log) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, done: resolve }))),
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => fail(new Error(`mosquitto exited (${code}) before running:\n${log}`)));
    child.once('error', fail);
  });
}

export interface ClientRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A mosquitto command-line client; `until` (on stdout) is reported through `onOutput` as it appears. */
export function runClient(binary: string, args: readonly string[], onOutput?: (stdout: string) => void): { child: ChildProcess; done: Promise<ClientRun> } {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
    onOutput?.(stdout);
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const done = new Promise<ClientRun>((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
  return { child, done };
}
