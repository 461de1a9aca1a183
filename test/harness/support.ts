// Small helpers shared by suites on every runner (pure ECMAScript, like the rest of the harness).
import { decodeUtf8 } from '../../firmware/core/text/utf8.ts';
import type { ClockPort } from '../../firmware/io/Clock.ts';
import type { ByteRanges, Socket, SocketFactory, SocketOptions } from '../../firmware/io/Socket.ts';
import type { TimerHandle, TimerPort } from '../../firmware/io/Timer.ts';

/** xorshift32: a fixed sequence of uint32s, so a failing iteration can be replayed from its seed. */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** mulberry32: a fixed sequence of numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The parts one after another in a new array. */
export function concatBytes(parts: readonly ArrayLike<number>[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Hand-driven time for protocol suites: a monotonic clock, a wall clock, and timers that fire only when a test
 * advances time, earliest first. `advance` moves both clocks; a test sets `wall` alone to step the wall clock
 * (an NTP correction, a skewed device) while monotonic time goes on.
 */
export class FakeTime implements ClockPort, TimerPort {
  mono = 0;
  wall: number;
  private pending: { id: number; at: number; callback: () => void }[] = [];
  private nextId = 1;
  constructor(wall = 1_700_000_000_000) {
    this.wall = wall;
  }
  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  set(ms: number, callback: () => void): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, at: this.mono + ms, callback });
    return id as unknown as TimerHandle;
  }
  clear(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== (handle as unknown as number));
  }
  /** How many timers are armed. */
  get timers(): number {
    return this.pending.length;
  }
  /** The armed timers' remaining delays, shortest first. */
  delays(): number[] {
    return this.pending.map((p) => p.at - this.mono).sort((a, b) => a - b);
  }
  /** Moves both clocks forward by `ms`, firing each timer that falls due at its own time, in order. */
  advance(ms: number): void {
    const end = this.mono + ms;
    for (;;) {
      let due: (typeof this.pending)[number] | undefined;
      for (const p of this.pending) if (p.at <= end && (!due || p.at < due.at)) due = p;
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.wall += due.at - this.mono;
      this.mono = due.at;
      due.callback();
    }
    this.wall += end - this.mono;
    this.mono = end;
  }
}

function hex(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return s;
}

/**
 * The one scripted Socket of the core suites: it records each gather write, hands the peer's bytes to the client
 * through `deliver`, ends the connection from the peer's side with `end`, and keeps the port's rules (nothing
 * delivered after close, use after close throws). Events reach the client only when the test (or a scripted peer
 * such as the KVS of test/firmware/core/kvs/sessionKit.ts) calls `options.onConnect()`, `deliver()` or `end()`.
 */
export class FakeSocket implements Socket {
  readonly options: SocketOptions;
  closed = false;
  /** What `write` returns: the bytes still writable before backpressure (<= 0 makes the client wait). */
  writable = 65536;
  /** A scripted peer, told after each write; it answers through `deliver` and `end`. */
  onWrite: ((socket: FakeSocket) => void) | undefined;
  /** Socket.writeChunk, for a peer that frames HTTP chunks itself as the XS board does in C; absent by default. */
  writeChunk?: (views: ByteRanges) => number;
  private inbox = new Uint8Array(0);
  /** Every byte written, one write after another; `ends[i]` is where write i stopped. */
  private sent = new Uint8Array(1024);
  private sentLength = 0;
  private readonly ends: number[] = [];
  private readonly hexes: string[] = [];
  constructor(options: SocketOptions) {
    this.options = options;
  }
  read(into: Uint8Array, offset: number, length: number): number {
    const n = Math.min(length, this.inbox.length);
    into.set(this.inbox.subarray(0, n), offset);
    this.inbox = this.inbox.subarray(n);
    return n;
  }
  write(views: ByteRanges): number {
    if (this.closed) throw new Error('write after close');
    if (this.sentLength + views.byteLength > this.sent.length) {
      const grown = new Uint8Array(Math.max(this.sent.length * 2, this.sentLength + views.byteLength));
      grown.set(this.sent.subarray(0, this.sentLength));
      this.sent = grown;
    }
    for (let i = 0; i < views.count; i++) {
      const offset = views.offsets[i]!;
      this.sent.set(views.sources[i]!.subarray(offset, offset + views.lengths[i]!), this.sentLength);
      this.sentLength += views.lengths[i]!;
    }
    this.ends.push(this.sentLength);
    this.onWrite?.(this);
    return this.writable;
  }
  close(): void {
    this.closed = true;
  }
  /** Each gather write, as lowercase hex (one packet or request per entry); made when asked, not per write. */
  get writes(): readonly string[] {
    for (let i = this.hexes.length; i < this.ends.length; i++) this.hexes.push(hex(this.sent, i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!));
    return this.hexes.slice();
  }
  /** Everything written so far (a view: valid until the next write). */
  written(): Uint8Array {
    return this.sent.subarray(0, this.sentLength);
  }
  /** Everything written, as UTF-8 text (HTTP requests). */
  text(): string {
    return decodeUtf8(this.sent, 0, this.sentLength);
  }
  /** The peer sends `data`: it is queued for `read` and the client is told how many bytes wait. Ignored after close. */
  deliver(data: Uint8Array): void {
    if (this.closed) return;
    const next = new Uint8Array(this.inbox.length + data.length);
    next.set(this.inbox);
    next.set(data, this.inbox.length);
    this.inbox = next;
    this.options.onReadable(this.inbox.length);
  }
  /** The peer ends the connection, once: `error` names a failure (its `code`, e.g. ECONNRESET), none is an orderly end. */
  end(error?: string, code = 'ECONNRESET'): void {
    if (this.closed) return;
    this.closed = true;
    this.options.onClose(error === undefined ? undefined : Object.assign(new Error(error), { code }));
  }
}

/** A SocketFactory that opens FakeSockets and keeps them in order. */
export class FakeNet {
  readonly connections: FakeSocket[] = [];
  readonly sockets: SocketFactory = (options) => {
    const c = new FakeSocket(options);
    this.connections.push(c);
    return c;
  };
  /** The last socket opened. */
  get last(): FakeSocket {
    return this.connections[this.connections.length - 1]!;
  }
}
