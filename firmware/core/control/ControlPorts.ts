import type { EventGateReport, EventOutcome } from '../events/EventGate.ts';
import type { EventRequest } from '../events/EventRequest.ts';
import type { QoS } from '../mqtt/mqttConstants.ts';
import type { WillFields } from '../mqtt/writeConnect.ts';
import type { DeviceCapabilities } from './ControlSettings.ts';

/** Counters the device reports in telemetry (docs/control-channel.md, "Telemetry"); read every N seconds, never per frame. */
export interface TelemetrySnapshot {
  readonly framesIn: number;
  readonly framesOut: number;
  readonly fragmentsSent: number;
  readonly fragmentsPersisted: number;
  readonly drops: Readonly<Record<string, number>>;
  readonly poolSlotsInUse: number;
  readonly poolSlots: number;
  readonly bytesBehind: number;
  readonly ackLatencyP50Ms: number;
  readonly ackLatencyP99Ms: number;
  /** -1 when none yet. */
  readonly lastPersistedAgeMs: number;
  readonly errors: Readonly<Record<string, number>>;
  /** `chunks`, `slots`: the engine's chunk and slot bytes in use, where it reports them (XS). */
  readonly heap: { readonly bytes: number; readonly peak: number; readonly limit: number; readonly chunks?: number; readonly slots?: number };
  readonly computrons: number;
  /** The camera's problem while it has delivered no frame (an error code such as H264_NOT_ANNEXB): health is red. */
  readonly cameraError?: string;
  /** Recording mode "event" (docs/events.md): counters, pre-roll fill, the open clip; `idle` makes health green. */
  readonly events?: EventGateReport;
  /** The crash-safe spool (docs/spool.md), when the device has one. */
  readonly spool?: SpoolTelemetry;
  /** A device with several cameras: each one's own counters by camera name (the fields above are their sums). */
  readonly cameras?: Readonly<Record<string, CameraTelemetry>>;
}

/** The spool in telemetry and `device status`: what it holds, how old, how fast it drains, flash wear. */
export interface SpoolTelemetry {
  readonly bytes: number;
  readonly fragments: number;
  /** Age of the oldest spooled fragment, ms; -1 when empty. */
  readonly oldestAgeMs: number;
  /** Spooled bytes sent per second since the previous reading. */
  readonly drainBytesPerSecond: number;
  /** Bytes written to storage per hour since boot. */
  readonly writtenBytesPerHour: number;
  /** Whole fragments dropped at the cap or floor. */
  readonly fragmentsDropped: number;
  /** The last storage error (STORAGE_*), if any. */
  readonly error?: string;
}

/** One camera of a device with several, in telemetry (`cameras.<name>`). */
export interface CameraTelemetry {
  readonly stream: string;
  readonly framesIn: number;
  readonly framesOut: number;
  readonly fragmentsSent: number;
  readonly fragmentsPersisted: number;
  readonly poolSlotsInUse: number;
  readonly poolSlots: number;
  /** -1 when none yet. */
  readonly lastPersistedAgeMs: number;
  readonly connected: boolean;
  readonly cameraError?: string;
  /** Recording mode "event": this camera's own (the device's `events` combines them). */
  readonly events?: EventGateReport;
  readonly spool?: SpoolTelemetry;
}

/** What the control channel may do to the device; the app implements it over its pipeline. */
export interface DeviceControls {
  readonly capabilities: DeviceCapabilities;
  /** false: finish the current fragment, resolve once it is PERSISTED; true: stream again from the next key frame. */
  setStreaming(on: boolean): Promise<void>;
  /** Applies from the next fragment. */
  setFragmentMs(ms: number): void;
  /**
   * A one-shot MKV tag on the next fragment; throws FieldcamError METADATA_* when KVS would refuse it. Resolves with
   * the timecode (ms) of the fragment it went on.
   */
  tagNextFragment(name: string, value: string): Promise<number>;
  /**
   * An event (recording mode "event", docs/events.md): uploads its pre-roll and post window as one clip. Throws
   * FieldcamError EVENT_MODE_OFF on a device that records continuously, EVENT_NO_VIDEO before the first frame.
   */
  event(request: EventRequest): EventOutcome;
  snapshot(): TelemetrySnapshot;
  /** Fetches new IoT credentials now; resolves with their expiration (epoch ms). Absent with static keys. */
  reloadCredentials?(): Promise<number>;
  /** Flushes and exits with DEVICE_EXIT.RESTART (the service manager starts the device again). */
  restart(): void;
}

/** The device's state file: whole-file read (undefined when there is none yet) and atomic write. */
export interface StateStore {
  read(): Uint8Array | undefined;
  write(bytes: Uint8Array): void;
}

/** The MQTT client as the channel uses it (firmware/core/mqtt/MqttClient.ts). */
export interface ControlMqtt {
  readonly connected: boolean;
  publish(topic: string, payload: Uint8Array, qos: QoS, retain?: boolean): boolean;
  subscribe(filter: string, qos: QoS): void;
  /** Opens the connection (nothing connects before); retries by itself afterwards. */
  start(): void;
  close(): void;
}

export interface ControlMqttCallbacks {
  readonly will: WillFields;
  onMessage(topic: string, payload: Uint8Array, qos: QoS): void;
  onConnectionChange(connected: boolean): void;
  /** The client's QoS 1 queue has room again (a PUBACK arrived). */
  onQueueSpace(): void;
  /** A message larger than the client's packet limit arrived on `topic` and was discarded (acknowledged). */
  onOversize(topic: string, packetBytes: number): void;
  onError(error: { readonly code: string; readonly message: string }): void;
}

/** Creates the connection (the app: `new MqttClient({...board ports, ...callbacks})`); the channel subscribes, then calls `start()`. */
export type ControlMqttFactory = (callbacks: ControlMqttCallbacks) => ControlMqtt;
