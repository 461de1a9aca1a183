// The local cloud: one HTTPS server on loopback, with the TLS identity, state, credentials and route tables
// of sim/cloud (KVS, IoT, IAM), plus the IoT credentials provider on a second port with client-certificate
// authentication, and the AWS IoT message broker (MQTT over TLS with client certificates, and over WebSockets
// with SigV4) on a third. Unmodified AWS SDK v3 clients reach it with `endpoint` and the CA in `caFile`.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { CredentialRegistry } from './auth/CredentialRegistry.ts';
import { createAuthenticator } from './auth/createAuthenticator.ts';
import { createAuthorizer } from './auth/createAuthorizer.ts';
import { startCredentialsProvider } from './credentials/startCredentialsProvider.ts';
import { applyIdleTimeout, resolveConnectionTimeouts, serverTimeoutOptions, type ConnectionTimeouts } from './connectionTimeouts.ts';
import { FileStreamStore } from './FileStreamStore.ts';
import { writeCloudError } from './http.ts';
import { iamRoute } from './iam/iamRoute.ts';
import { IamStore } from './iam/IamStore.ts';
import { CertificateAuthority } from './iot/CertificateAuthority.ts';
import { iotRoutes } from './iot/iotRoutes.ts';
import { IotRegistry } from './iot/IotRegistry.ts';
import { controlPlaneRoutes } from './kvs/controlPlane.ts';
import { startBroker, type RunningBroker } from './mqtt/startBroker.ts';
import { ensureCertificates } from './tls/ensureCertificates.ts';
import { CloudError, type CloudConfig, type CloudContext, type Faults, type Route } from './types.ts';

/** The AWS documentation's example key pair: obviously not a real secret, and what `aws configure` docs show. */
export const EXAMPLE_ACCESS_KEY_ID = 'AKIDEXAMPLE';
export const EXAMPLE_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

export const DEFAULT_CONFIG: CloudConfig = Object.freeze({
  region: 'us-east-1',
  accountId: '123456789012',
  credentials: new Map([[EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY]]),
  maxConnectionMs: 45 * 60_000,
  idleAckMs: 3000,
  idleCloseMs: 30_000,
  maxFragmentMs: 20_000,
  maxFutureMs: 10 * 60_000,
  enforceTps: true,
  timeScale: 1,
});

export interface StartCloudOptions {
  /** Where the CA, certificates, streams and credentials live (created if missing). */
  readonly stateDir: string;
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** TCP port of the IoT credentials provider (mTLS); 0 (the default) picks a free one. DescribeEndpoint names it. */
  readonly credentialsPort?: number;
  /** TCP port of the MQTT broker (TLS with client certificates, and WSS at /mqtt); 0 (the default) picks a free one. */
  readonly mqttPort?: number;
  /**
   * What DescribeEndpoint answers for `iot:Data-ATS` / `iot:Data`. Default: `127.0.0.1:<mqtt port>`, the
   * broker. Only for pointing devices at another broker.
   */
  readonly iotDataEndpoint?: string;
  readonly host?: '127.0.0.1';
  /** Extra route tables (e.g. media). The control plane is always served; passing its routes again is harmless. */
  readonly routes?: readonly Route[];
  readonly config?: Partial<CloudConfig>;
  /** The live fault knobs; kept by reference, so callers can change them while the cloud runs. */
  readonly faults?: Faults;
  /** Handshake, header, idle and keep-alive deadlines of every port (connectionTimeouts.ts); defaults for the rest. */
  readonly connectionTimeouts?: Partial<ConnectionTimeouts>;
  /** Receives every `ctx.log` event (one per request, plus events of the features). Default: discarded. */
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
}

export interface RunningCloud {
  /** https://127.0.0.1:<port> */
  readonly endpoint: string;
  /** https://127.0.0.1:<credentials port>: the IoT credentials provider (client certificate required). */
  readonly credentialsEndpoint: string;
  readonly caPem: string;
  /** Absolute path of the CA certificate (what AWS_CA_BUNDLE should name). */
  readonly caFile: string;
  readonly ctx: CloudContext;
  /** The AWS IoT message broker (sim/cloud/mqtt): DescribeEndpoint iot:Data-ATS names `endpoint`. */
  readonly mqtt: {
    readonly port: number;
    /** `127.0.0.1:<port>`: devices use mqtts://, operators wss://<endpoint>/mqtt. */
    readonly endpoint: string;
    /** Ends every MQTT connection and listens again on the same port; sessions and retained messages stay. */
    restart(): Promise<void>;
  };
  /** Stops listening and ends every open connection, streaming ones included. */
  close(): Promise<void>;
}

function routeKey(method: string, path: string): string {
  return `${method} ${path}`;
}

function buildRouteTable(routes: readonly Route[]): Map<string, Route> {
  const table = new Map<string, Route>();
  for (const route of routes) {
    const key = routeKey(route.method, route.path);
    const existing = table.get(key);
    if (existing && existing !== route) throw new TypeError(`startCloud: two different routes for ${key}`);
    table.set(key, route);
  }
  return table;
}

/** The route for a request: its exact path, else the longest `<prefix>/*` route above it (REST paths of IoT). */
function findRoute(table: ReadonlyMap<string, Route>, method: string, path: string): Route | undefined {
  const exact = table.get(routeKey(method, path));
  if (exact) return exact;
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    const route = table.get(routeKey(method, `${path.slice(0, cut)}/*`));
    if (route) return route;
  }
  return undefined;
}

export async function startCloud(options: StartCloudOptions): Promise<RunningCloud> {
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true });
  const config: CloudConfig = Object.freeze({ ...DEFAULT_CONFIG, ...options.config });
  const faults: Faults = options.faults ?? {};
  const host = options.host ?? '127.0.0.1';
  const emit = options.log ?? (() => {});
  const log = (event: string, fields: Record<string, unknown> = {}): void => emit(event, fields);
  // config.timeScale (types.ts): a test knob; at 1 this is Date.now() plus the skew fault, as always.
  const scale = config.timeScale ?? 1;
  if (!Number.isInteger(scale) || scale < 1 || scale > 1000) throw new RangeError(`config.timeScale: ${scale} is not a whole number from 1 to 1000`);
  const timeouts = resolveConnectionTimeouts(options.connectionTimeouts);
  const origin = config.timeOrigin ?? Date.now();
  const now = (): number => origin + (Date.now() - origin) * scale + (faults.clockSkewMs ?? 0);

  const table = buildRouteTable([...controlPlaneRoutes, ...iotRoutes, iamRoute, ...(options.routes ?? [])]);
  // State first: a corrupt state file fails the start before any key is generated.
  const streams = new FileStreamStore(stateDir);
  const registry = new CredentialRegistry({ stateDir, statics: config.credentials, now });
  const iot = new IotRegistry(stateDir);
  const iam = new IamStore(stateDir);
  const certificates = await ensureCertificates(stateDir);
  // Device certificates are signed with the same CA key (ensureCertificates keeps it as ca-key.pem).
  const ca = new CertificateAuthority(certificates.caPem, readFileSync(join(stateDir, 'ca-key.pem'), 'utf8'));
  const authenticate = createAuthenticator({ region: config.region, credentials: registry, faults, now, log });
  const authorize = createAuthorizer({ iam });

  let ctx: CloudContext | undefined;
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const path = (req.url ?? '/').split('?', 1)[0]!;
    let errorType: string | undefined;
    // Every answer carries the server's clock (skew fault included): devices correct their clock from it,
    // and the SDK corrects its clock offset from it after a "Signature expired".
    res.setHeader('Date', new Date(now()).toUTCString());
    res.setHeader('x-amzn-RequestId', requestId);
    res.on('close', () => {
      log('request', {
        method: req.method,
        path,
        status: res.statusCode,
        ms: Math.round(performance.now() - started),
        requestId,
        ...(errorType ? { error: errorType } : {}),
      });
    });
    try {
      const route = findRoute(table, req.method ?? '', path);
      if (!route) throw new CloudError(404, 'UnknownOperationException', `No operation ${req.method} ${path}`);
      await route.handler(req, res, ctx!);
    } catch (err) {
      const cloudError =
        err instanceof CloudError ? err : new CloudError(500, 'InternalFailure', 'The request processing has failed because of an unknown error.');
      if (!(err instanceof CloudError)) log('internal-error', { path, requestId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      errorType = cloudError.type;
      if (res.headersSent) res.destroy();
      else writeCloudError(res, cloudError, !req.complete);
    }
  }

  const server: Server = createServer(
    {
      key: certificates.keyPem,
      cert: certificates.certPem,
      minVersion: 'TLSv1.2',
      // Handshake, header and keep-alive deadlines, and no whole-request deadline: PutMedia requests stream
      // for up to 45 minutes (Node's default would end them at 5).
      ...serverTimeoutOptions(timeouts),
    },
    (req, res) => void handle(req, res),
  );
  applyIdleTimeout(server, timeouts);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A reset before or during the handshake is reported by 'tlsClientError'; this listener only makes sure
    // no error on a socket the cloud holds is ever unhandled (issue 11 item 10).
    socket.on('error', () => {});
  });
  server.on('tlsClientError', (err) => log('tls-error', { error: err.message }));

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const endpoint = `https://${host}:${port}`;
  let credentials;
  try {
    credentials = await startCredentialsProvider({
      host,
      port: options.credentialsPort ?? 0,
      keyPem: certificates.keyPem,
      certPem: certificates.certPem,
      caPem: certificates.caPem,
      faults,
      timeouts,
      context: () => ctx!,
    });
  } catch (err) {
    server.close();
    throw err;
  }
  let broker: RunningBroker;
  try {
    broker = await startBroker({
      host,
      port: options.mqttPort ?? 0,
      keyPem: certificates.keyPem,
      certPem: certificates.certPem,
      caPem: certificates.caPem,
      timeouts,
      context: () => ctx!,
    });
  } catch (err) {
    server.close();
    await credentials.close();
    throw err;
  }
  const dataEndpoint = options.iotDataEndpoint ?? broker.endpoint;

  ctx = Object.freeze({
    config,
    streams,
    faults,
    temporaryCredentials: registry,
    endpoint,
    now,
    authenticate,
    authorize,
    iot,
    iam,
    ca,
    // DescribeEndpoint: host:port on loopback for each endpoint type AWS IoT knows.
    iotEndpoints: Object.freeze({
      'iot:Data': dataEndpoint,
      'iot:Data-ATS': dataEndpoint,
      'iot:CredentialProvider': `${host}:${credentials.port}`,
      'iot:Jobs': `${host}:${port}`,
    }),
    log,
  });

  let closing: Promise<void> | undefined;
  const provider = credentials;
  return {
    endpoint,
    credentialsEndpoint: `https://${host}:${provider.port}`,
    caPem: certificates.caPem,
    caFile: certificates.caFile,
    ctx,
    mqtt: Object.freeze({ port: broker.port, endpoint: broker.endpoint, restart: () => broker.restart() }),
    close() {
      closing ??= Promise.all([
        new Promise<void>((done) => {
          server.close(() => done());
          for (const socket of sockets) socket.destroy();
        }),
        provider.close(),
        broker.close(),
      ]).then(() => undefined);
      return closing;
    },
  };
}
