// Helpers of the control-channel proofs under QEMU (test/device/control.test.ts): a booted device whose JSON
// lines can be awaited, an operator on the local cloud's broker over WSS + SigV4 (presigned as `fieldcam
// device` presigns, with the example keys) but with a persistent session, and what the local KVS stored,
// read back from the fragment files themselves (mkvextract for the Tags, ffprobe for the frames) and
// through ListFragments.
import { GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient, paginateListFragments } from '@aws-sdk/client-kinesis-video-archived-media';
import { decode, encode } from 'cbor-x';
import mqtt, { type MqttClient } from 'mqtt';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { awsClientConfig } from '../../host/aws/awsClientConfig.ts';
import { presignMqttUrl } from '../../host/lib/control/presignMqttUrl.ts';
import { bootBoard, type BootedBoard, type BootImage, type DeviceSource } from '../../sim/board/bootBoard.ts';
import type { FragmentRecord } from '../../sim/cloud/kvs/media/FragmentStore.ts';
import { fragmentStoreFor } from '../../sim/cloud/kvs/media/fragmentStoreFor.ts';
import { EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, type RunningCloud } from '../../sim/cloud/startCloud.ts';
import { decodedFrameCount, ROOT, tool } from '../e2e/tools.ts';

export type Rec = Record<string, unknown>;

interface Waiter<T> {
  readonly accept: (item: T) => boolean;
  readonly done: (item: T) => void;
  readonly fail: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Items that arrive over time (device lines, MQTT messages) and waits on them: `next` resolves with the first
 * item at or after index `from` that matches, already seen or still to come, and rejects after `timeoutMs`
 * or when the source ends. A wait is always on an observed event, never a sleep.
 */
export class Arrivals<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<Waiter<T>>();
  private ended: string | undefined;

  push(item: T): void {
    this.items.push(item);
    for (const w of this.waiters) {
      if (!w.accept(item)) continue;
      this.waiters.delete(w);
      clearTimeout(w.timer);
      w.done(item);
    }
  }

  end(why: string): void {
    this.ended = why;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.fail(new Error(why));
    }
    this.waiters.clear();
  }

  next(accept: (item: T) => boolean, what: string, from: number, timeoutMs: number): Promise<T> {
    const seen = this.items.slice(from).find(accept);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.ended !== undefined) return Promise.reject(new Error(`${what}: ${this.ended}`));
    return new Promise((done, fail) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        fail(new Error(`${what}: not seen within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter<T> = { accept, done, fail: (err) => fail(new Error(`${what}: ${err.message}`)), timer };
      this.waiters.add(waiter);
    });
  }
}

/** A booted image (bootBoard) whose JSON lines are kept and can be awaited; killed by `kill()` in every path. */
export class RunningDevice {
  readonly lines = new Arrivals<Rec>();
  readonly board: BootedBoard;
  readonly exited: Promise<{ readonly code: number; readonly stderr: string }>;

  constructor(image: BootImage, source: DeviceSource, camera: { video: string; bytesPerSecond: number }) {
    this.board = bootBoard({
      image,
      config: source,
      video: camera.video,
      loop: true,
      bytesPerSecond: camera.bytesPerSecond,
      cwd: ROOT,
      onRecord: (r) => this.lines.push(r),
    });
    this.exited = this.board.exited.then((r) => {
      this.lines.end(`the device exited (${r.code}) first: ${r.stderr.slice(-2000)}`);
      return r;
    });
  }

  /** The first line (from index `from` on) that matches. */
  next(accept: (r: Rec) => boolean, what: string, from = 0, timeoutMs = 60_000): Promise<Rec> {
    return this.lines.next(accept, what, from, timeoutMs);
  }

  /** The next `status` line printed after now (the firmware prints one a second). */
  nextStatus(timeoutMs = 30_000): Promise<Rec> {
    return this.next((r) => r.type === 'status', 'a status line', this.lines.items.length, timeoutMs);
  }

  get mark(): number {
    return this.lines.items.length;
  }

  /** The control events seen so far, for messages. */
  controlLines(from = 0): string {
    return JSON.stringify(this.lines.items.slice(from).filter((r) => r.type === 'control' || r.type === 'error'));
  }

  kill(): void {
    if (this.board.child.exitCode === null && this.board.child.signalCode === null) this.board.child.kill('SIGKILL');
  }
}

export interface Message {
  readonly topic: string;
  /** The CBOR payload decoded with cbor-x (undefined when it is not CBOR: our own fuzzed commands echoed back). */
  readonly value: Rec | undefined;
  readonly retain: boolean;
}

/**
 * An operator watching `fieldcam/<thing>/#` over WSS + SigV4 (presigned as `fieldcam device` presigns, with
 * the example keys) and publishing commands at QoS 1, well-formed or not. Unlike the CLI it keeps a persistent
 * session (clean session 0), so results the device publishes while a broker restart separates them are still
 * delivered to it afterwards: "seen once" is then a property of the device, not of the listener's luck.
 */
export class Operator {
  readonly messages = new Arrivals<Message>();
  readonly thing: string;
  private readonly client: MqttClient;

  private constructor(client: MqttClient, thing: string) {
    this.client = client;
    this.thing = thing;
    client.on('message', (topic, payload, packet) => {
      let value: Rec | undefined;
      try {
        const decoded: unknown = payload.length > 0 ? decode(payload) : undefined;
        value = decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded) && !(decoded instanceof Uint8Array) ? (decoded as Rec) : undefined;
      } catch {
        value = undefined; // our own fuzzed commands, echoed by the # subscription
      }
      this.messages.push({ topic, value, retain: packet.retain });
    });
  }

  static async connect(cloud: RunningCloud, thing: string): Promise<Operator> {
    const url = await presignMqttUrl({
      endpoint: { host: '127.0.0.1', port: cloud.mqtt.port },
      region: 'us-east-1',
      credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
    });
    const client = mqtt.connect(url, {
      clientId: `proof-operator-${thing}`,
      protocolVersion: 4,
      clean: false,
      keepalive: 30,
      reconnectPeriod: 250,
      connectTimeout: 10_000,
      createWebsocket: (wsUrl: string, protocols: string[]) => new WebSocket(wsUrl, protocols, { ca: cloud.caPem }),
    });
    client.on('error', () => undefined); // a refused reconnect shows as a missing message, with its wait's name
    try {
      await new Promise<void>((done, fail) => {
        client.once('connect', () => done());
        client.once('close', () => fail(new Error('the operator connection closed before CONNACK')));
      });
      await client.subscribeAsync(`fieldcam/${thing}/#`, { qos: 1 });
    } catch (err) {
      client.end(true);
      throw err;
    }
    return new Operator(client, thing);
  }

  get mark(): number {
    return this.messages.items.length;
  }

  /** The first message on `fieldcam/<thing>/<suffix>` (from index `from` on) whose payload matches. */
  next(suffix: string, accept: (v: Rec) => boolean, what: string, from = 0, timeoutMs = 30_000): Promise<Rec> {
    const topic = `fieldcam/${this.thing}/${suffix}`;
    return this.messages.next((m) => m.topic === topic && m.value !== undefined && accept(m.value), what, from, timeoutMs).then((m) => m.value!);
  }

  /** Every decoded message on `fieldcam/<thing>/<suffix>` from index `from` on. */
  all(suffix: string, from = 0): Rec[] {
    const topic = `fieldcam/${this.thing}/${suffix}`;
    return this.messages.items
      .slice(from)
      .filter((m) => m.topic === topic && m.value !== undefined)
      .map((m) => m.value!);
  }

  /** PUBLISH QoS 1 to `fieldcam/<thing>/cmd`; resolves on PUBACK (after a reconnect, if the broker is away). */
  async publishCommand(payload: Uint8Array): Promise<void> {
    await this.client.publishAsync(`fieldcam/${this.thing}/cmd`, Buffer.from(payload), { qos: 1 });
  }

  /** A well-formed command (cbor-x) and its result. */
  async command(id: string, name: string, args?: Rec, timeoutMs = 30_000): Promise<Rec> {
    const from = this.mark;
    await this.publishCommand(encode({ id, name, ...(args ? { args } : {}) }));
    return this.next('result', (v) => v.id === id, `the result of ${name} ${id}`, from, timeoutMs);
  }

  close(): Promise<void> {
    this.messages.end('the operator closed');
    return new Promise((done) => this.client.end(true, {}, () => done()));
  }
}

/** The stream's stored fragments (what ListFragments serves), in producer-time order. */
export function storedFragments(cloud: RunningCloud, stream: string): readonly FragmentRecord[] {
  const record = cloud.ctx.streams.get(stream);
  if (!record) throw new Error(`stream ${stream} does not exist`);
  return [...fragmentStoreFor(cloud.ctx, record).list()].sort((a, b) => a.producerTimestampMs - b.producerTimestampMs);
}

/** A stored fragment as a playable file: its session's MKV header, then its bytes (metadata Tags + Cluster). */
export function fragmentFile(cloud: RunningCloud, stream: string, fragment: FragmentRecord, path: string): string {
  const store = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(stream)!);
  writeFileSync(path, Buffer.concat([store.readHeader(fragment.header), store.readFragment(fragment)]));
  return path;
}

/** The MKV tags (SimpleTag Name → String) mkvextract finds in a file; mkvextract writes them as XML. */
export function mkvTags(file: string): Array<[string, string]> {
  const xml = `${file}.tags.xml`;
  const r = tool('mkvextract', [file, 'tags', xml]);
  if (r.status !== 0) throw new Error(`mkvextract ${file}: ${r.stdout}${r.stderr}`);
  if (!existsSync(xml)) return []; // no Tags: mkvextract writes no file
  const text = readFileSync(xml, 'utf8');
  const tags: Array<[string, string]> = [];
  const simple = /<Simple>\s*<Name>([^<]*)<\/Name>\s*<String>([^<]*)<\/String>/g;
  for (let m = simple.exec(text); m; m = simple.exec(text)) tags.push([m[1]!, m[2]!]);
  return tags;
}

/**
 * Frames ffprobe decodes from everything stored, one file per session: consecutive fragments sharing an MKV
 * header (a `start` after `stop` begins a new one) concatenated behind it. Replays (the same producer
 * timestamp twice) are counted once.
 */
export function storedFrameCount(cloud: RunningCloud, stream: string, dir: string): number {
  const store = fragmentStoreFor(cloud.ctx, cloud.ctx.streams.get(stream)!);
  const seen = new Set<number>();
  const sessions: FragmentRecord[][] = [];
  for (const f of storedFragments(cloud, stream)) {
    if (seen.has(f.producerTimestampMs)) continue;
    seen.add(f.producerTimestampMs);
    const last = sessions.at(-1);
    if (last && last[0]!.header === f.header) last.push(f);
    else sessions.push([f]);
  }
  let frames = 0;
  sessions.forEach((fragments, i) => {
    const path = join(dir, `${stream}-session-${i}.mkv`);
    writeFileSync(path, Buffer.concat([store.readHeader(fragments[0]!.header), ...fragments.map((f) => store.readFragment(f))]));
    frames += decodedFrameCount(path);
  });
  return frames;
}

/** ListFragments (the SDK's paginator) over everything the stream holds: the fragment count KVS reports. */
export async function listFragmentCount(cloud: RunningCloud, stream: string): Promise<number> {
  const config = awsClientConfig({
    region: 'us-east-1',
    endpointUrl: cloud.endpoint,
    caBundle: cloud.caFile,
    credentials: { accessKeyId: EXAMPLE_ACCESS_KEY_ID, secretAccessKey: EXAMPLE_SECRET_ACCESS_KEY },
  });
  const control = new KinesisVideoClient(config);
  let endpoint: string;
  try {
    endpoint = (await control.send(new GetDataEndpointCommand({ StreamName: stream, APIName: 'LIST_FRAGMENTS' }))).DataEndpoint!;
  } finally {
    control.destroy();
  }
  const client = new KinesisVideoArchivedMediaClient({ ...config, endpoint });
  try {
    const producerTimes = new Set<number>();
    for await (const page of paginateListFragments({ client }, { StreamName: stream, MaxResults: 1000 })) {
      for (const f of page.Fragments ?? []) producerTimes.add(f.ProducerTimestamp!.getTime());
    }
    return producerTimes.size; // a replayed fragment is stored again under a new number: counted once
  } finally {
    client.destroy();
  }
}
