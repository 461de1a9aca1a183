// Helpers of the broker suites (Node only): devices provisioned against the local cloud through the unmodified
// IoT SDK with fieldcam's own IoT policy, real mqtt.js clients over mTLS and over WSS, an independent SigV4 URL
// presigner written from the AWS IoT developer guide ("Signing MQTT over WebSocket requests"), and waits on
// observed events only.
import { AttachPolicyCommand, AttachThingPrincipalCommand, CreatePolicyCommand, CreateThingCommand } from '@aws-sdk/client-iot';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { createHash, createHmac } from 'node:crypto';
import { iotPolicyDocument } from '../../../../host/lib/provision/provisionNames.ts';
import type { RunningCloud } from '../../../../sim/cloud/startCloud.ts';
import { CREDENTIALS } from '../support.ts';
import { createCertificate, iotClient, type DeviceCertificate } from '../iot/iotKit.ts';

export type { DeviceCertificate };

/** A thing with an active certificate carrying fieldcam's IoT policy for it (what `fieldcam provision` creates). */
export async function provisionDevice(cloud: RunningCloud, thingName: string, policyDocument?: object): Promise<DeviceCertificate> {
  const iot = iotClient(cloud);
  const { region, accountId } = cloud.ctx.config;
  const document = policyDocument ?? iotPolicyDocument(thingName, `arn:aws:iot:${region}:${accountId}:rolealias/fieldcam-camera-role-alias`, region, accountId);
  await iot.send(new CreateThingCommand({ thingName }));
  await iot.send(new CreatePolicyCommand({ policyName: `policy-${thingName}`, policyDocument: JSON.stringify(document) }));
  const cert = await createCertificate(iot);
  await iot.send(new AttachPolicyCommand({ policyName: `policy-${thingName}`, target: cert.certificateArn }));
  await iot.send(new AttachThingPrincipalCommand({ thingName, principal: cert.certificateArn }));
  iot.destroy();
  return cert;
}

/** How a connection attempt ended: connected (with the CONNACK's session-present flag), or closed without a CONNACK. */
export type Attempt = { readonly client: MqttClient; readonly sessionPresent: boolean } | { readonly closed: true; readonly error?: Error };

/** One connection attempt, no automatic reconnection; resolves on the first of connect / close / error. */
export function attempt(url: string, options: IClientOptions): Promise<Attempt> {
  return new Promise((done) => {
    const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...options });
    let error: Error | undefined;
    const finish = (result: Attempt): void => {
      client.off('connect', onConnect);
      client.off('close', onClose);
      done(result);
    };
    const onConnect = (connack: { sessionPresent: boolean }): void => finish({ client, sessionPresent: connack.sessionPresent });
    const onClose = (): void => {
      client.end(true);
      finish({ closed: true, ...(error ? { error } : {}) });
    };
    client.on('connect', onConnect);
    client.on('close', onClose);
    client.on('error', (err) => (error = err));
  });
}

/** mqtts:// with the device certificate, client id = thing name unless told. */
export function device(cloud: RunningCloud, cert: { certificatePem: string; privateKeyPem: string }, options: IClientOptions = {}): Promise<Attempt> {
  return attempt(`mqtts://${cloud.mqtt.endpoint}`, { ca: cloud.caPem, cert: cert.certificatePem, key: cert.privateKeyPem, ...options });
}

/** Like device(), but the connection must succeed. */
export async function connected(
  cloud: RunningCloud,
  cert: { certificatePem: string; privateKeyPem: string },
  options: IClientOptions = {},
): Promise<MqttClient> {
  const result = await device(cloud, cert, options);
  if (!('client' in result)) throw new Error(`connection of ${String(options.clientId)} was refused (${result.error?.message ?? 'closed without CONNACK'})`);
  return result.client;
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: Buffer | string, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest();

/**
 * `wss://<host>/mqtt?…` signed as the AWS IoT developer guide describes it, written independently of the
 * cloud's verifier: canonical request over GET /mqtt, the five X-Amz-* parameters sorted, `host` the only
 * signed header, the empty payload's hash; X-Amz-Security-Token appended after signing.
 */
export function presignedUrl(host: string, region: string, credentials: Credentials = CREDENTIALS, options: { date?: Date; expiresS?: number } = {}): string {
  const amzDate = (options.date ?? new Date())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/iotdevicegateway/aws4_request`;
  const query =
    'X-Amz-Algorithm=AWS4-HMAC-SHA256' +
    `&X-Amz-Credential=${encodeURIComponent(`${credentials.accessKeyId}/${scope}`)}` +
    `&X-Amz-Date=${amzDate}` +
    `&X-Amz-Expires=${options.expiresS ?? 86400}` +
    '&X-Amz-SignedHeaders=host';
  const canonicalRequest = ['GET', '/mqtt', query, `host:${host}\n`, 'host', sha256('')].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), 'iotdevicegateway'), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  let url = `wss://${host}/mqtt?${query}&X-Amz-Signature=${signature}`;
  if (credentials.sessionToken) url += `&X-Amz-Security-Token=${encodeURIComponent(credentials.sessionToken)}`;
  return url;
}

/** An operator over WSS with `url` (default: signed with the example keys). */
export function operator(cloud: RunningCloud, options: IClientOptions & { url?: string } = {}): Promise<Attempt> {
  const url = options.url ?? presignedUrl(cloud.mqtt.endpoint, cloud.ctx.config.region);
  return attempt(url, { clientId: `operator-${Math.random().toString(16).slice(2)}`, ...options, wsOptions: { ca: cloud.caPem } });
}

export async function operatorClient(cloud: RunningCloud, options: IClientOptions & { url?: string } = {}): Promise<MqttClient> {
  const result = await operator(cloud, options);
  if (!('client' in result)) throw new Error(`operator connection refused (${result.error?.message ?? 'closed without CONNACK'})`);
  return result.client;
}

/** The next `event` of `emitter`, with its arguments. */
export function next<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, listener: (...args: never[]) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((done) => emitter.once(event, (...args: unknown[]) => done(args as T)));
}

/**
 * `promise`, or a rejection naming `what` if it has not settled after `ms`: a broken broker must fail the
 * suite, not hang the runner. A generous bound on a hang, not a timing assertion.
 */
export function guard<T>(promise: Promise<T>, what: string, ms = 30_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`still waiting for ${what} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

export interface Message {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  readonly qos: number;
}

/** Collects a client's messages; `until` resolves when one on `topic` (with `payload`, if given) arrives or has arrived. */
export function inbox(client: MqttClient): { messages: Message[]; until(topic: string, payload?: string): Promise<Message> } {
  const messages: Message[] = [];
  const waiters: { match: (m: Message) => boolean; done: (m: Message) => void }[] = [];
  client.on('message', (topic, payload, packet) => {
    const m = { topic, payload: payload.toString('utf8'), retain: packet.retain, qos: packet.qos };
    messages.push(m);
    for (const w of waiters.splice(0)) {
      if (w.match(m)) w.done(m);
      else waiters.push(w);
    }
  });
  return {
    messages,
    until(topic, payload) {
      const match = (m: Message): boolean => m.topic === topic && (payload === undefined || m.payload === payload);
      const seen = messages.find(match);
      return seen ? Promise.resolve(seen) : guard(new Promise((done) => waiters.push({ match, done })), `a message on ${topic}`);
    },
  };
}

/**
 * The return codes of the SUBACK answering a SUBSCRIBE, as sent (128 = refused). Read from the packet itself:
 * mqtt.js turns a SUBACK holding any 0x80 into an error without the other codes.
 */
export function subscribe(client: MqttClient, filters: string[], qos: 0 | 1 = 1): Promise<number[]> {
  return new Promise((done, fail) => {
    const onPacket = (packet: Packet): void => {
      if (packet.cmd !== 'suback') return;
      client.off('packetreceive', onPacket);
      done(packet.granted.map(Number));
    };
    client.on('packetreceive', onPacket);
    client.subscribe(filters, { qos }, (err) => {
      if (err && !('code' in err)) {
        client.off('packetreceive', onPacket);
        fail(err);
      }
    });
  });
}

/** Ends a client and waits for its close. */
export async function end(client: MqttClient | undefined): Promise<void> {
  if (!client || client.disconnected) return;
  await client.endAsync(true);
}
