import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * What the path between a device and the cloud does, as a deployed camera meets it:
 * - `pass`: bytes flow both ways.
 * - `stall`: a black hole. New connections are accepted (TCP completes: the kernel answers the SYN) and
 *   nothing is forwarded either way, so the TLS handshake never finishes. Open connections forward up to
 *   `afterBytes` more device→cloud bytes (default 0), then nothing either way. A stalled connection stays
 *   dead when the mode changes back: recovery must come from a new connection, never from that socket.
 * - `throttle`: device→cloud bytes leave at `bytesPerSecond` (cloud→device, the ACKs, is not limited).
 * - `reset`: every open connection and every new one is reset (TCP RST).
 */
export type FaultMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'stall'; readonly afterBytes?: number }
  | { readonly kind: 'throttle'; readonly bytesPerSecond: number }
  | { readonly kind: 'reset' };

export interface FaultProxyOptions {
  /** Where the cloud listens (loopback), or a Unix socket that leads there (sim/faults/faultNetns.ts). */
  readonly target: { readonly host: string; readonly port: number } | { readonly path: string };
  /** Where devices connect; default 127.0.0.1 on a free port. */
  readonly listen?: { readonly host: string; readonly port: number };
  readonly mode?: FaultMode;
}

export interface FaultProxyStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections reset by the `reset` mode. */
  reset: number;
  /** Connections that became black holes. */
  stalled: number;
  /** Bytes forwarded device→cloud and cloud→device. */
  up: number;
  down: number;
}

export interface FaultProxy {
  /** The port devices connect to. */
  readonly port: number;
  readonly stats: FaultProxyStats;
  /** The mode for open and new connections from now on. */
  setMode(mode: FaultMode): void;
  readonly mode: FaultMode;
  /** Connections currently open. */
  readonly open: number;
  close(): Promise<void>;
}

/** Throttle granularity: bytes are released in slices every TICK_MS. */
const TICK_MS = 20;

/** One device connection and its upstream to the cloud. */
class Pair {
  readonly device: Socket;
  upstream: Socket | undefined;
  /** Device→cloud bytes received and not yet forwarded (throttle, or before the upstream connected). */
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Device→cloud bytes still allowed before the black hole (stall with afterBytes). */
  private allowance = Infinity;
  dead = false;
  stalled = false;
  private credit = 0;
  private readonly proxy: ProxyServer;

  constructor(proxy: ProxyServer, device: Socket) {
    this.proxy = proxy;
    this.device = device;
    device.on('error', () => this.destroy());
    device.on('close', () => this.destroy());
    device.on('data', (chunk: Buffer) => this.fromDevice(chunk));
  }

  connectUpstream(): void {
    const target = this.proxy.target;
    const up = 'path' in target ? connect({ path: target.path }) : connect({ host: target.host, port: target.port });
    this.upstream = up;
    if (!('path' in target)) up.setNoDelay(true);
    up.on('error', () => this.destroy());
    up.on('close', () => this.destroy());
    up.on('connect', () => this.pump());
    up.on('data', (chunk: Buffer) => {
      if (this.stalled || this.dead) return; // a black hole forwards nothing back either
      this.proxy.stats.down += chunk.length;
      if (!this.device.write(chunk)) {
        up.pause();
        this.device.once('drain', () => up.resume());
      }
    });
  }

  private fromDevice(chunk: Buffer): void {
    if (this.stalled || this.dead) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // Keep the kernel's buffers, not ours, for what the path cannot take: the device sees backpressure.
    if (this.pendingBytes > 64 * 1024) this.device.pause();
    this.pump();
  }

  /** Forwards what the mode allows now. */
  pump(): void {
    const up = this.upstream;
    if (this.dead || this.stalled || !up || up.connecting) return;
    const mode = this.proxy.mode;
    let budget = mode.kind === 'throttle' ? Math.floor(this.credit) : Infinity;
    while (this.pending.length > 0 && budget > 0 && this.allowance > 0) {
      const head = this.pending[0]!;
      const n = Math.min(head.length, budget, this.allowance);
      const part = n === head.length ? head : head.subarray(0, n);
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
      this.pendingBytes -= n;
      budget -= n;
      if (this.allowance !== Infinity) this.allowance -= n;
      if (mode.kind === 'throttle') this.credit -= n;
      this.proxy.stats.up += n;
      up.write(part);
    }
    if (this.allowance <= 0) this.blackhole();
    else if (this.pendingBytes <= 64 * 1024 && this.device.isPaused()) this.device.resume();
  }

  /** Throttle tick: credit for the elapsed slice (at most one second's worth banked). */
  tick(bytesPerSecond: number): void {
    this.credit = Math.min(bytesPerSecond, this.credit + (bytesPerSecond * TICK_MS) / 1000);
    this.pump();
  }

  stall(afterBytes: number): void {
    if (this.stalled || this.dead) return;
    this.allowance = afterBytes;
    if (afterBytes <= 0) this.blackhole();
    else this.pump();
  }

  private blackhole(): void {
    if (this.stalled) return;
    this.stalled = true;
    this.proxy.stats.stalled++;
    this.pending.length = 0;
    this.pendingBytes = 0;
    // Both sockets stay open and silent; the device must give up on its own.
    this.device.pause();
    this.upstream?.pause();
  }

  reset(): void {
    if (this.dead) return;
    this.proxy.stats.reset++;
    this.dead = true;
    this.device.resetAndDestroy();
    this.upstream?.destroy();
    this.proxy.pairs.delete(this);
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.device.destroy();
    this.upstream?.destroy();
    this.proxy.pairs.delete(this);
  }
}

class ProxyServer implements FaultProxy {
  readonly target: FaultProxyOptions['target'];
  readonly stats: FaultProxyStats = { accepted: 0, reset: 0, stalled: 0, up: 0, down: 0 };
  readonly pairs = new Set<Pair>();
  mode: FaultMode;
  port = 0;
  private readonly server: Server;
  private readonly where: { readonly host: string; readonly port: number };
  private ticker: NodeJS.Timeout | undefined;

  constructor(options: FaultProxyOptions) {
    this.target = options.target;
    this.mode = options.mode ?? { kind: 'pass' };
    this.where = options.listen ?? { host: '127.0.0.1', port: 0 };
    this.server = createServer((device) => this.accept(device));
  }

  async listen(): Promise<void> {
    await new Promise<void>((done, fail) => {
      this.server.once('error', fail);
      this.server.listen(this.where.port, this.where.host, () => done());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.applyTicker();
  }

  get open(): number {
    return this.pairs.size;
  }

  setMode(mode: FaultMode): void {
    this.mode = mode;
    for (const pair of [...this.pairs]) {
      if (mode.kind === 'reset') pair.reset();
      else if (mode.kind === 'stall') pair.stall(mode.afterBytes ?? 0);
      else pair.pump();
    }
    this.applyTicker();
  }

  close(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    for (const pair of [...this.pairs]) pair.destroy();
    return new Promise((done) => this.server.close(() => done()));
  }

  private accept(device: Socket): void {
    this.stats.accepted++;
    device.setNoDelay(true);
    const pair = new Pair(this, device);
    this.pairs.add(pair);
    if (this.mode.kind === 'reset') {
      pair.reset();
      return;
    }
    if (this.mode.kind === 'stall') {
      pair.stall(this.mode.afterBytes ?? 0); // accepted, never connected onwards
      return;
    }
    pair.connectUpstream();
  }

  private applyTicker(): void {
    const mode = this.mode;
    if (mode.kind === 'throttle') {
      if (!(mode.bytesPerSecond > 0)) throw new RangeError(`bytesPerSecond must be > 0, got ${mode.bytesPerSecond}`);
      if (this.ticker) clearInterval(this.ticker);
      this.ticker = setInterval(() => {
        for (const pair of this.pairs) pair.tick(mode.bytesPerSecond);
      }, TICK_MS);
    } else if (this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}

/**
 * A loopback TCP proxy between a simulated device and the local cloud that misbehaves on command (stall,
 * throttle, reset), for fault tests run the way a deployed camera meets a bad uplink (issue 11). It works on
 * TCP, below TLS: the device's handshake and certificate checks are end to end with the cloud.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new ProxyServer(options);
  await proxy.listen();
  return proxy;
}
