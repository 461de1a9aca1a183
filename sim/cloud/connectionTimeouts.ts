// How long the local cloud lets a connection do nothing, on each of its ports (issue 11 item 13). Without
// these, a client that opens a TCP or TLS connection and stays silent holds a file descriptor forever, and
// about a thousand of them lock every new client out. A real AWS endpoint drops such connections; these are
// our figures, chosen as a load balancer in front of an AWS API has them:
//   - handshakeMs: the TLS handshake must be complete this long after TCP accept (Node's default is 120 s,
//     nginx's 60 s; a client on loopback needs milliseconds, an ARM device under QEMU on a loaded machine
//     a few seconds — hence 30 s).
//   - headersMs: an HTTP request head must be complete this long after its first byte; on the MQTT port the
//     whole CONNECT, or the whole HTTP request head, this long after the handshake.
//   - idleMs: a connection with nothing moving either way (no byte in, no byte out) is closed: before its
//     first request, mid body, or while an answer is not being read. 60 s is the idle timeout of an AWS
//     load balancer by default, and what clients observe on e.g. DynamoDB. A PutMedia connection is never
//     idle that long while it is open: the service writes IDLE ACKs every few seconds without data and
//     closes it 30 s after the last byte (kvs-reference.md §4.8, items 7 and 11), both in the cloud's own
//     (timeScale'd) time, which only runs faster.
//   - keepAliveMs: between two requests on one connection (Node's 5 s default, kept: clients retry a
//     request that meets a closing keep-alive connection).
//   - mqttKeepAliveMs: the MQTT keep-alive the broker applies to a client that asks for none (0) or for
//     more: AWS IoT's maximum and default, 1,200 s (its message broker limits); a client silent for 1.5 times
//     its keep-alive is disconnected (MQTT 3.1.1 §3.1.2.10). Whole seconds on the wire: rounded up.
// These are wall-clock times, not scaled by config.timeScale: they protect the process, not model KVS.
import type { Server as HttpServer, ServerOptions as HttpServerOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

export interface ConnectionTimeouts {
  readonly handshakeMs: number;
  readonly headersMs: number;
  readonly idleMs: number;
  readonly keepAliveMs: number;
  readonly mqttKeepAliveMs: number;
}

export const DEFAULT_CONNECTION_TIMEOUTS: ConnectionTimeouts = Object.freeze({
  handshakeMs: 30_000,
  headersMs: 20_000,
  idleMs: 60_000,
  keepAliveMs: 5_000,
  mqttKeepAliveMs: 1_200_000,
});

/** The defaults with `overrides` applied; each must be a whole number of milliseconds from 1 to 1 hour. */
export function resolveConnectionTimeouts(overrides: Partial<ConnectionTimeouts> = {}): ConnectionTimeouts {
  const timeouts = { ...DEFAULT_CONNECTION_TIMEOUTS, ...overrides };
  for (const [name, ms] of Object.entries(timeouts)) {
    if (!Number.isInteger(ms) || ms < 1 || ms > 3600_000)
      throw new RangeError(`connectionTimeouts.${name}: ${ms} is not a whole number of ms from 1 to 3600000`);
  }
  return Object.freeze(timeouts);
}

/**
 * Options for node:http / node:https createServer: the header deadline with no whole-request deadline
 * (PutMedia streams for up to 45 minutes), the keep-alive time, the TLS handshake deadline, and a check
 * interval fine enough for the header deadline (Node checks every 30 s by default).
 */
export function serverTimeoutOptions(t: ConnectionTimeouts): HttpServerOptions & { handshakeTimeout: number } {
  return {
    requestTimeout: 0,
    headersTimeout: t.headersMs,
    keepAliveTimeout: t.keepAliveMs,
    connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(t.headersMs / 4))),
    handshakeTimeout: t.handshakeMs,
  };
}

/**
 * The idle deadline of an HTTP(S) server: Node's socket inactivity timeout, which it sets on every connection
 * after the handshake and again at each request, and destroys the socket on (no 'timeout' listener is added).
 */
export function applyIdleTimeout(server: HttpServer | HttpsServer, t: ConnectionTimeouts): void {
  server.timeout = t.idleMs;
}
