import type { ClockPort } from '../../io/Clock.ts';
import type { TimerHandle, TimerPort } from '../../io/Timer.ts';
import { encodeCbor } from '../cbor/encodeCbor.ts';
import { FieldcamError, isFieldcamError } from '../errors.ts';
import { CommandLog, type CommandResult } from './CommandLog.ts';
import { CONTROL_LIMITS } from './controlLimits.ts';
import type { ControlMqtt, ControlMqttFactory, DeviceControls, StateStore, TelemetrySnapshot } from './ControlPorts.ts';
import { defaultSettings, mergeSettings, sortSettings, type ControlSettings, type SettingsPatch } from './ControlSettings.ts';
import { EMPTY_CONTROL_STATE, type ControlState } from './ControlState.ts';
import { ControlStateFile } from './ControlStateFile.ts';
import { ResultOutbox } from './ResultOutbox.ts';
import { controlTopics, type ControlTopics } from './controlTopics.ts';
import { decodeCommand, decodeControlMap, type Command } from './decodeCommand.ts';
import { deriveHealth, type Health } from './deriveHealth.ts';
import { COMMAND_HANDLERS, type CommandContext } from './commandHandlers.ts';

export interface ControlChannelOptions {
  readonly thing: string;
  readonly mqtt: ControlMqttFactory;
  readonly device: DeviceControls;
  readonly state: StateStore;
  readonly timers: TimerPort;
  readonly clock: ClockPort;
  readonly onEvent?: (event: ControlEvent) => void;
  /** How long a `stop` waits for the last PERSISTED and a `tag` for its fragment before answering anyway. */
  readonly commandTimeoutMs?: number;
  /** The state file's encode buffer, allocated once (board data; CONTROL_LIMITS.stateBytes by default). */
  readonly stateBytes?: number;
  /** Commands running or answered but not yet taken by the MQTT client; past it CONTROL_BUSY (board data; CONTROL_LIMITS.pendingResults). */
  readonly pendingResults?: number;
}

export type ControlEvent =
  | { readonly type: 'connected' | 'disconnected' }
  | { readonly type: 'command'; readonly id: string; readonly name: string; readonly repeat: boolean }
  | { readonly type: 'result'; readonly id: string; readonly ok: boolean; readonly code?: string }
  | { readonly type: 'desired'; readonly version: number; readonly rejected: readonly string[] }
  | { readonly type: 'health'; readonly state: string; readonly reason: string }
  | { readonly type: 'error'; readonly code: string; readonly message: string };

const TICK_MS = 1000;

/**
 * The device side of the control channel (docs/control-channel.md). It applies the state file at construction
 * — before any broker is reached — then keeps one MQTT connection: commands in (`cmd`, QoS 1, de-duplicated
 * by id through the command log), results out; desired configuration in, reported out (retained); telemetry
 * every `telemetryIntervalS` and on health changes; health (retained, the Will says `offline`).
 *
 * It never stops the device: a broker that is down, refuses us or fails TLS is reported through `onEvent`
 * and streaming goes on. Malformed documents are answered with named errors; nothing thrown by a handler
 * escapes into the MQTT client. Nothing here runs per frame: a one-second tick derives the health state.
 *
 * Its memory does not grow with the command rate: commands running plus results the MQTT client has not taken
 * yet are bounded by `pendingResults` (past it a command is refused as CONTROL_BUSY, not run, and counted in
 * telemetry `errors`); the command log keeps no telemetry records; the state file is encoded into one buffer
 * allocated here and written only when its bytes change.
 */
export class ControlChannel {
  readonly topics: ControlTopics;
  private readonly o: ControlChannelOptions;
  private readonly device: DeviceControls;
  private readonly log = new CommandLog();
  private readonly out = new Uint8Array(CONTROL_LIMITS.encodeBytes);
  private readonly stateFile: ControlStateFile;
  private readonly pendingResults: number;
  /** Commands started and not yet finished (they will each add a result). */
  private running = 0;
  /** Commands refused with CONTROL_BUSY since boot (telemetry `errors`). */
  private busy = 0;
  private readonly bootAt: number;
  private mqtt: ControlMqtt | undefined;
  private state: ControlState = EMPTY_CONTROL_STATE;
  private settings: ControlSettings;
  private rejected: Record<string, string> | undefined;
  private health: Health | undefined;
  private streamingSince: number;
  /** Event mode: when the device last had nothing to upload (health counts a clip's age from there); -1 never. */
  private busySince = -1;
  /** framesIn at the last health check, and when it last changed (a camera delivering frames). */
  private framesSeen = -1;
  private framesAt = 0;
  private seq = 0;
  private nextTelemetryAt = 0;
  private tick: TimerHandle | undefined;
  private closed = false;
  private readonly outbox = new ResultOutbox((result) => this.publish(this.topics.result, result, 1, false));
  /** What command handlers may use of the channel (built once). */
  private readonly context: CommandContext;

  constructor(options: ControlChannelOptions) {
    this.o = options;
    this.device = options.device;
    this.context = {
      device: options.device,
      telemetry: () => this.telemetry(),
      apply: (patch) => this.apply(patch),
      saveState: () => this.saveState(),
      checkHealth: () => this.checkHealth(),
      publishReported: () => this.publishReported(),
      reported: () => this.reported(),
      bounded: (p, fallback) => this.bounded(p, fallback),
    };
    this.topics = controlTopics(options.thing);
    this.stateFile = new ControlStateFile(options.state, options.stateBytes ?? CONTROL_LIMITS.stateBytes);
    this.pendingResults = options.pendingResults ?? CONTROL_LIMITS.pendingResults;
    this.bootAt = this.streamingSince = options.clock.monotonic();
    this.settings = defaultSettings(this.device.capabilities);
    this.loadState();
  }

  /** The effective settings (defaults, then the state file, desired documents and commands). */
  get effective(): Readonly<ControlSettings> {
    return this.settings;
  }

  /** Connects (in the background: the MQTT client retries by itself) and starts the telemetry/health tick. */
  start(): void {
    if (this.closed) throw new RangeError('the ControlChannel is closed');
    if (this.mqtt) throw new RangeError('start() called twice');
    const will = { topic: this.topics.health, payload: this.encode({ state: 'offline', reason: 'connection-lost' }).slice(), qos: 1 as const, retain: true };
    this.mqtt = this.o.mqtt({
      will,
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      onConnectionChange: (up) => this.onConnection(up),
      onQueueSpace: () => this.outbox.flush(), // a PUBACK made room: the waiting results go now, not at the next tick
      onOversize: (topic, bytes) => this.onOversize(topic, bytes),
      onError: (e) => this.emit({ type: 'error', code: e.code, message: e.message }),
    });
    this.mqtt.subscribe(this.topics.cmd, 1);
    this.mqtt.subscribe(this.topics.desired, 1);
    this.mqtt.start();
    this.nextTelemetryAt = this.o.clock.monotonic() + this.settings.telemetryIntervalS * 1000;
    this.tick = this.o.timers.set(TICK_MS, () => this.onTick());
  }

  /** Publishes `offline` (a DISCONNECT suppresses the Will, §3.14.4) and closes. Nothing runs afterwards. */
  close(reason = 'shutdown'): void {
    if (this.closed) return;
    this.closed = true;
    if (this.tick !== undefined) this.o.timers.clear(this.tick);
    this.tick = undefined;
    const mqtt = this.mqtt;
    if (mqtt) {
      if (mqtt.connected) this.publish(this.topics.health, { state: 'offline', reason, lastPersistedAgeMs: -1, t: this.o.clock.now() }, 1, true);
      mqtt.close();
    }
  }

  /** A telemetry record (docs/control-channel.md, "Telemetry"). */
  telemetry(): Record<string, unknown> {
    const s = this.device.snapshot();
    const now = this.o.clock.monotonic();
    const health = this.currentHealth(s, now);
    return {
      t: this.o.clock.now(),
      seq: this.seq++,
      uptimeMs: Math.round(now - this.bootAt),
      streaming: this.settings.streaming,
      health: health.state,
      framesIn: s.framesIn,
      framesOut: s.framesOut,
      fragmentsSent: s.fragmentsSent,
      fragmentsPersisted: s.fragmentsPersisted,
      drops: s.drops,
      poolSlotsInUse: s.poolSlotsInUse,
      poolSlots: s.poolSlots,
      bytesBehind: s.bytesBehind,
      ackLatencyP50Ms: s.ackLatencyP50Ms,
      ackLatencyP99Ms: s.ackLatencyP99Ms,
      lastPersistedAgeMs: s.lastPersistedAgeMs,
      errors: topErrors(this.busy > 0 ? { ...s.errors, CONTROL_BUSY: this.busy } : s.errors),
      heap: s.heap,
      computrons: s.computrons,
      ...(s.cameraError !== undefined ? { cameraError: s.cameraError } : {}),
      ...(s.events ? { events: s.events } : {}),
      ...(s.spool ? { spool: s.spool } : {}),
      ...(s.cameras ? { cameras: s.cameras } : {}),
    };
  }

  // ── state file ──

  private loadState(): void {
    try {
      this.state = this.stateFile.read();
    } catch (err) {
      const e = isFieldcamError(err) ? err : new FieldcamError('CONTROL_STATE_INVALID', `the control state file cannot be read: ${String(err)}`);
      this.emit({ type: 'error', code: e.code, message: e.message });
      this.state = EMPTY_CONTROL_STATE;
    }
    for (const r of this.state.commands) {
      this.log.begin(r.id);
      this.log.finish(r);
    }
    // Re-validated against this device: a value it cannot take falls back to the default.
    const { accepted } = sortSettings(this.state.settings as Record<string, unknown>, this.device.capabilities);
    this.apply(accepted);
  }

  /** Keeps the settings and the command log in the state file (ControlStateFile writes only a changed document). */
  private saveState(): void {
    this.state = { desiredVersion: this.state.desiredVersion, settings: this.state.settings, commands: this.log.entries() };
    try {
      this.stateFile.write(this.state);
    } catch (err) {
      const e =
        isFieldcamError(err) && err.code !== 'CBOR_BUFFER_TOO_SMALL'
          ? err
          : new FieldcamError('CONTROL_STATE_WRITE_FAILED', `the control state file could not be written: ${(err as Error).message}`);
      this.emit({ type: 'error', code: e.code === 'CONTROL_STATE_WRITE_FAILED' ? e.code : 'CONTROL_STATE_WRITE_FAILED', message: e.message });
    }
  }

  /**
   * Applies a validated patch to the device and the effective settings and keeps it in the state. Returns the
   * device's promise when streaming was switched (a stop resolves at the last PERSISTED).
   */
  private apply(patch: SettingsPatch): Promise<void> | undefined {
    const before = this.settings;
    this.settings = mergeSettings(before, patch);
    this.state = { ...this.state, settings: { ...this.state.settings, ...patch } };
    if (this.settings.fragmentMs !== before.fragmentMs) this.device.setFragmentMs(this.settings.fragmentMs);
    if (patch.telemetryIntervalS !== undefined) this.nextTelemetryAt = this.o.clock.monotonic() + this.settings.telemetryIntervalS * 1000;
    if (this.settings.streaming === before.streaming) return undefined;
    if (this.settings.streaming) this.streamingSince = this.o.clock.monotonic();
    const switched = this.device.setStreaming(this.settings.streaming);
    switched.catch(() => undefined); // failures show in telemetry; the setting stands
    return switched;
  }

  // ── MQTT ──

  private onConnection(up: boolean): void {
    this.emit({ type: up ? 'connected' : 'disconnected' });
    if (!up) return;
    this.health = undefined; // published again on every connect (it is retained, but the Will may have replaced it)
    this.outbox.flush();
    this.publishReported();
    this.checkHealth();
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    try {
      if (topic === this.topics.cmd) this.onCommand(payload);
      else if (topic === this.topics.desired) this.onDesired(payload);
    } catch (err) {
      // A bug in a handler must not take the connection (or the device) down; it is reported instead.
      this.emit({ type: 'error', code: isFieldcamError(err) ? err.code : 'CONTROL_PAYLOAD_INVALID', message: String((err as Error).message ?? err) });
    }
  }

  /** A command or desired document too large for the MQTT client to take: refused like any over 1024 bytes. */
  private onOversize(topic: string, packetBytes: number): void {
    const what = topic === this.topics.cmd ? 'command' : 'desired document';
    const message = `the ${what} came in a ${packetBytes}-byte MQTT packet; at most ${CONTROL_LIMITS.maxPayloadBytes} bytes allowed`;
    if (topic === this.topics.desired) return this.emit({ type: 'error', code: 'CONTROL_PAYLOAD_INVALID', message });
    if (topic !== this.topics.cmd || this.refusedBusy(undefined)) return;
    this.emit({ type: 'command', id: '', name: '', repeat: false });
    this.finish(undefined, { ok: false, code: 'CONTROL_PAYLOAD_INVALID', message });
  }

  /**
   * Backpressure: every command received adds a result, and a burst arrives far faster than PUBACKs free the
   * client's ring, so once `pendingResults` are running or waiting a further command is refused — not run, no
   * result (there is no room to queue one), counted as CONTROL_BUSY in telemetry `errors` and reported as an
   * event. Its id is not logged, so sending it again later runs it. Leaving it unacknowledged for redelivery
   * instead would not help: an MQTT 3.1.1 server re-sends an unacknowledged QoS 1 message only when the client
   * reconnects (§4.4), so it would wait for the next connection loss, and the client acknowledges every
   * PUBLISH once onMessage returns (§4.3.2) anyway.
   */
  private refusedBusy(id: string | undefined): boolean {
    if (this.running + this.outbox.waiting < this.pendingResults) return false;
    this.busy++;
    this.emit({
      type: 'error',
      code: 'CONTROL_BUSY',
      message: `command ${id === undefined ? '(no id)' : id} not run: ${this.pendingResults} results are already waiting to be sent`,
    });
    return true;
  }

  private onCommand(payload: Uint8Array): void {
    const decoded = decodeCommand(payload);
    if (this.refusedBusy(decoded.ok ? decoded.command.id : decoded.id)) return;
    if (!decoded.ok) {
      if (decoded.id !== undefined && this.log.has(decoded.id)) return this.repeat(decoded.id);
      this.emit({ type: 'command', id: decoded.id ?? '', name: '', repeat: false });
      // Not logged (a payload that cannot be decoded never began): a repeat is refused the same way again.
      this.finish(decoded.id, { ok: false, code: decoded.error.code, message: decoded.error.message }, false);
      return;
    }
    const c = decoded.command;
    if (this.log.has(c.id)) return this.repeat(c.id);
    this.emit({ type: 'command', id: c.id, name: c.name, repeat: false });
    // `status` is read-only and its result is a whole telemetry record: it is not logged (a duplicate simply
    // runs again), so the log and the state file stay small and a status never rewrites the file.
    const logged = c.name !== 'status';
    if (logged) this.log.begin(c.id);
    this.running++;
    this.run(c)
      .then(
        (data) => {
          this.running--;
          this.finish(c.id, { ok: true, ...(data ? { data } : {}) }, logged);
        },
        (err: unknown) => {
          this.running--;
          const e = isFieldcamError(err) ? err : new FieldcamError('CONTROL_ARGUMENT_INVALID', String(err));
          this.finish(c.id, { ok: false, code: e.code, message: e.message }, logged);
        },
      )
      .then(
        () => {
          if (c.name === 'restart' && !this.closed) this.o.timers.set(0, () => this.device.restart());
        },
        () => undefined,
      );
  }

  private repeat(id: string): void {
    this.emit({ type: 'command', id, name: '', repeat: true });
    const stored = this.log.result(id);
    if (stored) this.outbox.send(stored); // else it is still running; its result will come
  }

  /** Publishes a command's result; `logged`: kept in the command log and the state file (all but `status`). */
  private finish(id: string | undefined, r: { ok: boolean; code?: string; message?: string; data?: Record<string, unknown> }, logged = true): void {
    const result: CommandResult = {
      ...(id !== undefined ? { id } : {}),
      ok: r.ok,
      ...(r.code ? { code: r.code } : {}),
      ...(r.message ? { message: r.message.slice(0, CONTROL_LIMITS.messageMaxChars) } : {}),
      ...(r.data ? { data: r.data } : {}),
    } as CommandResult;
    if (id !== undefined && logged) {
      this.log.finish(result);
      this.saveState();
    }
    this.emit({ type: 'result', id: id ?? '', ok: r.ok, ...(r.code ? { code: r.code } : {}) });
    if (!this.closed) this.outbox.send(result);
  }

  /** Runs a command's handler (commandHandlers.ts); a handler that throws synchronously rejects the same way. */
  private async run(c: Command): Promise<Record<string, unknown> | undefined> {
    return COMMAND_HANDLERS[c.name](this.context, c.args, c.name);
  }

  /** `p`, or `fallback` once commandTimeoutMs passed (the result must not wait forever on the uplink). */
  private bounded<T>(p: Promise<T>, fallback: T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.o.timers.set(this.o.commandTimeoutMs ?? 30_000, () => resolve(fallback));
      p.then(
        (v) => {
          this.o.timers.clear(timer);
          resolve(v);
        },
        (err: unknown) => {
          this.o.timers.clear(timer);
          reject(err);
        },
      );
    });
  }

  private onDesired(payload: Uint8Array): void {
    if (payload.length === 0) return; // the retained document was cleared
    const map = decodeControlMap(payload, 'desired document');
    const version = map instanceof FieldcamError ? undefined : map.version;
    const settings = map instanceof FieldcamError ? undefined : map.settings;
    if (
      map instanceof FieldcamError ||
      typeof version !== 'number' ||
      !Number.isInteger(version) ||
      version < 0 ||
      typeof settings !== 'object' ||
      settings === null ||
      Array.isArray(settings) ||
      settings instanceof Uint8Array
    ) {
      const e =
        map instanceof FieldcamError ? map : new FieldcamError('CONTROL_PAYLOAD_INVALID', 'the desired document must be { version: uint, settings: map }');
      this.emit({ type: 'error', code: e.code, message: e.message });
      return;
    }
    if (version <= this.state.desiredVersion) return; // already applied (retained, re-delivered on every connect)
    const { accepted, rejected } = sortSettings(map.settings as Record<string, unknown>, this.device.capabilities);
    this.state = { ...this.state, desiredVersion: version };
    this.apply(accepted);
    const keys = Object.keys(rejected);
    this.rejected = undefined;
    for (const key of keys) (this.rejected ??= {})[key] = rejected[key]!.code;
    this.saveState();
    this.emit({ type: 'desired', version, rejected: keys });
    this.publishReported();
    this.checkHealth();
  }

  private reported(): Record<string, unknown> {
    return { version: this.state.desiredVersion, settings: { ...this.settings }, ...(this.rejected ? { rejected: this.rejected } : {}) };
  }

  private publishReported(): void {
    this.publish(this.topics.reported, this.reported(), 1, true);
  }

  // ── health and telemetry ──

  private currentHealth(snapshot: TelemetrySnapshot, now: number): Health {
    const s = this.settings;
    // Event mode between clips uploads nothing on purpose: green `idle`, and the next clip's age counts from its start.
    // Only while frames arrive: a camera that went quiet is not idle, and its age grows from the last idle moment.
    if (snapshot.framesIn !== this.framesSeen) {
      this.framesSeen = snapshot.framesIn;
      this.framesAt = now;
    }
    const idle = snapshot.events?.idle === true && now - this.framesAt < s.healthAmberMs;
    if (idle) this.busySince = now;
    return deriveHealth({
      streaming: s.streaming,
      lastPersistedAgeMs: snapshot.lastPersistedAgeMs,
      streamingForMs: now - Math.max(this.streamingSince, this.busySince),
      amberMs: s.healthAmberMs,
      redMs: s.healthRedMs,
      cameraFailing: snapshot.cameraError !== undefined,
      idle,
    });
  }

  private checkHealth(): void {
    if (this.closed || !this.mqtt) return;
    const s = this.device.snapshot();
    const health = this.currentHealth(s, this.o.clock.monotonic());
    if (health === this.health) return;
    this.health = health;
    this.emit({ type: 'health', state: health.state, reason: health.reason });
    if (!this.mqtt.connected) {
      this.health = undefined; // publish when connected
      return;
    }
    this.publish(this.topics.health, { state: health.state, reason: health.reason, lastPersistedAgeMs: s.lastPersistedAgeMs, t: this.o.clock.now() }, 1, true);
    this.publish(this.topics.telemetry, this.telemetry(), 0, false);
  }

  private onTick(): void {
    this.tick = this.o.timers.set(TICK_MS, () => this.onTick());
    this.outbox.flush();
    this.checkHealth();
    const interval = this.settings.telemetryIntervalS * 1000;
    const now = this.o.clock.monotonic();
    if (interval > 0 && now >= this.nextTelemetryAt) {
      this.nextTelemetryAt = now + interval;
      if (this.mqtt?.connected) this.publish(this.topics.telemetry, this.telemetry(), 0, false);
    }
  }

  private encode(value: unknown): Uint8Array {
    return this.out.subarray(0, encodeCbor(value, this.out));
  }

  /** False when the client did not take the message (its QoS 1 ring is full, or a QoS 0 one found no connection). */
  private publish(topic: string, value: unknown, qos: 0 | 1, retain: boolean): boolean {
    try {
      return this.mqtt?.publish(topic, this.encode(value), qos, retain) ?? false; // copied by the client: `out` is reused
    } catch (err) {
      this.emit({
        type: 'error',
        code: isFieldcamError(err) ? err.code : 'CONTROL_PAYLOAD_INVALID',
        message: `publish to ${topic}: ${(err as Error).message}`,
      });
      return true; // an encoding failure is reported, not retried
    }
  }

  private emit(event: ControlEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch {
      // a logging callback cannot break the channel
    }
  }
}

/** The `CONTROL_LIMITS.telemetryErrorCodes` most frequent error codes, so the record stays bounded. */
function topErrors(errors: Readonly<Record<string, number>>): Record<string, number> {
  const keys = Object.keys(errors);
  if (keys.length <= CONTROL_LIMITS.telemetryErrorCodes) return { ...errors };
  keys.sort((a, b) => errors[b]! - errors[a]!);
  const out: Record<string, number> = {};
  for (const k of keys.slice(0, CONTROL_LIMITS.telemetryErrorCodes)) out[k] = errors[k]!;
  return out;
}
