import type { AckScanPort } from '../../io/AckScan.ts';
import type { Socket, SocketFactory } from '../../io/Socket.ts';
import type { TimerPort } from '../../io/Timer.ts';
import { FieldcamError } from '../errors.ts';
import { ChunkFramer } from '../http/ChunkFramer.ts';
import { HttpResponseParser } from '../http/HttpResponseParser.ts';
import { writeRequestHead } from '../http/writeRequestHead.ts';
import { ViewList } from '../media/ViewList.ts';
import { AckParser, type AckEvent } from './AckParser.ts';
import { NET_DEADLINE_DEFAULTS, PhaseDeadline, type NetDeadlines } from '../net/PhaseDeadline.ts';
import { socketError } from '../net/socketError.ts';
import type { HttpResult, HttpTarget } from '../net/httpExchange.ts';

export interface PutMediaConnectionEvents {
  /** HTTP 200 arrived: the body may be streamed. */
  onReady(): void;
  onAck(ack: AckEvent): void;
  /** A malformed ACK (self-correcting; counted). */
  onAckError(err: FieldcamError): void;
  /** The service answered with an error status before streaming (403, 404, 400 …). */
  onRefused(result: HttpResult): void;
  /** The response ended (the service finished after our last chunk) or the connection closed / failed. */
  onClosed(err: FieldcamError | undefined): void;
  /** The socket can take more bytes after backpressure. */
  onWritable(): void;
}

export interface PutMediaConnectionDeps {
  readonly sockets: SocketFactory;
  readonly timers: TimerPort;
  /** Per-phase deadlines (default NET_DEADLINE_DEFAULTS). */
  readonly deadlines?: NetDeadlines;
  /** The board's ACK framing walk (ack.c on the XS board); absent: AckParser's TypeScript walk. */
  readonly ackScan?: AckScanPort;
}

const HEAD_SCRATCH = 8 * 1024;
const READ_SCRATCH = 4 * 1024;

/** Bytes the chunked coding adds to a chunk of `size` bytes: the size in hex, CRLF, and the CRLF after the data. */
function framingBytes(size: number): number {
  // Once per frame: comparisons for the frame sizes a camera makes, a loop only past 64 KiB.
  if (size < 0x10000) return size < 0x100 ? (size < 0x10 ? 5 : 6) : size < 0x1000 ? 7 : 8;
  let digits = 5;
  for (let n = size / 0x100000; n >= 1; n /= 16) digits++;
  return digits + 4;
}

/**
 * One PutMedia request (kvs-reference.md §4): the signed head, then — once the service answered 200 — one
 * HTTP chunk per call to `writeChunk` (gather write: [chunk size line, Matroska views…, CRLF]) while the
 * chunked response is parsed into ACK events. Buffers are allocated per connection, never per frame.
 */
export class PutMediaConnection {
  private readonly events: PutMediaConnectionEvents;
  private readonly deps: PutMediaConnectionDeps;
  /** TCP, TLS, response head, first ACK: each bounded; expiry tears the attempt down (onClosed with the phase's code). */
  private readonly deadline: PhaseDeadline;
  private acked = false;
  private readonly target: HttpTarget;
  private socket: Socket | undefined;
  private readonly framer = new ChunkFramer();
  private readonly chunk: ViewList;
  private readonly received = new Uint8Array(READ_SCRATCH);
  private readonly response: HttpResponseParser;
  private readonly acks: AckParser;
  private readonly head = new Uint8Array(HEAD_SCRATCH);
  private readonly headLength: number;
  private status = 0;
  private refusedBody: Uint8Array[] = [];
  private refusedHeaders: readonly (readonly [string, string])[] = [];
  private closed = false;
  /** The socket frames each chunk itself (Socket.writeChunk: the XS board, in C): no size line nor CRLF in the list. */
  private socketFrames = false;
  ready = false;
  /** Bytes the socket will still take before backpressure. */
  writable = 0;
  bytesSent = 0;

  constructor(deps: PutMediaConnectionDeps, target: HttpTarget, headers: readonly (readonly [string, string])[], events: PutMediaConnectionEvents) {
    this.events = events;
    this.deps = deps;
    this.target = target;
    this.deadline = new PhaseDeadline(deps.timers, deps.deadlines ?? NET_DEADLINE_DEFAULTS, `PutMedia connection to ${target.host}:${target.port}`, (error) =>
      this.shut(error),
    );
    this.chunk = new ViewList(1);
    this.headLength = writeRequestHead('POST', '/putMedia', headers as [string, string][], this.head);
    this.acks = new AckParser({
      onAck: (ack) => {
        if (!this.acked) {
          this.acked = true;
          this.deadline.clear(); // from here the session's staleness rule watches the connection
        }
        events.onAck(ack);
      },
      onError: (err) => events.onAckError(err),
      ...(deps.ackScan ? { scan: deps.ackScan } : {}),
    });
    this.response = new HttpResponseParser({
      onHead: (status, _reason, list) => {
        this.status = status;
        this.deadline.clear();
        if (status === 200) {
          this.ready = true;
          events.onReady();
        } else {
          this.refusedHeaders = list.map(([k, v]) => [k, v] as const);
        }
      },
      onBody: (bytes, offset, length) => {
        if (this.status === 200) this.acks.push(bytes, offset, length);
        else if (this.refusedBody.length < 16) this.refusedBody.push(bytes.slice(offset, offset + length));
      },
      onEnd: () => {
        if (this.status !== 200) this.refuse();
        else this.shut(undefined);
      },
    });
  }

  /**
   * Opens the connection and sends the signed head (the constructor connects nothing). Events arrive only
   * between start() and close(); use after close throws.
   */
  start(): void {
    if (this.closed) throw new RangeError('the PutMediaConnection is closed');
    if (this.socket) throw new RangeError('start() called twice');
    const target = this.target;
    const events = this.events;
    this.deadline.enterConnect(target.tls !== undefined);
    const socket: Socket = this.deps.sockets({
      host: target.host,
      port: target.port,
      ...(target.tls ? { tls: target.tls } : {}),
      onTransportConnect: () => {
        if (!this.closed) this.deadline.enter('tls');
      },
      onConnect: () => {
        if (this.closed) return;
        this.deadline.enter('head');
        const views = new ViewList(1);
        views.push(this.head, 0, this.headLength);
        this.writable = socket.write(views);
      },
      onReadable: () => this.readAll(),
      onWritable: (count) => {
        this.writable = count;
        if (!this.closed) events.onWritable();
      },
      onClose: (error) => {
        if (this.closed) return;
        if (!error) {
          try {
            this.response.end();
          } catch {
            // the response was cut: reported below as a network error
          }
        }
        if (!this.closed) {
          if (this.status !== 0 && this.status !== 200) this.refuse();
          else if (error) this.shut(socketError(error, `PutMedia connection to ${target.host}:${target.port} failed`));
          else this.shut(new FieldcamError('UPLOAD_NETWORK', `PutMedia connection to ${target.host}:${target.port} closed by the service`));
        }
      },
    });
    this.socket = socket;
    this.socketFrames = typeof socket.writeChunk === 'function';
  }

  /**
   * Clears `views` and starts the next HTTP chunk in it: range 0 is the chunk-size line's place, filled in by
   * `writeChunk` once the data is in the list. So a frame's ranges are framed where they are, not copied into a
   * second list per frame (docs/performance.md). `views` needs two ranges more than the data: the line and the CRLF.
   * When the socket frames chunks itself (Socket.writeChunk) the list holds the data alone.
   */
  beginChunk(views: ViewList): void {
    views.clear();
    if (!this.socketFrames) this.framer.pushChunkPlaceholder(views);
  }

  /**
   * Sends `views`, begun with `beginChunk`, as one HTTP chunk: the size line, the data pushed since, CRLF, in one
   * gather write. Nothing is sent when no data was pushed (a zero-size chunk would end the body). Returns the bytes
   * still writable (<= 0: wait for onWritable).
   */
  writeChunk(views: ViewList): number {
    if (!this.ready || this.closed) throw new RangeError('writeChunk before the 200 or after close');
    if (this.socketFrames) {
      // Once per frame: the socket frames the chunk where it writes it (one native call on the XS board).
      const data = views.byteLength;
      if (data === 0) return this.writable;
      this.bytesSent += data + framingBytes(data);
      this.writable = this.socket!.writeChunk!(views);
      return this.writable;
    }
    const size = views.byteLength - views.lengths[0]!;
    if (size === 0) return this.writable;
    this.framer.setChunkHeader(views, 0, size);
    this.framer.pushChunkEnd(views);
    this.bytesSent += views.byteLength;
    this.writable = this.socket!.write(views);
    return this.writable;
  }

  /**
   * The session put the first bytes of a fragment on this connection: an acknowledgement (BUFFERING at the
   * latest) must follow within the first-ACK deadline, else the path carries the head but not the body.
   */
  fragmentSent(): void {
    if (!this.acked && !this.closed && this.deadline.current === undefined) this.deadline.enter('firstAck');
  }

  /** The zero-length chunk: the body is complete; the service flushes its ACKs and ends the response. */
  finish(): void {
    if (this.closed || !this.ready) return;
    const chunk = this.chunk;
    chunk.clear();
    this.framer.pushLastChunk(chunk);
    this.writable = this.socket!.write(chunk);
    chunk.clear();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deadline.clear();
    this.socket?.close();
  }

  private readAll(): void {
    try {
      const socket = this.socket!;
      for (let n = socket.read(this.received, 0, this.received.length); n > 0 && !this.closed; n = socket.read(this.received, 0, this.received.length)) {
        this.response.push(this.received, 0, n);
      }
    } catch (err) {
      this.shut(new FieldcamError('UPLOAD_BAD_RESPONSE', `PutMedia response: ${(err as Error).message}`));
    }
  }

  private refuse(): void {
    if (this.closed) return;
    let size = 0;
    for (const b of this.refusedBody) size += b.length;
    const body = new Uint8Array(size);
    let at = 0;
    for (const b of this.refusedBody) {
      body.set(b, at);
      at += b.length;
    }
    this.closed = true;
    this.deadline.clear();
    this.socket?.close();
    this.events.onRefused({ status: this.status, headers: this.refusedHeaders, body });
  }

  private shut(err: FieldcamError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.deadline.clear();
    this.socket?.close();
    this.events.onClosed(err);
  }
}
