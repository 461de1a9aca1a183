// Helpers of the control suites (pure ECMAScript: they run inside XS too): hand-driven time, a recording MQTT
// connection and a device that records what it was told.
import { decodeCbor } from '../../../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../../../firmware/core/cbor/encodeCbor.ts';
import { ControlChannel, type ControlEvent } from '../../../../firmware/core/control/ControlChannel.ts';
import type { ControlMqtt, ControlMqttCallbacks, DeviceControls, StateStore, TelemetrySnapshot } from '../../../../firmware/core/control/ControlPorts.ts';
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import type { EventGateReport, EventOutcome } from '../../../../firmware/core/events/EventGate.ts';
import type { EventRequest } from '../../../../firmware/core/events/EventRequest.ts';
import { FakeTime } from '../../../harness/support.ts';

export { FakeTime };

export function cbor(value: unknown): Uint8Array {
  const out = new Uint8Array(4096);
  return out.slice(0, encodeCbor(value, out));
}

export interface Published {
  readonly topic: string;
  readonly value: unknown;
  readonly qos: number;
  readonly retain: boolean;
}

export class FakeMqtt implements ControlMqtt {
  connected = false;
  closed = false;
  /** QoS 1 messages the client holds until PUBACK (startControl's ring); `puback()` frees the oldest. */
  capacity = Infinity;
  inFlight = 0;
  readonly published: Published[] = [];
  readonly subscriptions: string[] = [];
  readonly callbacks: ControlMqttCallbacks;
  constructor(callbacks: ControlMqttCallbacks) {
    this.callbacks = callbacks;
  }
  publish(topic: string, payload: Uint8Array, qos: 0 | 1, retain = false): boolean {
    if (this.closed) throw new RangeError('closed');
    if (qos === 1) {
      if (this.inFlight >= this.capacity) return false;
      this.inFlight++;
    }
    this.published.push({ topic, value: decodeCbor(payload), qos, retain });
    return true;
  }
  subscribe(filter: string): void {
    this.subscriptions.push(filter);
  }
  started = false;
  start(): void {
    if (this.closed) throw new RangeError('closed');
    this.started = true;
  }
  close(): void {
    this.closed = true;
  }
  /** PUBACKs for `n` messages: room in the ring again. */
  puback(n = 1): void {
    this.inFlight = Math.max(0, this.inFlight - n);
    this.callbacks.onQueueSpace();
  }
  up(): void {
    this.connected = true;
    this.callbacks.onConnectionChange(true);
  }
  deliver(topic: string, payload: Uint8Array): void {
    this.callbacks.onMessage(topic, payload, 1);
  }
  /** Values published on `fieldcam/cam-1/<suffix>`. */
  on(suffix: string): Record<string, unknown>[] {
    return this.published.filter((p) => p.topic === `fieldcam/cam-1/${suffix}`).map((p) => p.value as Record<string, unknown>);
  }
}

export class FakeDevice implements DeviceControls {
  readonly calls: string[] = [];
  readonly capabilities = { fps: false, bitrate: false, reloadCredentials: true, fragmentMs: 2000, maxFragmentMs: 10_000 };
  lastPersistedAgeMs = -1;
  framesIn = 0;
  /** Recording mode "event": the EventGate report telemetry carries (undefined: continuous). */
  eventReport: EventGateReport | undefined;
  stopResolve: (() => void) | undefined;
  tagResolve: ((pts: number) => void) | undefined;
  setStreaming(on: boolean): Promise<void> {
    this.calls.push(on ? 'start' : 'stop');
    if (on) return Promise.resolve();
    return new Promise((resolve) => (this.stopResolve = resolve));
  }
  setFragmentMs(ms: number): void {
    this.calls.push(`fragmentMs=${ms}`);
  }
  tagNextFragment(name: string, value: string): Promise<number> {
    this.calls.push(`tag ${name}=${value}`);
    return new Promise((resolve) => (this.tagResolve = resolve));
  }
  /** Continuous recording unless a test sets it: then events are recorded and answered as an EventGate would. */
  eventMode = false;
  readonly events: EventRequest[] = [];
  event(request: EventRequest): EventOutcome {
    if (!this.eventMode) throw new FieldcamError('EVENT_MODE_OFF', 'this device records continuously');
    this.events.push(request);
    this.calls.push(`event ${request.names.map((n, i) => `${n}=${request.values[i]}`).join(' ')}`.trim());
    return {
      clip: 5000,
      merged: false,
      at: 5000,
      from: 5000 - (request.preMs ?? 10_000),
      to: 5000 + (request.postMs ?? 20_000),
      fragments: 3,
      tagsKept: request.names.length,
    };
  }
  snapshot(): TelemetrySnapshot {
    return {
      framesIn: this.framesIn,
      framesOut: this.framesIn,
      fragmentsSent: 3,
      fragmentsPersisted: 2,
      drops: { poolFull: 0, awaitKeyFrame: 1, frameTooLarge: 0, noParameterSets: 0, stopped: 0 },
      poolSlotsInUse: 1,
      poolSlots: 8,
      bytesBehind: 100,
      ackLatencyP50Ms: 40,
      ackLatencyP99Ms: 90,
      lastPersistedAgeMs: this.lastPersistedAgeMs,
      errors: { UPLOAD_NETWORK: 1 },
      heap: { bytes: 1, peak: 2, limit: 3 },
      computrons: 0,
      ...(this.eventReport ? { events: this.eventReport } : {}),
    };
  }
  reloadCredentials(): Promise<number> {
    this.calls.push('reload');
    return Promise.resolve(Date.UTC(2030, 0, 1));
  }
  restart(): void {
    this.calls.push('restart');
  }
}

export class MemoryStore implements StateStore {
  bytes: Uint8Array | undefined;
  writes = 0;
  read(): Uint8Array | undefined {
    return this.bytes?.slice();
  }
  write(bytes: Uint8Array): void {
    this.bytes = bytes.slice();
    this.writes++;
  }
}

export interface ChannelRig {
  readonly channel: ControlChannel;
  readonly time: FakeTime;
  readonly device: FakeDevice;
  readonly store: MemoryStore;
  readonly events: ControlEvent[];
  mqtt(): FakeMqtt;
  /** Sends a command on the cmd topic. */
  command(value: unknown): void;
}

export function channelRig(store = new MemoryStore(), device = new FakeDevice(), bounds: { stateBytes?: number; pendingResults?: number } = {}): ChannelRig {
  const time = new FakeTime();
  const events: ControlEvent[] = [];
  let mqtt: FakeMqtt | undefined;
  const channel = new ControlChannel({
    thing: 'cam-1',
    device,
    state: store,
    timers: time,
    clock: time,
    commandTimeoutMs: 5000,
    ...bounds,
    mqtt: (callbacks) => (mqtt = new FakeMqtt(callbacks)),
    onEvent: (e) => events.push(e),
  });
  return {
    channel,
    time,
    device,
    store,
    events,
    mqtt: () => mqtt!,
    command(value: unknown) {
      mqtt!.deliver('fieldcam/cam-1/cmd', value instanceof Uint8Array ? value : cbor(value));
    },
  };
}

/** Lets promise reactions run (the harness suites are synchronous or async). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
