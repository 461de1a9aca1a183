import type { Socket, SocketFactory, TlsOptions } from '../../io/Socket.ts';
import type { ViewList } from '../media/ViewList.ts';

/** Where an MqttConnection connects. */
export interface MqttTarget {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions;
}

/**
 * What a connection reports to its owner. Each event names the connection it comes from: the owner acts on it only
 * while that connection is its current one (`owner.conn === conn`), so a late event of a connection already dropped,
 * replaced or closed is ignored. The connection's identity is the guard, as PutMediaSession does with its
 * PutMediaConnection: no generation counter to keep in step.
 */
export interface MqttConnectionEvents {
  /** TCP is up (a TLS handshake follows when configured). */
  onTransportConnect(conn: MqttConnection): void;
  /** The connection is ready for bytes: write CONNECT. */
  onConnect(conn: MqttConnection): void;
  onReadable(conn: MqttConnection): void;
  /** The socket takes `conn.writable` more bytes after backpressure. */
  onWritable(conn: MqttConnection): void;
  /** The socket closed: an orderly close by the broker (no error) or a failure. */
  onClose(conn: MqttConnection, error: Error | undefined): void;
}

/**
 * One connection attempt of an MqttClient, and what is true only while it lives: its socket, how much the socket
 * takes, when a packet last went out (keep-alive counts from it) and whether a PINGREQ is unanswered. The client's
 * buffers, decoder and queue outlive it (memory fixed at construction); this object is the one thing made per
 * attempt.
 */
export class MqttConnection {
  /** Bytes the socket takes before backpressure, as its last write reported; 0 until the CONNACK. */
  writable = 0;
  /** `clock.monotonic()` ms when the last packet went out. */
  lastSent = 0;
  /** A PINGREQ is out and its PINGRESP has not come (§3.1.2.10). */
  pingOutstanding = false;
  private socket: Socket | undefined;
  private readonly views: ViewList;

  /** `views`: the client's one-entry gather list, reused for every write. */
  constructor(views: ViewList) {
    this.views = views;
  }

  /** Opens the socket; events follow. Throws what the socket factory throws (the caller counts it as a failed attempt). */
  open(sockets: SocketFactory, target: MqttTarget, events: MqttConnectionEvents): void {
    this.socket = sockets({
      host: target.host,
      port: target.port,
      ...(target.tls ? { tls: target.tls } : {}),
      onTransportConnect: () => events.onTransportConnect(this),
      onConnect: () => events.onConnect(this),
      onReadable: () => events.onReadable(this),
      onWritable: (count) => {
        this.writable = count;
        events.onWritable(this);
      },
      onClose: (error) => events.onClose(this, error),
    });
  }

  /** Reads what has arrived into `into`; 0 when nothing (or the connection is closed). */
  read(into: Uint8Array): number {
    return this.socket ? this.socket.read(into, 0, into.length) : 0;
  }

  /** Writes one packet as one gather write; `now` is `clock.monotonic()`. A closed connection writes nothing. */
  send(bytes: Uint8Array, length: number, now: number): void {
    const socket = this.socket;
    if (!socket) return;
    this.views.push(bytes, 0, length);
    try {
      this.writable = socket.write(this.views);
    } finally {
      this.views.clear();
    }
    this.lastSent = now;
  }

  /** Closes the socket, first writing `farewell` (a DISCONNECT, §3.14) when given; a second close does nothing. */
  close(farewell?: Uint8Array, length = 0): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    if (farewell) {
      try {
        this.views.push(farewell, 0, length);
        socket.write(this.views);
      } catch {
        // the connection is going away anyway
      } finally {
        this.views.clear();
      }
    }
    socket.close();
  }
}
