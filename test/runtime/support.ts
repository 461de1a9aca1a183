// Helpers for the fieldcam-runtime suites (Node only): build the runtime, run small scripts that use the
// `native` object directly (natively or under qemu-arm/qemu-aarch64), and the TLS material their peers need.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { ensureCertificates } from '../../sim/cloud/tls/ensureCertificates.ts';
import { buildRuntime, QEMU_USER } from '../../toolchain/xs/build.mjs';

export type Arch = 'x86_64' | 'armv6' | 'armv7' | 'aarch64';

/** The CPU model QEMU emulates for each ARM target (the boards' manifests name the same ones). */
export const QEMU_CPU: Readonly<Record<Arch, string | undefined>> = Object.freeze({
  x86_64: undefined,
  armv6: 'arm1176',
  armv7: 'cortex-a7',
  aarch64: 'cortex-a53',
});

const runtimes = new Map<Arch, string>();

/** build/xs/<arch>/fieldcam-runtime, built (or brought up to date) on first use. */
export function runtime(arch: Arch): string {
  let path = runtimes.get(arch);
  if (!path) {
    path = buildRuntime(arch, { log: () => {} });
    runtimes.set(arch, path);
  }
  return path;
}

/** Scripts, certificates and files the suites write; shared by the suite files, removed when Node exits. */
export const scratch = mkdtempSync(join(tmpdir(), 'fieldcam-runtime-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/**
 * What every script starts with: byte helpers and an `on[EVENT]` table behind the one dispatcher, with
 * EVENT numbered as firmware/boards/xs/native.ts numbers it.
 */
const PRELUDE = `
const EVENT = { TIMER: 1, SIGNAL: 2, INPUT_READABLE: 3, SOCKET_CONNECT: 4, SOCKET_READABLE: 5, SOCKET_WRITABLE: 6, SOCKET_CLOSE: 7 };
const hex = (a, o = 0, n = a.length - o) => { let s = ''; for (let i = o; i < o + n; i++) s += (a[i] < 16 ? '0' : '') + a[i].toString(16); return s; };
const ascii = (s) => { const a = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i); return a; };
const text = (a, n) => { let s = ''; for (let i = 0; i < n; i++) s += String.fromCharCode(a[i]); return s; };
const on = {};
native.setDispatcher((event, handle, value) => { const f = on[event]; if (f) f(handle, value); });
`;

export interface RunResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout split into lines, without the trailing empty one. */
  readonly lines: string[];
}

export interface RunOptions {
  readonly arch?: Arch;
  /** Runtime options before the bundle path (--heap-limit …). */
  readonly flags?: readonly string[];
  /** native.argv */
  readonly args?: readonly string[];
  /** false: the script runs as written, without the prelude. */
  readonly prelude?: boolean;
  readonly stdin?: 'pipe' | 'ignore';
  readonly timeoutMs?: number;
  /** Rewrites the command line before the spawn (e.g. sim/faults/namespaceCommand.ts: its own resolv.conf). */
  readonly wrap?: (command: string, args: string[]) => { command: string; args: string[] };
  /** Called once the process exists, with a way to wait for a line of its stdout. */
  readonly started?: (child: ChildProcess, line: (wanted: string) => Promise<void>) => void | Promise<void>;
}

let scripts = 0;

/** Runs `source` as the bundle; resolves when the process ends (killed after timeoutMs). */
export function runScript(source: string, options: RunOptions = {}): Promise<RunResult> {
  const arch = options.arch ?? 'x86_64';
  const file = join(scratch, `script-${++scripts}.js`);
  writeFileSync(file, (options.prelude === false ? '' : PRELUDE) + source);
  const args = [...(options.flags ?? []), file, ...(options.args ?? [])];
  const cpu = QEMU_CPU[arch];
  const [plain, plainArgs] = cpu ? [QEMU_USER[arch]!, ['-cpu', cpu, runtime(arch), ...args]] : [runtime(arch), args];
  const { command, args: argv } = options.wrap ? options.wrap(plain, plainArgs) : { command: plain, args: plainArgs };
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const waiters: { wanted: string; done: () => void }[] = [];
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      for (const w of waiters.splice(0)) {
        if (stdout.split('\n').includes(w.wanted)) w.done();
        else waiters.push(w);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const guard = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(guard);
      resolve({ status, signal, stdout, stderr, lines: stdout.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1) });
    });
    const line = (wanted: string) =>
      new Promise<void>((done) => {
        if (stdout.split('\n').includes(wanted)) done();
        else waiters.push({ wanted, done });
      });
    void options.started?.(child, line);
  });
}

export interface Pki {
  /** The local cloud's CA (sim/cloud/tls) and its server certificate for 127.0.0.1, ::1 and localhost. */
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** A second, unrelated CA from the same module. */
  readonly otherCa: string;
  /** A client certificate (clientAuth, ECDSA P-256) the first CA signed, for mTLS. */
  readonly clientCert: string;
  readonly clientKey: string;
}

let pki: Promise<Pki> | undefined;

/** The TLS material, made once per run: the cloud's own module makes the CAs, openssl the client leaf. */
export function testPki(): Promise<Pki> {
  pki ??= (async () => {
    const one = join(scratch, 'pki-one');
    const two = join(scratch, 'pki-two');
    mkdirSync(one);
    mkdirSync(two);
    const first = await ensureCertificates(one);
    const second = await ensureCertificates(two);
    const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: one, stdio: ['ignore', 'ignore', 'pipe'] });
    writeFileSync(join(one, 'client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n');
    openssl(['req', ...key, '-keyout', 'client-key.pem', '-out', 'client.csr', '-subj', '/CN=fieldcam-test-device']);
    openssl([
      'x509',
      '-req',
      '-in',
      'client.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca-key.pem',
      '-set_serial',
      '0x5157',
      '-days',
      '2',
      '-extfile',
      'client.ext',
      '-out',
      'client.pem',
    ]);
    return {
      ca: first.caPem,
      serverCert: first.certPem,
      serverKey: first.keyPem,
      otherCa: second.caPem,
      clientCert: readFileSync(join(one, 'client.pem'), 'utf8'),
      clientKey: readFileSync(join(one, 'client-key.pem'), 'utf8'),
    };
  })();
  return pki;
}

// ---- scripts and peers shared by the native and the emulated suites ----

/**
 * Timers: due order, creation order among equal due times, clearTimer (also of unknown ids), promise jobs
 * drained after each dispatch (the job queued by a10 runs before b10), and a 0 ms timer set by a callback.
 */
export const TIMERS_SCRIPT = `
const t0 = native.monotonic();
const names = {};
const fired = [];
for (const [name, ms] of [['c30', 30], ['a10', 10], ['b10', 10], ['x20', 20], ['d40', 40]]) names[native.setTimer(ms)] = name;
native.clearTimer(Number(Object.keys(names).find((id) => names[id] === 'x20')));
native.clearTimer(99999);
on[EVENT.TIMER] = (id) => {
  fired.push(names[id] ?? 'zero');
  if (names[id] === 'a10') Promise.resolve().then(() => fired.push('job'));
  if (names[id] === 'c30') native.setTimer(0);
  if (names[id] === 'd40') native.print(fired.join(',') + ' ' + (native.monotonic() - t0 >= 40));
};
`;
export const TIMERS_EXPECTED = 'a10,job,b10,c30,zero,d40 true';

/** Deterministic bytes for hashing: the same formula in the scripts and in Node. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 5)) & 255;
  return out;
}
const PATTERN_JS =
  'const pattern = (length, seed) => { const out = new Uint8Array(length); for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 5)) & 255; return out; };';

export const HASH_KEY_LENGTHS = [0, 1, 32, 63, 64, 65, 100, 200] as const;
export const HASH_DATA_LENGTHS = [0, 1, 55, 56, 63, 64, 65, 1000, 70_000] as const;

/**
 * sha256 and hmacSha256 for every key length x data length, the data at offset 3 of a larger view and the
 * digest written at offset 5 of the out view (bytes around it must stay untouched: printed as a sum).
 */
export const HASH_SCRIPT = `${PATTERN_JS}
const out = new Uint8Array(40);
for (const n of ${JSON.stringify(HASH_DATA_LENGTHS)}) {
  const data = pattern(n + 10, n);
  native.sha256(data, 3, n, out, 5);
  native.print('sha ' + n + ' ' + hex(out, 5, 32));
  for (const k of ${JSON.stringify(HASH_KEY_LENGTHS)}) {
    native.hmacSha256(pattern(k, k + 1), data, 3, n, out, 5);
    native.print('hmac ' + k + ' ' + n + ' ' + hex(out, 5, 32));
  }
}
let outside = 0;
for (const i of [0, 1, 2, 3, 4, 37, 38, 39]) outside += out[i];
native.print('outside ' + outside);
for (const bad of [() => native.sha256(out, 30, 20, out, 0), () => native.sha256(out, 0, 1, out, 20), () => native.sha256([], 0, 0, out, 0)]) {
  try { bad(); native.print('no error'); } catch (e) { native.print(e.name); }
}
`;

/** What HASH_SCRIPT must print, from node:crypto. */
export function hashExpected(): string[] {
  const lines: string[] = [];
  for (const n of HASH_DATA_LENGTHS) {
    const data = pattern(n + 10, n).subarray(3, 3 + n);
    lines.push(`sha ${n} ${createHash('sha256').update(data).digest('hex')}`);
    for (const k of HASH_KEY_LENGTHS)
      lines.push(
        `hmac ${k} ${n} ${createHmac('sha256', pattern(k, k + 1))
          .update(data)
          .digest('hex')}`,
      );
  }
  lines.push('outside 0', 'RangeError', 'RangeError', 'TypeError');
  return lines;
}

/**
 * A TLS client: native.argv = [host, port, JSON of the tls options]. Sends "ping", prints the server's one
 * line, closes; prints "close <value>" if the connection ends first (verification failures land there).
 */
export const TLS_CLIENT_SCRIPT = `
const [host, port, options] = native.argv;
const h = native.socketOpen(host, Number(port), JSON.parse(options));
const buf = new Uint8Array(1024);
let got = '';
on[EVENT.SOCKET_CONNECT] = () => { native.print('connect'); native.socketWrite(h, [ascii('ping\\n')], new Uint32Array([0]), new Uint32Array([5]), 1); };
on[EVENT.SOCKET_READABLE] = (_, held) => {
  const n = native.socketRead(h, buf, 0, buf.length);
  got += text(buf, n);
  if (got.endsWith('\\n')) { native.print(got.trim()); native.socketClose(h); }
};
on[EVENT.SOCKET_CLOSE] = (_, value) => native.print('close ' + value);
`;

/** A node:tls server answering "ping" with "pong sni=<servername|-> client=<CN|->". */
export async function tlsServer(p: Pki, mutual: boolean): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createTlsServer(
    { key: p.serverKey, cert: p.serverCert, ...(mutual ? { requestCert: true, rejectUnauthorized: true, ca: p.ca } : {}) },
    (s: TLSSocket) => {
      s.on('error', () => {});
      s.on('data', () => {
        const cn = s.getPeerCertificate()?.subject?.CN;
        s.write(`pong sni=${s.servername || '-'} client=${cn ? String(cn) : '-'}\n`);
      });
    },
  );
  server.on('tlsClientError', () => {});
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
