// A KVS for PutMediaSession suites on hand-driven time (FakeTime): a scripted peer on the harness's FakeSocket that
// answers the control plane (DescribeStream, GetDataEndpoint) with JSON and PutMedia with a chunked stream of
// acknowledgements, from the Cluster timecodes the session actually wrote. Faults are knobs: refuse connections, cut the live one, stop
// acknowledging. Pure ECMAScript: the same suite runs under Node, inside XS and under QEMU.
import type { ByteRanges, SocketFactory } from '../../../../firmware/io/Socket.ts';
import { decodeUtf8, encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { concatBytes, FakeSocket, type FakeTime } from '../../../harness/support.ts';

const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75];
const CLUSTER_TIMECODE_ID = 0xe7;
const CRLF = new Uint8Array([0x0d, 0x0a]);
/** Connect and answer after this many ms of fake time (never synchronously: real sockets never are). */
const LATENCY_MS = 5;
/** The service's time at FakeTime's monotonic 0. */
export const SERVER_EPOCH_MS = Date.UTC(2025, 0, 1);

export interface FakeKvsOptions {
  /** Fragments stored by the service, by producer timecode (duplicates counted). */
  readonly retentionHours?: number;
  /**
   * The sockets frame HTTP chunks themselves (Socket.writeChunk, as the XS board's do in C), framed here from RFC 9112
   * §7.1 independently of ChunkFramer; absent: plain writes, the session frames with ChunkFramer.
   */
  readonly socketFramesChunks?: boolean;
}

/**
 * One connection to the fake service, on the harness's FakeSocket: a control-plane exchange or a PutMedia request.
 * The socket records what the session wrote; this side reads it after the latency and answers.
 */
class KvsConnection {
  readonly socket: FakeSocket;
  private readonly kvs: FakeKvs;
  putMedia = false;
  answered = false;
  /** Where the Cluster scan resumes. */
  private scanned = 0;
  /** Timecodes of fragments started on this connection, oldest first; `acked` of them acknowledged. */
  readonly fragments: number[] = [];
  acked = 0;

  constructor(kvs: FakeKvs, socket: FakeSocket) {
    this.kvs = kvs;
    this.socket = socket;
    socket.writable = kvs.writable;
    socket.onWrite = () => kvs.time.set(LATENCY_MS, () => this.onBytes());
    if (kvs.socketFramesChunks) socket.writeChunk = (views) => this.writeFramed(views);
  }

  /** Socket.writeChunk, when the service's options ask for it: the size in hex, CRLF, the ranges, CRLF. */
  private writeFramed(views: ByteRanges): number {
    if (this.socket.closed) throw new RangeError('write after close');
    if (views.byteLength === 0) return this.socket.writable;
    this.kvs.chunksFramedBySocket++;
    const line = encodeUtf8(`${views.byteLength.toString(16)}\r\n`);
    const n = views.count + 2;
    const sources = [line];
    const offsets = new Uint32Array(n);
    const lengths = new Uint32Array(n);
    lengths[0] = line.length;
    for (let i = 0; i < views.count; i++) {
      sources.push(views.sources[i]!);
      offsets[i + 1] = views.offsets[i]!;
      lengths[i + 1] = views.lengths[i]!;
    }
    sources.push(CRLF);
    lengths[n - 1] = 2;
    return this.socket.write({ sources, offsets, lengths, count: n, byteLength: line.length + views.byteLength + 2 });
  }

  get closed(): boolean {
    return this.socket.closed;
  }

  private onBytes(): void {
    if (this.closed) return;
    const bytes = this.socket.written();
    if (!this.answered) {
      const text = decodeUtf8(bytes, 0, Math.min(bytes.length, 8192), false);
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const path = /^POST (\S+) /.exec(text)?.[1] ?? '';
      if (path === '/putMedia') {
        this.answered = this.putMedia = true;
        this.kvs.putMediaOpened(this);
        return;
      }
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
      if (bytes.length < headEnd + 4 + length) return;
      this.answered = true;
      this.answerControl(path);
      return;
    }
    if (this.putMedia) this.scanClusters(bytes);
  }

  private answerControl(path: string): void {
    const kvs = this.kvs;
    const body =
      path === '/describeStream'
        ? { StreamInfo: { Status: 'ACTIVE', DataRetentionInHours: kvs.retentionHours, StreamName: 'cam' } }
        : path === '/getDataEndpoint'
          ? { DataEndpoint: 'http://kvs.test:8080' }
          : {};
    const json = encodeUtf8(JSON.stringify(body));
    const head = encodeUtf8(`HTTP/1.1 200 OK\r\ndate: ${kvs.date()}\r\ncontent-type: application/json\r\ncontent-length: ${json.length}\r\n\r\n`);
    this.socket.deliver(concatBytes([head, json]));
    this.socket.end();
  }

  /** Finds the Cluster starts (ID, unknown size, Timecode) the session wrote and the body's last chunk. */
  private scanClusters(bytes: Uint8Array): void {
    const limit = bytes.length - 20;
    for (let i = this.scanned; i < limit; i++) {
      if (bytes[i] !== CLUSTER_ID[0] || bytes[i + 1] !== CLUSTER_ID[1] || bytes[i + 2] !== CLUSTER_ID[2] || bytes[i + 3] !== CLUSTER_ID[3]) continue;
      const sizeWidth = vintWidth(bytes[i + 4]!);
      let at = i + 4 + sizeWidth;
      if (bytes[at] !== CLUSTER_TIMECODE_ID) continue;
      const width = bytes[at + 1]! & 0x0f;
      at += 2;
      let tc = 0;
      for (let k = 0; k < width; k++) tc = tc * 256 + bytes[at + k]!;
      this.fragments.push(tc);
      this.kvs.fragmentStarted(this, tc);
      i = at + width - 1;
    }
    this.scanned = Math.max(this.scanned, limit);
    // The zero-length chunk ends the body: every fragment sent is complete.
    const n = bytes.length;
    if (n >= 5 && bytes[n - 5] === 0x30 && bytes[n - 4] === 13 && bytes[n - 3] === 10 && bytes[n - 2] === 13 && bytes[n - 1] === 10) {
      this.kvs.bodyEnded(this);
    }
  }
}

function vintWidth(first: number): number {
  for (let w = 1; w <= 8; w++) if (first & (0x80 >> (w - 1))) return w;
  return 8;
}

/**
 * The service side. With `autoAck` (default) every fragment gets BUFFERING when it starts, and RECEIVED +
 * PERSISTED once the next one starts or the body ends (it is complete then); `stored` counts each fragment
 * timecode persisted (a second copy of one counts twice, as KVS would store it twice).
 */
export class FakeKvs {
  readonly time: FakeTime;
  readonly retentionHours: number;
  readonly sockets: SocketFactory;
  readonly connections: KvsConnection[] = [];
  readonly stored = new Map<number, number>();
  /** New connections fail (the link is down). */
  down = false;
  /** Acknowledgements are sent (false: the service swallows the body, a stale connection). */
  autoAck = true;
  readonly socketFramesChunks: boolean;
  /** Chunks the sockets framed themselves (writeChunk). */
  chunksFramedBySocket = 0;
  private writable_ = 1 << 20;

  constructor(time: FakeTime, options: FakeKvsOptions = {}) {
    this.time = time;
    this.retentionHours = options.retentionHours ?? 24;
    this.socketFramesChunks = options.socketFramesChunks === true;
    this.sockets = (options_) => {
      const socket = new FakeSocket(options_);
      this.connections.push(new KvsConnection(this, socket));
      time.set(LATENCY_MS, () => {
        if (socket.closed) return;
        if (this.down) socket.end('connect ECONNREFUSED', 'ECONNREFUSED');
        else socket.options.onConnect();
      });
      return socket;
    };
  }

  /** What every write reports as still writable (<= 0: backpressure), on open connections and new ones. */
  get writable(): number {
    return this.writable_;
  }
  set writable(n: number) {
    this.writable_ = n;
    for (const c of this.connections) c.socket.writable = n;
  }

  /**
   * The service's Date header: true time is 2025 while FakeTime's board clock says 2023 (a board without an RTC),
   * so the session must learn the time and move its first frames before sending them.
   */
  date(): string {
    return new Date(SERVER_EPOCH_MS + this.time.monotonic()).toUTCString();
  }

  /** PutMedia connections so far. */
  get putMedia(): KvsConnection[] {
    return this.connections.filter((c) => c.putMedia);
  }

  /** The open PutMedia connection, if any. */
  get live(): KvsConnection | undefined {
    const p = this.putMedia;
    const last = p[p.length - 1];
    return last && !last.closed ? last : undefined;
  }

  /** Fragments stored in all, duplicates included. */
  get storedCount(): number {
    let n = 0;
    for (const c of this.stored.values()) n += c;
    return n;
  }

  /** Resets the live PutMedia connection (a cut link). */
  cut(): void {
    this.live?.socket.end('read ECONNRESET');
  }

  putMediaOpened(c: KvsConnection): void {
    c.socket.deliver(encodeUtf8('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n'));
  }

  fragmentStarted(c: KvsConnection, timecode: number): void {
    if (!this.autoAck) return;
    this.ack(c, 'BUFFERING', timecode);
    // The previous fragment is complete: the next one started after it.
    this.completeThrough(c, c.fragments.length - 1);
  }

  bodyEnded(c: KvsConnection): void {
    if (!this.autoAck) return;
    this.completeThrough(c, c.fragments.length);
    this.time.set(LATENCY_MS, () => {
      c.socket.deliver(encodeUtf8('0\r\n\r\n'));
      c.socket.end();
    });
  }

  /** Sends one acknowledgement as a chunk of the response. */
  ack(c: KvsConnection, type: string, timecode: number): void {
    const json = `{"EventType":"${type}","FragmentTimecode":${timecode},"FragmentNumber":"91343852333${timecode}"}`;
    c.socket.deliver(encodeUtf8(`${json.length.toString(16)}\r\n${json}\r\n`));
  }

  private completeThrough(c: KvsConnection, count: number): void {
    while (c.acked < count) {
      const tc = c.fragments[c.acked++]!;
      this.ack(c, 'RECEIVED', tc);
      this.stored.set(tc, (this.stored.get(tc) ?? 0) + 1);
      this.ack(c, 'PERSISTED', tc);
    }
  }
}
