// A KVS for PutMediaSession suites on hand-driven time (FakeTime): sockets that answer the control plane
// (DescribeStream, GetDataEndpoint) with JSON and PutMedia with a chunked stream of acknowledgements, from the
// Cluster timecodes the session actually wrote. Faults are knobs: refuse connections, cut the live one, stop
// acknowledging. Pure ECMAScript: the same suite runs under Node, inside XS and under QEMU.
import type { Socket, SocketFactory, SocketOptions } from '../../../../firmware/io/Socket.ts';
import type { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { decodeUtf8, encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import type { FakeTime } from '../../../harness/support.ts';

const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75];
const CRLF = new Uint8Array([0x0d, 0x0a]);
const CLUSTER_TIMECODE_ID = 0xe7;
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

/** One socket of the fake service: a control-plane exchange or a PutMedia request. */
class FakeKvsSocket implements Socket {
  readonly options: SocketOptions;
  private readonly kvs: FakeKvs;
  private sent = new Uint8Array(4096);
  private sentLength = 0;
  private inbox: Uint8Array[] = [];
  closed = false;
  putMedia = false;
  answered = false;
  /** Where the Cluster scan resumes. */
  private scanned = 0;
  /** Timecodes of fragments started on this connection, oldest first; `acked` of them acknowledged. */
  readonly fragments: number[] = [];
  acked = 0;

  constructor(kvs: FakeKvs, options: SocketOptions) {
    this.kvs = kvs;
    this.options = options;
    this.writeChunk = kvs.socketFramesChunks ? (views) => this.writeFramed(views) : undefined;
  }

  private writeFramed(views: ViewList): number {
    if (this.closed) throw new RangeError('write after close');
    if (views.byteLength === 0) return this.kvs.writable;
    this.kvs.chunksFramedBySocket++;
    const line = encodeUtf8(`${views.byteLength.toString(16)}\r\n`);
    this.append(line, 0, line.length);
    for (let i = 0; i < views.count; i++) this.append(views.sources[i]!, views.offsets[i]!, views.lengths[i]!);
    this.append(CRLF, 0, 2);
    this.kvs.time.set(LATENCY_MS, () => this.onBytes());
    return this.kvs.writable;
  }

  read(into: Uint8Array, offset: number, length: number): number {
    const head = this.inbox[0];
    if (!head) return 0;
    const n = Math.min(length, head.length);
    into.set(head.subarray(0, n), offset);
    if (n === head.length) this.inbox.shift();
    else this.inbox[0] = head.subarray(n);
    return n;
  }

  write(views: ViewList): number {
    if (this.closed) throw new RangeError('write after close');
    for (let i = 0; i < views.count; i++) this.append(views.sources[i]!, views.offsets[i]!, views.lengths[i]!);
    this.kvs.time.set(LATENCY_MS, () => this.onBytes());
    return this.kvs.writable;
  }

  /** Socket.writeChunk, when the service's options ask for it: the size in hex, CRLF, the ranges, CRLF. */
  readonly writeChunk: ((views: ViewList) => number) | undefined;

  /** Every byte the client wrote on this connection, the request head included. */
  get wire(): Uint8Array {
    return this.sent.subarray(0, this.sentLength);
  }

  close(): void {
    this.closed = true;
  }

  /** Pushes bytes to the client. */
  deliver(bytes: Uint8Array): void {
    if (this.closed) return;
    this.inbox.push(bytes);
    this.options.onReadable(bytes.length);
  }

  /** The service ends the connection (error: a reset; undefined: an orderly end). */
  end(error?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.options.onClose(error ? Object.assign(new Error(error), { code: 'ECONNRESET' }) : undefined);
  }

  private append(src: Uint8Array, off: number, len: number): void {
    if (this.sentLength + len > this.sent.length) {
      const grown = new Uint8Array(Math.max(this.sent.length * 2, this.sentLength + len));
      grown.set(this.sent.subarray(0, this.sentLength));
      this.sent = grown;
    }
    this.sent.set(src.subarray(off, off + len), this.sentLength);
    this.sentLength += len;
  }

  private onBytes(): void {
    if (this.closed) return;
    const bytes = this.sent.subarray(0, this.sentLength);
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
    const all = new Uint8Array(head.length + json.length);
    all.set(head, 0);
    all.set(json, head.length);
    this.deliver(all);
    this.end();
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
  readonly connections: FakeKvsSocket[] = [];
  readonly stored = new Map<number, number>();
  /** New connections fail (the link is down). */
  down = false;
  /** Acknowledgements are sent (false: the service swallows the body, a stale connection). */
  autoAck = true;
  readonly socketFramesChunks: boolean;
  /** Chunks the sockets framed themselves (writeChunk). */
  chunksFramedBySocket = 0;
  /** What every write reports as still writable (<= 0: backpressure). */
  writable = 1 << 20;

  constructor(time: FakeTime, options: FakeKvsOptions = {}) {
    this.time = time;
    this.retentionHours = options.retentionHours ?? 24;
    this.socketFramesChunks = options.socketFramesChunks === true;
    this.sockets = (options_) => {
      const socket = new FakeKvsSocket(this, options_);
      this.connections.push(socket);
      time.set(LATENCY_MS, () => {
        if (socket.closed) return;
        if (this.down) socket.end('connect ECONNREFUSED');
        else socket.options.onConnect();
      });
      return socket;
    };
  }

  /**
   * The service's Date header: true time is 2025 while FakeTime's board clock says 2023 (a board without an RTC),
   * so the session must learn the time and move its first frames before sending them.
   */
  date(): string {
    return new Date(SERVER_EPOCH_MS + this.time.monotonic()).toUTCString();
  }

  /** PutMedia connections so far. */
  get putMedia(): FakeKvsSocket[] {
    return this.connections.filter((c) => c.putMedia);
  }

  /** The open PutMedia connection, if any. */
  get live(): FakeKvsSocket | undefined {
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
    this.live?.end('read ECONNRESET');
  }

  putMediaOpened(socket: FakeKvsSocket): void {
    socket.deliver(encodeUtf8('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: application/json\r\n\r\n'));
  }

  fragmentStarted(socket: FakeKvsSocket, timecode: number): void {
    if (!this.autoAck) return;
    this.ack(socket, 'BUFFERING', timecode);
    // The previous fragment is complete: the next one started after it.
    this.completeThrough(socket, socket.fragments.length - 1);
  }

  bodyEnded(socket: FakeKvsSocket): void {
    if (!this.autoAck) return;
    this.completeThrough(socket, socket.fragments.length);
    this.time.set(LATENCY_MS, () => {
      socket.deliver(encodeUtf8('0\r\n\r\n'));
      socket.end();
    });
  }

  /** Sends one acknowledgement as a chunk of the response. */
  ack(socket: FakeKvsSocket, type: string, timecode: number): void {
    const json = `{"EventType":"${type}","FragmentTimecode":${timecode},"FragmentNumber":"91343852333${timecode}"}`;
    socket.deliver(encodeUtf8(`${json.length.toString(16)}\r\n${json}\r\n`));
  }

  private completeThrough(socket: FakeKvsSocket, count: number): void {
    while (socket.acked < count) {
      const tc = socket.fragments[socket.acked++]!;
      this.ack(socket, 'RECEIVED', tc);
      this.stored.set(tc, (this.stored.get(tc) ?? 0) + 1);
      this.ack(socket, 'PERSISTED', tc);
    }
  }
}
