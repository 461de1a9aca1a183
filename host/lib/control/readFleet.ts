// The fleet as `fieldcam devices` shows it: the things provision created, joined with their retained health
// record and the latest telemetry record seen within a short wait (docs/control-channel.md §Telemetry,
// §Health). Nothing is asked of the devices: the broker's retained messages answer for offline ones.
import { decodeControl, type ControlDocument } from './controlCbor.ts';
import { FLEET_FILTERS, parseControlTopic } from './controlTopics.ts';
import type { OperatorConnection } from './OperatorConnection.ts';
import type { MessageRouter } from './MessageRouter.ts';

export const HEALTH_STATES = Object.freeze(['green', 'amber', 'red', 'offline', 'unknown'] as const);
export type HealthState = (typeof HEALTH_STATES)[number];

export interface FleetRow {
  readonly thing: string;
  readonly health: HealthState;
  readonly reason?: string;
  /** From the telemetry record if one came, else from the health record; -1: never PERSISTED. */
  readonly lastPersistedAgeMs?: number;
  readonly framesIn?: number;
  readonly framesOut?: number;
  /** Sum of the telemetry's drops by reason. */
  readonly drops?: number;
  readonly poolSlotsInUse?: number;
  readonly poolSlots?: number;
  readonly ackLatencyP50Ms?: number;
  readonly ackLatencyP99Ms?: number;
  /** Whether a telemetry record arrived during the wait. */
  readonly live: boolean;
}

function num(doc: ControlDocument | undefined, key: string): number | undefined {
  const v = doc?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function healthOf(value: unknown): HealthState | undefined {
  return typeof value === 'string' && (HEALTH_STATES as readonly string[]).includes(value) && value !== 'unknown' ? (value as HealthState) : undefined;
}

/** One row from what was seen of a thing. */
export function fleetRow(thing: string, health: ControlDocument | undefined, telemetry: ControlDocument | undefined): FleetRow {
  const retained = healthOf(health?.state);
  // Live telemetry beats a retained 'offline' (the Will of an earlier connection).
  const state = (retained === 'offline' && telemetry ? healthOf(telemetry.health) : retained) ?? healthOf(telemetry?.health) ?? 'unknown';
  const drops = telemetry?.drops;
  const dropSum =
    typeof drops === 'object' && drops !== null
      ? Object.values(drops).reduce<number>((n, v) => n + (typeof v === 'number' && Number.isFinite(v) ? v : 0), 0)
      : undefined;
  const fields: Record<string, unknown> = {
    reason: typeof health?.reason === 'string' && health.reason !== '' ? health.reason : undefined,
    lastPersistedAgeMs: num(telemetry, 'lastPersistedAgeMs') ?? num(health, 'lastPersistedAgeMs'),
    framesIn: num(telemetry, 'framesIn'),
    framesOut: num(telemetry, 'framesOut'),
    drops: dropSum,
    poolSlotsInUse: num(telemetry, 'poolSlotsInUse'),
    poolSlots: num(telemetry, 'poolSlots'),
    ackLatencyP50Ms: num(telemetry, 'ackLatencyP50Ms'),
    ackLatencyP99Ms: num(telemetry, 'ackLatencyP99Ms'),
  };
  return { thing, health: state, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)), live: telemetry !== undefined };
}

export interface ReadFleetOptions {
  readonly connection: OperatorConnection;
  readonly router: MessageRouter;
  readonly things: readonly string[];
  /** How long to listen for telemetry; ends early once every thing has both records. */
  readonly waitMs: number;
}

export async function readFleet(options: ReadFleetOptions): Promise<FleetRow[]> {
  const wanted = new Set(options.things);
  const health = new Map<string, ControlDocument>();
  const telemetry = new Map<string, ControlDocument>();
  let complete = (): void => {};
  const allSeen = new Promise<void>((done) => (complete = done));
  const stop = options.router.on((m) => {
    const parsed = parseControlTopic(m.topic);
    if (!parsed || !wanted.has(parsed.thing)) return;
    const doc = decodeControl(m.payload);
    if (!doc) return;
    if (parsed.leaf === 'health') health.set(parsed.thing, doc);
    else if (parsed.leaf === 'telemetry') telemetry.set(parsed.thing, doc);
    if (health.size === wanted.size && telemetry.size === wanted.size) complete();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    if (wanted.size > 0) {
      await options.connection.subscribe([FLEET_FILTERS.health, FLEET_FILTERS.telemetry]);
      const waited = new Promise<void>((done) => (timer = setTimeout(done, options.waitMs)));
      await Promise.race([allSeen, waited, options.connection.lost.then((err) => Promise.reject(err))]);
    }
  } finally {
    clearTimeout(timer);
    stop();
  }
  return options.things.map((thing) => fleetRow(thing, health.get(thing), telemetry.get(thing)));
}
