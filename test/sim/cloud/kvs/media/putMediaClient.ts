// A deliberately raw PutMedia client for the integration suites: TLS socket, request head signed with
// @smithy/signature-v4 (an implementation independent of the emulator's), one HTTP chunk per write(), and a
// response parser that keeps every response chunk separately so the suites can check "one ACK per chunk".
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { connect, type TLSSocket } from 'node:tls';
import type { Ack } from '../../../../../sim/cloud/kvs/media/Ack.ts';

export const ACCESS_KEY_ID = 'AKIDEXAMPLE';
export const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
export const REGION = 'us-east-1';

export interface PutMediaHeaders {
  readonly stream?: string;
  readonly arn?: string;
  readonly timecodeType?: string;
  readonly producerStartSeconds?: string;
  readonly expectContinue?: boolean;
  /** Sign with this secret instead of the right one. */
  readonly secret?: string;
  /** Extra or replacement headers, signed. */
  readonly extra?: Record<string, string>;
}

/** The signed request head of a PutMedia call (the streamed body is signed as SHA-256 of ""). */
export async function signedHead(endpoint: string, h: PutMediaHeaders): Promise<string> {
  const url = new URL(endpoint);
  const headers: Record<string, string> = {
    host: url.host,
    'content-type': 'application/json',
    'user-agent': 'fieldcam-test',
    'x-amzn-fragment-acknowledgment-required': '1',
    ...(h.stream !== undefined ? { 'x-amzn-stream-name': h.stream } : {}),
    ...(h.arn !== undefined ? { 'x-amzn-stream-arn': h.arn } : {}),
    ...(h.timecodeType !== undefined ? { 'x-amzn-fragment-timecode-type': h.timecodeType } : { 'x-amzn-fragment-timecode-type': 'ABSOLUTE' }),
    ...(h.producerStartSeconds !== undefined ? { 'x-amzn-producer-start-timestamp': h.producerStartSeconds } : {}),
    ...h.extra,
  };
  const signer = new SignatureV4({
    service: 'kinesisvideo',
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: h.secret ?? SECRET_ACCESS_KEY },
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'https:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/putMedia',
    headers,
    body: '',
  });
  const lines = ['POST /putMedia HTTP/1.1'];
  for (const [k, v] of Object.entries(signed.headers)) lines.push(`${k}: ${v}`);
  lines.push('transfer-encoding: chunked', 'connection: keep-alive');
  if (h.expectContinue) lines.push('expect: 100-continue');
  return lines.join('\r\n') + '\r\n\r\n';
}

export class RawPutMedia {
  status = 0;
  /** Interim responses seen (100 Continue). */
  interim: number[] = [];
  headers: Record<string, string> = {};
  /** Response chunk payloads, one string per chunk, in order. */
  readonly chunks: string[] = [];
  readonly acks: (Ack & { at: number })[] = [];
  /** A non-chunked (error) response body. */
  body = '';
  /** The zero-length chunk arrived. */
  ended = false;
  closed = false;
  readonly socket: TLSSocket;
  private buf = Buffer.alloc(0);
  private headDone = false;
  private readonly waiters = new Set<() => void>();

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static async open(endpoint: string, ca: string, h: PutMediaHeaders): Promise<RawPutMedia> {
    const url = new URL(endpoint);
    const head = await signedHead(endpoint, h);
    const socket = await new Promise<TLSSocket>((done, fail) => {
      const s = connect({ host: url.hostname, port: Number(url.port), ca }, () => done(s));
      s.once('error', fail);
    });
    const client = new RawPutMedia(socket);
    socket.write(head);
    return client;
  }

  /** One HTTP chunk of body bytes. */
  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.socket.write(`${bytes.length.toString(16)}\r\n`);
    this.socket.write(bytes);
    this.socket.write('\r\n');
  }

  end(): void {
    this.socket.write('0\r\n\r\n');
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Resolves once `ready()` holds; rejects after `timeoutMs`. */
  waitFor(ready: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((done, fail) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        fail(
          new Error(`timed out waiting for ${what}; status ${this.status}, acks ${JSON.stringify(this.acks.map((a) => a.EventType))}, closed ${this.closed}`),
        );
      }, timeoutMs);
      const check = (): void => {
        if (!ready()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        done();
      };
      this.waiters.add(check);
    });
  }

  /**
   * The ACKs (IDLE left out) grouped per fragment, in the order fragments were first acknowledged: storing
   * runs asynchronously, so a fragment's PERSISTED may come after the next fragment's BUFFERING, as on KVS.
   * An ACK without a FragmentNumber keeps its place.
   */
  trace(): string[] {
    return groupedTrace(this.acks);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private parse(): void {
    for (;;) {
      if (!this.headDone) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
        this.buf = this.buf.subarray(end + 4);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1]);
        if (status >= 100 && status < 200) {
          this.interim.push(status);
          continue;
        }
        this.status = status;
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          this.headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        this.headDone = true;
        continue;
      }
      if (this.headers['transfer-encoding'] !== 'chunked') {
        this.body += this.buf.toString('utf8');
        this.buf = Buffer.alloc(0);
        return;
      }
      if (this.ended) return;
      const lineEnd = this.buf.indexOf('\r\n');
      if (lineEnd < 0) return;
      const size = parseInt(this.buf.subarray(0, lineEnd).toString('latin1'), 16);
      if (this.buf.length < lineEnd + 2 + size + 2) return;
      const payload = this.buf.subarray(lineEnd + 2, lineEnd + 2 + size).toString('utf8');
      this.buf = this.buf.subarray(lineEnd + 2 + size + 2);
      if (size === 0) {
        this.ended = true;
        return;
      }
      this.chunks.push(payload);
      try {
        this.acks.push({ ...(JSON.parse(payload) as Ack), at: Date.now() });
      } catch {
        // the suites assert that every chunk parses
      }
    }
  }
}

/** Uploads `body` on one connection (in random-size chunks) and waits for the end of the response. */
export async function uploadBody(endpoint: string, ca: string, stream: string, body: Uint8Array, chunk = 16_384): Promise<RawPutMedia> {
  const c = await RawPutMedia.open(endpoint, ca, { stream });
  await c.waitFor(() => c.status !== 0, 5000, 'status');
  for (let at = 0, n = 1; at < body.length; at += n) {
    n = 1 + ((at * 7919) % chunk);
    c.write(body.subarray(at, at + n));
  }
  c.end();
  await c.waitFor(() => c.ended || c.closed, 10_000, 'end of response');
  return c;
}

/**
 * ACKs (IDLE left out) as `TYPE[:ErrorId]`, grouped per fragment in the order fragments were first
 * acknowledged: storing runs asynchronously, so a fragment's PERSISTED may come after the next fragment's
 * BUFFERING, as on KVS. An ACK without a FragmentNumber keeps its place.
 */
export function groupedTrace(all: readonly Ack[]): string[] {
  const acks = all.filter((a) => a.EventType !== 'IDLE');
  const first = new Map<string, number>();
  const keyed = acks.map((a, i) => {
    if (a.FragmentNumber === undefined) return { a, key: i, i };
    if (!first.has(a.FragmentNumber)) first.set(a.FragmentNumber, i);
    return { a, key: first.get(a.FragmentNumber)!, i };
  });
  keyed.sort((x, y) => x.key - y.key || x.i - y.i);
  return keyed.map(({ a }) => `${a.EventType}${a.ErrorId !== undefined ? `:${a.ErrorId}` : ''}`);
}
