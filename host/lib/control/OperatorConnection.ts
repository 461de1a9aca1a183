// One operator connection to the control channel: MQTT 3.1.1 over WebSockets (mqtt.js) to a presigned
// `wss://…/mqtt` URL, clean session, with mqtt.js's failures translated into named errors a person can act
// on. Unreachable (network, TLS) and refused (403 on the upgrade, CONNACK 4/5, SUBACK 0x80, a disconnect on
// publish, which is what AWS IoT does when the policy denies iot:Publish) are told apart.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { FieldcamError } from '../../shared/hostErrors.ts';

export interface OperatorMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly retain: boolean;
}

export interface OperatorConnectionOptions {
  /** A freshly presigned `wss://host[:port]/mqtt?…` URL; called before the first connection and after each drop. */
  readonly signUrl: () => Promise<string>;
  /** PEM CA bundle replacing the default trust (AWS_CA_BUNDLE). */
  readonly ca?: string;
  /** Default `fieldcam-cli-<random>`: unique, so two operators never take over each other's connection. */
  readonly clientId?: string;
  readonly onMessage: (message: OperatorMessage) => void;
  /** Keep reconnecting after a drop (watch). Otherwise a drop is final and `lost` settles. */
  readonly reconnect?: boolean;
  /** Connection state changes while reconnecting (watch shows them). */
  readonly onState?: (state: 'connected' | 'offline') => void;
  /** How long a connection attempt (WebSocket upgrade + CONNACK) may take; default 10 s. */
  readonly connectTimeoutMs?: number;
}

const RECONNECT_MS = 2000;
/** Largest WebSocket frame accepted: AWS IoT's 128 KiB message limit plus MQTT framing. */
const MAX_FRAME_BYTES = 132 * 1024;
/** MQTT keep-alive (§3.1.2.10); AWS IoT accepts 30-1200 s. */
const KEEPALIVE_S = 30;

export function operatorClientId(): string {
  return `fieldcam-cli-${randomBytes(6).toString('hex')}`;
}

interface ErrorLike {
  message?: string;
  code?: string | number;
}

/** mqtt.js / ws / TLS failure → the named error a person reads. */
export function translateConnectError(host: string, err: unknown): FieldcamError {
  if (err instanceof FieldcamError) return err;
  const e = (err ?? {}) as ErrorLike;
  const message = e.message ?? String(err);
  const refusal = /Unexpected server response: (\d{3})(?: \((.*)\))?/s.exec(message);
  const status = refusal?.[1];
  if (status === '401' || status === '403') {
    return new FieldcamError(
      'CLI_BROKER_REFUSED',
      `${host} refused the WebSocket upgrade (HTTP ${status}${refusal?.[2] ? `: ${refusal[2]}` : ''}): the SigV4 signature, the credentials or the clock were not accepted`,
    );
  }
  if (e.code === 4 || e.code === 5 || /Not authorized|Bad User Name or Password/i.test(message)) {
    return new FieldcamError(
      'CLI_BROKER_REFUSED',
      `${host} refused the MQTT connection (${message}): the IAM policy must allow iot:Connect for this client id`,
    );
  }
  if (typeof e.code === 'string' && /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_(GET|VERIFY)/.test(e.code)) {
    return new FieldcamError('CLI_BROKER_UNREACHABLE', `${host}: its TLS certificate was not verified (${e.code}); set AWS_CA_BUNDLE to the CA that issued it`);
  }
  if (status)
    return new FieldcamError('CLI_BROKER_UNREACHABLE', `${host} answered the WebSocket upgrade with HTTP ${status}: is it an MQTT endpoint (iot:Data-ATS)?`);
  return new FieldcamError('CLI_BROKER_UNREACHABLE', `${host}: ${message}${e.code && !message.includes(String(e.code)) ? ` (${e.code})` : ''}`);
}

export class OperatorConnection {
  readonly clientId: string;
  /** Settles with the error that ended a non-reconnecting connection; never settles after close(). */
  readonly lost: Promise<FieldcamError>;
  readonly #client: MqttClient;
  readonly #host: string;
  #closed = false;

  private constructor(client: MqttClient, clientId: string, host: string, lost: Promise<FieldcamError>) {
    this.#client = client;
    this.clientId = clientId;
    this.#host = host;
    this.lost = lost;
  }

  /** Connects (resolves on CONNACK 0) or fails with CLI_BROKER_UNREACHABLE / CLI_BROKER_REFUSED. */
  static async open(options: OperatorConnectionOptions): Promise<OperatorConnection> {
    let url = await options.signUrl();
    const host = new URL(url).host;
    const clientId = options.clientId ?? operatorClientId();
    let lastError: unknown;
    // Our own WebSocket: mqtt.js drops stream errors without a `code`, which is how ws reports a refused
    // upgrade. The refusal's status and body (AWS IoT and the local cloud say why) are kept for the message.
    const createWebsocket = (wsUrl: string, protocols: string[]): WebSocket => {
      const socket = new WebSocket(wsUrl, protocols, { ...(options.ca ? { ca: options.ca } : {}), rejectUnauthorized: true, maxPayload: MAX_FRAME_BYTES });
      socket.on('unexpected-response', (req, res: IncomingMessage) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 512) body += chunk;
        });
        res.on('end', () => {
          lastError = Object.assign(new Error(`Unexpected server response: ${res.statusCode}${body.trim() ? ` (${body.trim().slice(0, 300)})` : ''}`), {
            status: res.statusCode,
          });
          req.destroy();
          socket.terminate();
        });
      });
      socket.on('error', (err: Error) => {
        lastError ??= err;
      });
      return socket;
    };
    const client = mqtt.connect(url, {
      clientId,
      protocolVersion: 4,
      clean: true,
      keepalive: KEEPALIVE_S,
      reconnectPeriod: options.reconnect ? RECONNECT_MS : 0,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      // Each (re)connection takes the latest presigned URL: an expired X-Amz-Expires would be refused.
      transformWsUrl: () => url,
      createWebsocket,
    });
    let resolveLost!: (err: FieldcamError) => void;
    const lost = new Promise<FieldcamError>((done) => (resolveLost = done));
    // A drop is reported through `lost` (or reconnects); nobody may be left with an unhandled rejection.
    client.on('error', (err) => {
      lastError ??= err;
    });
    client.on('message', (topic, payload, packet) => {
      options.onMessage({ topic, payload: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength), retain: packet.retain });
    });
    await new Promise<void>((done, fail) => {
      const onConnect = (): void => {
        client.off('close', onClose);
        done();
      };
      const onClose = (): void => {
        if (options.reconnect && lastError === undefined) return;
        client.off('connect', onConnect);
        client.end(true);
        fail(
          lastError === undefined
            ? new FieldcamError('CLI_BROKER_UNREACHABLE', `${host}: the connection closed before the broker accepted it (no CONNACK)`)
            : translateConnectError(host, lastError),
        );
      };
      client.once('connect', onConnect);
      client.on('close', onClose);
    });
    const connection = new OperatorConnection(client, clientId, host, lost);
    client.on('close', () => {
      if (connection.#closed) return;
      if (options.reconnect) {
        options.onState?.('offline');
        // Sign again for the next attempt; if signing fails, the current URL is tried until it expires.
        options.signUrl().then(
          (fresh) => (url = fresh),
          () => undefined,
        );
        return;
      }
      resolveLost(
        lastError === undefined
          ? new FieldcamError('CLI_BROKER_REFUSED', `${host} closed the connection (AWS IoT does so when the policy denies a publish)`)
          : translateConnectError(host, lastError),
      );
    });
    client.on('connect', () => options.onState?.('connected'));
    return connection;
  }

  /** SUBSCRIBE at QoS 1; a filter granted 0x80 (§3.9.3) is CLI_BROKER_REFUSED naming it. */
  async subscribe(filters: readonly string[]): Promise<void> {
    const granted = await this.#race(this.#client.subscribeAsync([...filters], { qos: 1 }));
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) {
      throw new FieldcamError(
        'CLI_BROKER_REFUSED',
        `${this.#host} refused the subscription to ${refused.join(', ')} (SUBACK 0x80): the IAM policy must allow iot:Subscribe on it`,
      );
    }
  }

  /** PUBLISH at QoS 1: resolves on PUBACK. */
  async publish(topic: string, payload: Uint8Array, retain = false): Promise<void> {
    await this.#race(this.#client.publishAsync(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1, retain }));
  }

  /** DISCONNECT and close; nothing is delivered afterwards. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise<void>((done) => this.#client.end(false, {}, () => done()));
  }

  /** A pending MQTT exchange fails with the loss reason if the connection drops first. */
  #race<T>(pending: Promise<T>): Promise<T> {
    const settled = pending.catch((err: unknown) => {
      // mqtt.js fails what is in flight with "Connection closed" when the broker drops us mid-exchange.
      throw err instanceof FieldcamError
        ? err
        : new FieldcamError('CLI_BROKER_REFUSED', `${this.#host}: ${(err as Error).message} (AWS IoT closes the connection when the policy denies a publish)`);
    });
    return Promise.race([settled, this.lost.then((err) => Promise.reject(err))]);
  }
}
