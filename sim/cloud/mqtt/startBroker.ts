// The local cloud's AWS IoT message broker (the iot:Data-ATS endpoint): aedes behind one TLS port that takes
// both kinds of client AWS IoT Core takes ("Protocols, port mappings, and authentication"):
//   - MQTT 3.1.1 over TLS with an X.509 client certificate (devices; AWS port 8883),
//   - MQTT over WebSockets at `wss://<host:port>/mqtt`, authenticated by a SigV4 signed URL (operators; AWS
//     port 443).
// One port serves both by looking at the first byte after the TLS handshake: 0x10 is an MQTT CONNECT
// (§3.1), anything else is HTTP, handed to an HTTP server that only upgrades `/mqtt`. A client certificate
// is requested but not required by the handshake (WebSocket clients have none); raw MQTT without a
// certificate chaining to the cloud's CA is dropped before any MQTT byte is read.
//
// Sessions and retained messages live in aedes's persistence, which outlives the listener: `restart()` ends
// every connection and the listener and listens again on the same port with the same store, as AWS IoT's
// persistent sessions and retained messages survive the loss of the broker node a client was connected to
// (they are kept by the service, not by a connection). They do not survive `close()` (the cloud process
// ending): like aedes's default persistence, the store is in memory.
import { Aedes, type AedesPublishPacket, type Client, type PublishPacket, type Subscription } from 'aedes';
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { serverTimeoutOptions, type ConnectionTimeouts } from '../connectionTimeouts.ts';
import type { CloudContext } from '../types.ts';
import { MqttAuthorizer, type MqttPrincipal, type MqttSession } from './MqttAuthorizer.ts';
import { MQTT_MAX_PACKET_BYTES, MqttFrameGuard } from './MqttFrameGuard.ts';
import { PeekedSocket } from './PeekedSocket.ts';
import { verifyWebSocketSignature, WebSocketAuthError } from './verifyWebSocketSignature.ts';

export interface BrokerOptions {
  readonly host: string;
  /** 0 picks a free port; restart() listens on the port first bound. */
  readonly port: number;
  readonly keyPem: string;
  readonly certPem: string;
  /** The CA device certificates must chain to (the cloud's CA). */
  readonly caPem: string;
  /**
   * Deadlines (connectionTimeouts.ts): the TLS handshake; the first byte after it and the whole CONNECT (or
   * HTTP head) within headersMs. Once connected, MQTT's own keep-alive decides (aedes: 1.5 × keep-alive).
   */
  readonly timeouts: ConnectionTimeouts;
  /** Largest MQTT packet a client may send (default: AWS IoT's 128 KiB). */
  readonly maxPacketBytes?: number;
  /** The cloud's context, available once the cloud has started (no connection can arrive before). */
  context(): CloudContext;
}

export interface RunningBroker {
  readonly port: number;
  /** `127.0.0.1:<port>`: what DescribeEndpoint answers for iot:Data-ATS. */
  readonly endpoint: string;
  /** Ends every connection and the listener, then listens again on the same port; sessions and retained messages stay. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** MQTT CONNECT's fixed-header byte (§2.2.1: type 1, flags 0). */
const CONNECT_BYTE = 0x10;
/** The WebSocket path AWS IoT serves MQTT on. */
const WEBSOCKET_PATH = '/mqtt';

/** Marks errors the broker raised itself (already logged with their reason). */
const REFUSAL = Symbol('mqtt-refusal');
function refusal(message: string): Error {
  return Object.assign(new Error(message), { [REFUSAL]: true });
}

export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const maxPacketBytes = options.maxPacketBytes ?? MQTT_MAX_PACKET_BYTES;
  const log = (event: string, fields: Record<string, unknown>): void => options.context().log(event, fields);
  const authorizer = new MqttAuthorizer(options.context);
  /** Who is on each connection aedes reads from (set before aedes sees the first byte). */
  const principals = new WeakMap<Duplex, MqttPrincipal>();
  /** The authorized session of each connected client. */
  const sessions = new WeakMap<Client, MqttSession>();

  const aedes = new Aedes({
    // Our bound on the wait for a CONNECT after the handshake (aedes' default is 30 s).
    connectTimeout: options.timeouts.headersMs,
    // AWS IoT client ids are up to 128 bytes; aedes applies this to MQTT 3.1 only, the CONNECT check does the rest.
    maxClientsIdLength: 128,
    // No $SYS heartbeat: AWS IoT publishes none, and its timer would only keep the process awake.
    heartbeatInterval: 24 * 3600_000,
  });
  await aedes.listen();

  aedes.preConnect = (client, packet, done) => {
    const principal = principals.get(client.conn as Duplex);
    const clientId = packet.clientId ?? '';
    const refuse = (reason: string): void => {
      // MQTT 3.1.1 on AWS IoT: a refused CONNECT gets no CONNACK, the connection is closed (SDKs report
      // AWS_ERROR_MQTT_UNEXPECTED_HANGUP; the lifecycle event is connect_failed / AUTHORIZATION_FAILURE).
      log('mqtt-connect-refused', { clientId, reason });
      done(refusal(reason), false);
    };
    if (!principal) return refuse('no authenticated principal on this connection');
    if (packet.protocolVersion !== 4) return refuse(`MQTT protocol level ${packet.protocolVersion}; this broker speaks MQTT 3.1.1 (level 4)`);
    const result = authorizer.connect(principal, clientId);
    if ('refused' in result) return refuse(result.refused);
    // No keep-alive (0) or more than the maximum: the maximum, as AWS IoT applies it (connectionTimeouts.ts).
    // aedes arms its keep-alive timer from this packet after preConnect.
    const maxKeepAliveS = Math.ceil(options.timeouts.mqttKeepAliveMs / 1000);
    const asked = packet.keepalive ?? 0;
    if (asked === 0 || asked > maxKeepAliveS) packet.keepalive = maxKeepAliveS;
    const will = packet.will;
    if (will) {
      // The Will is a publish made for the client later: it needs the same permissions ("Retained message
      // policy examples": iot:Publish, plus iot:RetainPublish for a retained Will). Checking them at CONNECT,
      // and refusing the connection, is our choice: AWS documents the permissions, not when it checks them;
      // this way a device learns of a Will it would silently lose while it is being set up.
      const topic = authorizer.arn('topic', will.topic);
      if (!authorizer.allows(result.session, 'iot:Publish', topic) || (will.retain && !authorizer.allows(result.session, 'iot:RetainPublish', topic))) {
        return refuse(`the Will on ${will.topic} is not allowed (iot:Publish${will.retain ? ' and iot:RetainPublish' : ''})`);
      }
    }
    sessions.set(client, result.session);
    log('mqtt-connect', { clientId, principal: describe(principal), clean: packet.clean });
    done(null, true);
  };

  aedes.authorizePublish = (client: Client | null, packet: PublishPacket, done: (error?: Error | null) => void) => {
    const session = client ? sessions.get(client) : undefined;
    if (!client || !session) {
      done(refusal('no session'));
      return;
    }
    const fail = (reason: string): void => {
      // "iot:Publish … is checked every time a PUBLISH request is sent"; AWS IoT disconnects a client that
      // publishes where it may not (lifecycle disconnectReason AUTH_ERROR, "authorization failed").
      log('mqtt-publish-refused', { clientId: session.clientId, topic: packet.topic, reason });
      done(refusal(reason));
    };
    // AWS IoT Core does not support QoS 2 ("AWS IoT differences from MQTT specifications").
    if (packet.qos === 2) return fail('QoS 2 is not supported');
    const topic = authorizer.arn('topic', packet.topic);
    if (!authorizer.allows(session, 'iot:Publish', topic)) return fail(`iot:Publish on ${topic} is not allowed`);
    if (packet.retain && !authorizer.allows(session, 'iot:RetainPublish', topic)) return fail(`iot:RetainPublish on ${topic} is not allowed`);
    done(null);
  };

  aedes.authorizeSubscribe = (client: Client, subscription: Subscription, done: (error: Error | null, subscription?: Subscription | null) => void) => {
    const session = sessions.get(client);
    const filter = authorizer.arn('topicfilter', subscription.topic);
    if (!session || !authorizer.allows(session, 'iot:Subscribe', filter)) {
      // A refused filter gets the SUBACK failure return code 0x80 (§3.9.3); the connection stays up.
      log('mqtt-subscribe-refused', { clientId: session?.clientId, filter: subscription.topic });
      done(null, null);
      return;
    }
    // No QoS 2 on AWS IoT: a QoS 2 subscription is granted QoS 1.
    done(null, subscription.qos > 1 ? { ...subscription, qos: 1 } : subscription);
  };

  aedes.authorizeForward = (client: Client, packet: AedesPublishPacket) => {
    const session = sessions.get(client);
    // iot:Receive "is confirmed every time a message is delivered": not allowed → not delivered.
    if (!session || !authorizer.allows(session, 'iot:Receive', authorizer.arn('topic', packet.topic))) return null;
    return packet;
  };

  const errorLogger = (event: string) => (client: Client, error: Error) => {
    if ((error as unknown as Record<symbol, unknown>)[REFUSAL]) return;
    log(event, { clientId: client?.id, error: error.message });
  };
  aedes.on('clientError', errorLogger('mqtt-client-error'));
  aedes.on('connectionError', errorLogger('mqtt-connection-error'));
  aedes.on('clientDisconnect', (client) => log('mqtt-disconnect', { clientId: client.id }));
  // Granted QoS per filter as the SUBACK carries it (128: refused).
  aedes.on('subscribe', (subscriptions, client) => log('mqtt-subscribe', { clientId: client.id, granted: subscriptions.map((s) => `${s.topic}:${s.qos}`) }));

  function handOver(conn: Duplex, principal: MqttPrincipal, req?: IncomingMessage): void {
    const guarded = new MqttFrameGuard(conn, {
      maxPacketBytes,
      onViolation: (reason) => log('mqtt-malformed', { principal: describe(principal), reason }),
    });
    guarded.on('error', () => {}); // aedes reports connection errors itself
    principals.set(guarded, principal);
    aedes.handle(guarded, req);
  }

  // WebSocket upgrades on /mqtt, after the signed URL checks out.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxPacketBytes + 8 });
  // The HTTP side of the port: its keep-alive deadline, no idle deadline (an upgraded WebSocket keeps the
  // socket, and MQTT's keep-alive is what times it out). The head deadline is ours, below (headDeadlines).
  const { handshakeTimeout, ...httpTimeouts } = serverTimeoutOptions(options.timeouts);
  /** Clears the request-head deadline of a connection on the HTTP path (set in 'secureConnection'). */
  const headDeadlines = new WeakMap<Duplex, () => void>();
  const http = createHttpServer(httpTimeouts, (req, res) => {
    headDeadlines.get(req.socket)?.();
    res.writeHead(req.url?.split('?', 1)[0] === WEBSOCKET_PATH ? 426 : 404, { 'Content-Type': 'text/plain', Connection: 'close' });
    res.end(`MQTT over WebSockets is served at ${WEBSOCKET_PATH} (Upgrade: websocket)\n`);
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node's HTTP server takes its own error listener off an upgraded socket: from here on a reset
    // connection (ECONNRESET) would be an unhandled 'error' and end the process. Issue 11 item 10.
    socket.on('error', (err: Error) => log('mqtt-websocket-error', { error: err.message }));
    headDeadlines.get(socket)?.();
    const answer = (status: string, message: string): void => {
      log('mqtt-websocket-refused', { status, reason: message });
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message) + 1}\r\nConnection: close\r\n\r\n${message}\n`,
      );
    };
    if (req.url?.split('?', 1)[0] !== WEBSOCKET_PATH) return answer('404 Not Found', `MQTT over WebSockets is served at ${WEBSOCKET_PATH}`);
    verifyWebSocketSignature(options.context(), req).then(
      (principal) => {
        if (socket.destroyed) return;
        wss.handleUpgrade(req, socket, head, (ws) => handOver(createWebSocketStream(ws), principal, req));
      },
      (err: unknown) => answer('403 Forbidden', err instanceof WebSocketAuthError ? err.message : 'signature verification failed'),
    );
  });
  http.on('clientError', (err, socket) => {
    log('mqtt-http-error', { error: err.message });
    socket.destroy();
  });

  const sockets = new Set<Socket>();
  const tls = createTlsServer({
    key: options.keyPem,
    cert: options.certPem,
    ca: options.caPem,
    requestCert: true,
    // WebSocket clients present no certificate; raw MQTT without a valid one is dropped below.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    handshakeTimeout,
  });
  tls.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  tls.on('tlsClientError', (err, socket) => {
    log('mqtt-tls-error', { error: err.message });
    // A plain tls.Server leaves the socket to this listener (https.Server destroys it itself): without this, a
    // handshake that times out is reported and the connection stays open for ever.
    socket.destroy();
  });
  tls.on('secureConnection', (socket: TLSSocket) => {
    socket.on('error', () => {});
    // A connection that says nothing after the handshake is dropped (aedes' CONNECT timeout starts later),
    // and so is one whose HTTP request head is not complete within the same deadline.
    const deadlineMs = options.timeouts.headersMs;
    const expire = (): void => {
      log('mqtt-idle-connection', { reason: `no MQTT CONNECT or complete HTTP request head within ${deadlineMs} ms of the TLS handshake` });
      socket.destroy();
    };
    socket.setTimeout(deadlineMs, expire);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (first[0] !== CONNECT_BYTE) {
        const peeked = new PeekedSocket(socket, first);
        // Ours until the HTTP server adds its own, and after it removes it (upgrade): never unhandled.
        peeked.on('error', () => {});
        // Node enforces headersTimeout only for a server that listens; this one is handed its connections,
        // so the deadline above runs on until the request head is complete ('request' or 'upgrade').
        headDeadlines.set(peeked, () => socket.setTimeout(0, expire));
        http.emit('connection', peeked);
        return;
      }
      socket.setTimeout(0, expire);
      socket.unshift(first);
      const peer = socket.getPeerCertificate();
      if (!socket.authorized || !peer?.raw) {
        // What the device sees on AWS IoT for a certificate it does not trust: the connection ends, no CONNACK.
        log('mqtt-connect-refused', {
          reason: peer?.raw ? `client certificate not issued by the cloud's CA (${String(socket.authorizationError)})` : 'no client certificate',
        });
        socket.destroy();
        return;
      }
      // The certificate id is the SHA-256 of the DER, as the registry keys it.
      handOver(socket, { kind: 'certificate', certificateId: createHash('sha256').update(peer.raw).digest('hex') });
    });
  });

  async function listen(port: number): Promise<number> {
    await new Promise<void>((done, fail) => {
      tls.once('error', fail);
      tls.listen(port, options.host, () => {
        tls.off('error', fail);
        done();
      });
    });
    const address = tls.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Stops listening and ends every connection; resolves once every socket has closed. */
  function stopListening(): Promise<void> {
    const closed = [...sockets].map((s) => new Promise<void>((done) => (s.destroyed && !sockets.has(s) ? done() : s.once('close', () => done()))));
    const listening = new Promise<void>((done) => (tls.listening ? tls.close(() => done()) : done()));
    for (const socket of sockets) socket.destroy();
    return Promise.all([listening, ...closed]).then(() => undefined);
  }

  const port = await listen(options.port);
  let closing: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  return {
    port,
    endpoint: `${options.host}:${port}`,
    restart() {
      if (closing) return Promise.reject(new Error('restart: the broker is closed'));
      restarting ??= (async () => {
        await stopListening();
        log('mqtt-broker-restart', { port });
        await listen(port);
      })().finally(() => (restarting = undefined));
      return restarting;
    },
    close() {
      closing ??= (async () => {
        await restarting?.catch(() => {});
        await stopListening();
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((done) => aedes.close(() => done()));
      })();
      return closing;
    },
  };
}

function describe(principal: MqttPrincipal): string {
  return principal.kind === 'certificate' ? `cert/${principal.certificateId}` : principal.session ? principal.session.arn : `key/${principal.accessKeyId}`;
}
