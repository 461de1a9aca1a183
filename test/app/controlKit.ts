// Helpers of the control channel suites on the Node board: an in-process aedes broker over TLS (until the
// local cloud serves MQTT itself), an operator with mqtt.js + cbor-x, and a paced camera on a FIFO.
import { Aedes } from 'aedes';
import { decode, encode } from 'cbor-x';
import { closeSync, openSync, readFileSync, writeSync, constants } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { join } from 'node:path';
import type { DeviceConfigInput } from '../../sim/board/writeDeviceConfig.ts';
import { mediaRoutes } from '../../sim/cloud/kvs/media/index.ts';
import { startCloud, type RunningCloud } from '../../sim/cloud/startCloud.ts';

export interface TlsBroker {
  readonly port: number;
  close(): Promise<void>;
}

/** aedes behind a TLS port with the cloud's server certificate; it asks for a client certificate (not verified). */
export async function startTlsBroker(certPem: string, keyPem: string, caPem: string): Promise<TlsBroker> {
  const aedes = new Aedes();
  await aedes.listen();
  const server: Server = createServer({ cert: certPem, key: keyPem, ca: caPem, requestCert: true, rejectUnauthorized: false }, (socket) => {
    socket.on('error', () => {});
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The local cloud (KVS, its state in `<dir>/cloud`), a TLS broker with the cloud's server certificate, and an operator. */
export interface ControlCloud {
  readonly cloud: RunningCloud;
  readonly broker: TlsBroker;
  readonly operator: Operator;
  /** A device configuration's `control` map for the thing on this broker (the cloud's server certificate as the device's). */
  control(stateFile: string): NonNullable<DeviceConfigInput['control']>;
  /** The operator, the broker and the cloud, in that order. */
  close(): Promise<void>;
}

export async function startControlCloud(dir: string, thing: string): Promise<ControlCloud> {
  const stateDir = join(dir, 'cloud');
  const cloud = await startCloud({ stateDir, port: 0, routes: [...mediaRoutes] });
  const ca = readFileSync(cloud.caFile, 'utf8');
  const certFile = join(stateDir, 'server.pem');
  const keyFile = join(stateDir, 'server-key.pem');
  const broker = await startTlsBroker(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8'), ca);
  const operator = await Operator.connect(broker.port, ca, thing);
  return {
    cloud,
    broker,
    operator,
    control: (stateFile) => ({ host: '127.0.0.1', port: broker.port, thingName: thing, keepAliveSeconds: 30, certFile, keyFile, stateFile }),
    close: async () => {
      await operator.close();
      await broker.close();
      await cloud.close();
    },
  };
}

export interface Received {
  readonly topic: string;
  readonly value: Record<string, unknown>;
  readonly retain: boolean;
}

/** An operator: mqtt.js over TLS, CBOR with cbor-x; waits on observed messages, never on sleeps. */
export class Operator {
  readonly received: Received[] = [];
  private waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  readonly client: MqttClient;
  readonly thing: string;
  private constructor(client: MqttClient, thing: string) {
    this.client = client;
    this.thing = thing;
    client.on('message', (topic, payload, packet) => {
      if (payload.length === 0) return;
      let value: Record<string, unknown>;
      try {
        value = decode(payload) as Record<string, unknown>;
      } catch {
        return; // our own malformed command, echoed by the # subscription
      }
      const r = { topic, value, retain: packet.retain };
      this.received.push(r);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(r)) return true;
        w.resolve(r);
        return false;
      });
    });
  }

  static async connect(port: number, caPem: string, thing: string): Promise<Operator> {
    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, { ca: caPem, clientId: `operator-${thing}`, reconnectPeriod: 200, clean: true });
    const op = new Operator(client, thing);
    await client.subscribeAsync(`fieldcam/${thing}/#`, { qos: 1 });
    return op;
  }

  /** The first message (already received or to come) on `fieldcam/<thing>/<suffix>` that `match` accepts. */
  next(suffix: string, match: (v: Record<string, unknown>) => boolean = () => true, from = 0, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const topic = `fieldcam/${this.thing}/${suffix}`;
    const accept = (r: Received) => r.topic === topic && match(r.value);
    const seen = this.received.slice(from).find(accept);
    if (seen) return Promise.resolve(seen.value);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${suffix} message matching within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        match: accept,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r.value);
        },
      });
    });
  }

  /** Sends a command and waits for its result (the first one with that id after now). */
  async command(id: string, name: string, args?: Record<string, unknown>): Promise<Record<string, unknown>> {
    const from = this.received.length;
    await this.client.publishAsync(`fieldcam/${this.thing}/cmd`, Buffer.from(encode({ id, name, ...(args ? { args } : {}) })), { qos: 1 });
    return this.next('result', (v) => v.id === id, from);
  }

  async publish(suffix: string, value: unknown, retain = false): Promise<void> {
    await this.client.publishAsync(`fieldcam/${this.thing}/${suffix}`, Buffer.from(value instanceof Uint8Array ? value : encode(value)), { qos: 1, retain });
  }

  results(id: string): Record<string, unknown>[] {
    return this.received.filter((r) => r.topic === `fieldcam/${this.thing}/result` && r.value.id === id).map((r) => r.value);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/**
 * A live camera on a FIFO: the file's bytes looped at `bytesPerSecond`. Returns the read end's descriptor for the
 * device (non-blocking) and a stop function.
 */
export function fifoCamera(path: string, video: string, bytesPerSecond: number): { fd: number; stop(): void } {
  execFileSync('mkfifo', [path]);
  // O_RDWR keeps the FIFO open without a second party (Linux); the device reads its own descriptor.
  const writer = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const data = readFileSync(video);
  let at = 0;
  let pending = 0;
  const TICK = 50;
  const timer = setInterval(() => {
    pending += (bytesPerSecond * TICK) / 1000;
    while (pending >= 1) {
      const n = Math.min(Math.floor(pending), data.length - at);
      let written: number;
      try {
        written = writeSync(writer, data, at, n);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return; // the device is behind: the pipe is full
        throw err;
      }
      pending -= written;
      at = (at + written) % data.length;
    }
  }, TICK);
  return {
    fd: reader,
    stop: () => {
      clearInterval(timer);
      closeSync(writer);
    },
  };
}
