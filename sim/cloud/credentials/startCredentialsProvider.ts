// The AWS IoT credentials provider of the local cloud: its own HTTPS server (AWS gives it its own host name,
// `<prefix>.credentials.iot.<region>.amazonaws.com`), on loopback, with client-certificate authentication.
// The TLS handshake requires a client certificate issued by the cloud's CA (anything else fails the
// handshake, as on AWS where an unknown certificate never gets an HTTP answer); then
// `GET /role-aliases/<alias>/credentials` with `x-amzn-iot-thingname` is answered by issueIotCredentials.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { applyIdleTimeout, serverTimeoutOptions, type ConnectionTimeouts } from '../connectionTimeouts.ts';
import type { CloudContext, Faults } from '../types.ts';
import { issueIotCredentials } from './issueIotCredentials.ts';

export interface CredentialsProviderOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly keyPem: string;
  readonly certPem: string;
  /** The CA that issued the device certificates (the cloud's CA). */
  readonly caPem: string;
  readonly faults: Faults;
  /** Handshake, header, idle and keep-alive deadlines (connectionTimeouts.ts). */
  readonly timeouts: ConnectionTimeouts;
  /** The cloud's context, available once the cloud has started (requests cannot arrive before). */
  context(): CloudContext;
}

export interface RunningCredentialsProvider {
  readonly port: number;
  close(): Promise<void>;
}

const CREDENTIALS_PATH = /^\/role-aliases\/([^/]+)\/credentials$/;

function answer(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': bytes.length,
    ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
  });
  res.end(bytes);
}

function handle(req: IncomingMessage, res: ServerResponse, options: CredentialsProviderOptions): void {
  const ctx = options.context();
  const started = performance.now();
  res.setHeader('Date', new Date(ctx.now()).toUTCString());
  res.setHeader('x-amzn-RequestId', randomUUID());
  res.on('close', () =>
    ctx.log('credentials-request', { method: req.method, path: req.url, status: res.statusCode, ms: Math.round(performance.now() - started) }),
  );
  req.resume();
  if (options.faults.credentialsDown) {
    answer(res, 503, { message: 'Service Unavailable' }, 'ServiceUnavailableException');
    return;
  }
  const path = (req.url ?? '/').split('?', 1)[0]!;
  const match = CREDENTIALS_PATH.exec(path);
  if (!match) {
    answer(res, 404, { message: 'Not Found' }, 'ResourceNotFoundException');
    return;
  }
  if (req.method !== 'GET') {
    answer(res, 405, { message: 'Method Not Allowed' });
    return;
  }
  let roleAlias: string;
  try {
    roleAlias = decodeURIComponent(match[1]!);
  } catch {
    answer(res, 404, { message: 'Role alias does not exist' }, 'ResourceNotFoundException');
    return;
  }
  const peer = (req.socket as TLSSocket).getPeerCertificate();
  if (!peer?.raw) {
    answer(res, 403, { message: 'Certificate is invalid on this endpoint' }, 'AccessDeniedException');
    return;
  }
  const certificateId = createHash('sha256').update(peer.raw).digest('hex');
  const header = req.headers['x-amzn-iot-thingname'];
  const thingName = Array.isArray(header) ? header.join(',') : header;
  const result = issueIotCredentials(ctx, { certificateId, thingName, roleAlias });
  answer(res, result.status, result.body, result.errorType);
}

export async function startCredentialsProvider(options: CredentialsProviderOptions): Promise<RunningCredentialsProvider> {
  const sockets = new Set<Socket>();
  const server: Server = createServer(
    {
      key: options.keyPem,
      cert: options.certPem,
      ca: options.caPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ...serverTimeoutOptions(options.timeouts),
    },
    (req, res) => handle(req, res, options),
  );
  applyIdleTimeout(server, options.timeouts);
  server.on('connection', (socket: Socket) => {
    // Never an unhandled 'error' on a socket the cloud holds; resets are reported by 'tlsClientError'.
    socket.on('error', () => {});
    if (options.faults.credentialsDown === 'reset') {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (err) => options.context().log('credentials-tls-error', { error: err.message }));
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      done();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
