// Fakes for the IoT credentials client suites: a scripted network (each connection answers with a canned HTTP
// response or fails), one-shot timers driven by hand, and a settable wall clock. Pure ECMAScript (XS too).
import type { ClockPort } from '../../../../firmware/io/Clock.ts';
import type { Socket, SocketFactory, SocketOptions } from '../../../../firmware/io/Socket.ts';
import type { TimerHandle, TimerPort } from '../../../../firmware/io/Timer.ts';
import type { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { decodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';

export class FakeClock implements ClockPort {
  wall: number;
  mono = 0;
  constructor(wall: number) {
    this.wall = wall;
  }
  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
}

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** Timers that fire only when `advance` moves time past them; they also move the clock. */
export class FakeTimers implements TimerPort {
  private readonly clock: FakeClock;
  private pending: Pending[] = [];
  private nextId = 1;
  constructor(clock: FakeClock) {
    this.clock = clock;
  }
  set(ms: number, callback: () => void): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, at: this.clock.mono + ms, callback });
    return id as unknown as TimerHandle;
  }
  clear(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== (handle as unknown as number));
  }
  /** Delays (from now) of the pending timers, soonest first. */
  delays(): number[] {
    return this.pending.map((p) => p.at - this.clock.mono).sort((a, b) => a - b);
  }
  /** Moves both clocks by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.clock.mono + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.clock.wall += due.at - this.clock.mono;
      this.clock.mono = due.at;
      due.callback();
    }
    this.clock.wall += end - this.clock.mono;
    this.clock.mono = end;
  }
}

export type Answer = { readonly status: number; readonly body: string; readonly headers?: readonly string[] } | { readonly error: string; readonly code?: string };

/** One connection: records what was written, answers when told. */
export class FakeConnection implements Socket {
  readonly options: SocketOptions;
  written = '';
  closed = false;
  private inbox = new Uint8Array(0);
  constructor(options: SocketOptions) {
    this.options = options;
  }
  read(into: Uint8Array, offset: number, length: number): number {
    const n = Math.min(length, this.inbox.length);
    into.set(this.inbox.subarray(0, n), offset);
    this.inbox = this.inbox.subarray(n);
    return n;
  }
  write(views: ViewList): number {
    for (let i = 0; i < views.count; i++) this.written += decodeUtf8(views.sources[i]!, views.offsets[i]!, views.lengths[i]!);
    return 65536;
  }
  close(): void {
    this.closed = true;
  }
  answer(a: Answer): void {
    if ('error' in a) {
      const error = new Error(a.error) as Error & { code?: string };
      if (a.code) error.code = a.code;
      this.options.onClose(error);
      return;
    }
    this.options.onConnect();
    const body = encodeUtf8(a.body);
    const head = [`HTTP/1.1 ${a.status} X`, 'content-type: application/json', `content-length: ${body.length}`, ...(a.headers ?? []), '', ''].join('\r\n');
    const h = encodeUtf8(head);
    const all = new Uint8Array(h.length + body.length);
    all.set(h, 0);
    all.set(body, h.length);
    this.inbox = all;
    this.options.onReadable(all.length);
    if (!this.closed) this.options.onClose(undefined);
  }
}

export class FakeNet {
  readonly connections: FakeConnection[] = [];
  readonly sockets: SocketFactory = (options) => {
    const c = new FakeConnection(options);
    this.connections.push(c);
    return c;
  };
  get last(): FakeConnection {
    return this.connections[this.connections.length - 1]!;
  }
}

/** Lets promise jobs run (httpExchange resolves through several). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A provider answer: credentials valid for `lifetimeMs` from `nowMs`. */
export function credentialsBody(nowMs: number, lifetimeMs: number, id = 'ASIAEXAMPLEKEY000001'): string {
  const expiration = new Date(nowMs + lifetimeMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return JSON.stringify({ credentials: { accessKeyId: id, secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN', expiration } });
}
