// A PROTOCOL PEER, not the device: an mqtt.js client connected over mTLS with a provisioned camera's bundle
// (certificate, key, CA, client id = thing name), answering commands and desired documents the way
// docs/control-channel.md says a device does, with cbor-x as its codec. It lets the CLI suites prove the
// operator side against the real broker quickly; the real firmware end to end is proven under QEMU elsewhere.
import { Decoder, Encoder } from 'cbor-x';
import mqtt, { type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCbor } from '../../../firmware/core/cbor/decodeCbor.ts';
import { SETTING_RANGES } from '../../../firmware/core/control/ControlSettings.ts';
import { controlTopics, type ControlTopics } from '../../../firmware/core/control/controlTopics.ts';

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

type Doc = Record<string, unknown>;

export interface PeerCommand {
  readonly id: unknown;
  readonly name: unknown;
  readonly args: unknown;
}

/** The telemetry record the peer reports (docs/control-channel.md §Telemetry, every key). */
export function sampleTelemetry(seq: number, overrides: Doc = {}): Doc {
  return {
    t: Date.UTC(2026, 10, 21, 10, 0, seq),
    seq,
    uptimeMs: 60_000 + seq * 1000,
    streaming: true,
    health: 'green',
    framesIn: 1500,
    framesOut: 1490,
    fragmentsSent: 25,
    fragmentsPersisted: 24,
    drops: { poolFull: 3, awaitKeyFrame: 7, frameTooLarge: 0, noParameterSets: 0, stopped: 0 },
    poolSlotsInUse: 5,
    poolSlots: 64,
    bytesBehind: 81_920,
    ackLatencyP50Ms: 180,
    ackLatencyP99Ms: 730,
    lastPersistedAgeMs: 1200,
    errors: { UPLOAD_NETWORK: 1 },
    heap: { bytes: 150_000, peak: 160_000, limit: 262_144 },
    computrons: 123_456_789,
    ...overrides,
  };
}

export class ProtocolPeer {
  readonly thing: string;
  readonly topics: ControlTopics;
  /** Every command received, in order. */
  readonly commands: PeerCommand[] = [];
  /** Effective settings (the reported document's), and the version of the last desired document applied. */
  settings: Doc = { streaming: true, fragmentMs: 2000, fps: null, bitrateKbps: null, telemetryIntervalS: 60, healthAmberMs: 6000, healthRedMs: 60_000 };
  version = 0;
  /** When false, commands are received and never answered (a device that hangs). */
  answering = true;
  readonly #client: MqttClient;
  #seq = 0;

  private constructor(client: MqttClient, thing: string) {
    this.#client = client;
    this.thing = thing;
    this.topics = controlTopics(thing);
    client.on('message', (topic, payload) => void this.#onMessage(topic, payload));
  }

  /** Connects with the bundle `fieldcam provision` wrote and subscribes as the device does (QoS 1). */
  static async connect(bundleDir: string, options: { will?: boolean } = {}): Promise<ProtocolPeer> {
    const device = decodeCbor(readFileSync(join(bundleDir, 'device.cbor'))) as { thingName: string; endpoints: { iotData: string } };
    // The device's Will (docs/control-channel.md §Health), retained on its health topic.
    const will = {
      topic: controlTopics(device.thingName).health,
      payload: Buffer.from(encoder.encode({ state: 'offline', reason: 'connection-lost' })),
      qos: 1 as const,
      retain: true,
    };
    const client = await mqtt.connectAsync(`mqtts://${device.endpoints.iotData}`, {
      clientId: device.thingName,
      protocolVersion: 4,
      clean: true,
      // Reconnects as a device does: a suite's peer connects when its file is imported, and in a whole run its
      // tests come minutes later; a broker that dropped it meanwhile (a keep-alive missed while other suites
      // held the event loop) must not leave a QoS 1 publish waiting forever. close() and drop() end it for good.
      reconnectPeriod: 500,
      ca: readFileSync(join(bundleDir, 'ca.pem')),
      cert: readFileSync(join(bundleDir, 'certificate.pem')),
      key: readFileSync(join(bundleDir, 'private.key')),
      ...(options.will ? { will } : {}),
    });
    const peer = new ProtocolPeer(client, device.thingName);
    await client.subscribeAsync([peer.topics.cmd, peer.topics.desired], { qos: 1 });
    return peer;
  }

  async publish(topic: string, doc: Doc, retain = false): Promise<void> {
    await this.#client.publishAsync(topic, Buffer.from(encoder.encode(doc)), { qos: 1, retain });
  }

  publishHealth(state: string, reason = '', lastPersistedAgeMs = 1200): Promise<void> {
    return this.publish(this.topics.health, { state, reason, lastPersistedAgeMs, t: Date.now() }, true);
  }

  publishTelemetry(overrides: Doc = {}): Promise<void> {
    return this.publish(this.topics.telemetry, sampleTelemetry(++this.#seq, overrides));
  }

  /** Resolves once `count` commands have arrived. */
  async received(count: number): Promise<PeerCommand[]> {
    while (this.commands.length < count) await new Promise((arrived) => this.#client.once('message', arrived));
    return this.commands.slice(0, count);
  }

  async close(): Promise<void> {
    await this.#client.endAsync();
  }

  /** Drops the connection without DISCONNECT (a crash, a lost network): the broker publishes the Will. */
  drop(): void {
    this.#client.end(true);
  }

  /** A setting the peer's pretend camera cannot change, or a bad key/value → its error code. */
  #check(key: string, value: unknown): string | undefined {
    if (key === 'fps' || key === 'bitrateKbps') return 'CONTROL_UNSUPPORTED';
    if (key === 'streaming') return typeof value === 'boolean' ? undefined : 'CONTROL_ARGUMENT_INVALID';
    const range = (SETTING_RANGES as Readonly<Record<string, readonly number[]>>)[key];
    if (!range || typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) return 'CONTROL_ARGUMENT_INVALID';
    return undefined;
  }

  #reported(rejected: Record<string, string> = {}): Doc {
    return { version: this.version, settings: { ...this.settings }, ...(Object.keys(rejected).length ? { rejected } : {}) };
  }

  async #onMessage(topic: string, payload: Buffer): Promise<void> {
    let doc: Doc;
    try {
      doc = decoder.decode(payload) as Doc;
    } catch {
      return;
    }
    if (topic === this.topics.desired) {
      if (typeof doc.version !== 'number' || doc.version <= this.version) return;
      this.version = doc.version;
      const rejected: Record<string, string> = {};
      for (const [k, v] of Object.entries((doc.settings ?? {}) as Doc)) {
        const code = this.#check(k, v);
        if (code) rejected[k] = code;
        else this.settings[k] = v;
      }
      await this.publish(this.topics.reported, this.#reported(rejected), true);
      return;
    }
    if (topic !== this.topics.cmd) return;
    this.commands.push({ id: doc.id, name: doc.name, args: doc.args });
    if (!this.answering) return;
    await this.publish(this.topics.result, this.#answer(doc));
  }

  #answer(doc: Doc): Doc {
    const id = doc.id;
    const refuse = (code: string, message: string): Doc => ({ id, ok: false, code, message });
    const args = (doc.args ?? {}) as Doc;
    switch (doc.name) {
      case 'status':
        return { id, ok: true, data: sampleTelemetry(++this.#seq) };
      case 'set': {
        for (const [k, v] of Object.entries(args)) {
          const code = this.#check(k, v);
          if (code === 'CONTROL_UNSUPPORTED') return refuse(code, `setting ${k}: this camera adapter cannot change it`);
          if (code) return refuse(code, `setting ${k} is invalid`);
        }
        Object.assign(this.settings, args);
        return { id, ok: true, data: this.#reported() };
      }
      case 'tag':
        return { id, ok: true, data: { fragment: 1_763_719_200_000 } };
      case 'reload-credentials':
        return { id, ok: true, data: { expiration: '2026-11-21T12:00:00Z' } };
      case 'start':
      case 'stop':
        this.settings.streaming = doc.name === 'start';
        return { id, ok: true };
      case 'restart':
        return { id, ok: true };
      default:
        return refuse('CONTROL_UNKNOWN_COMMAND', `unknown command "${String(doc.name)}"`);
    }
  }
}
