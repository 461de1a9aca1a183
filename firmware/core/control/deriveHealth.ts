export type HealthState = 'green' | 'amber' | 'red';

export interface Health {
  readonly state: HealthState;
  /** persisting | late | stalled | starting | never-persisted | stopped | camera | idle */
  readonly reason: string;
}

export interface HealthInput {
  readonly streaming: boolean;
  /** Age of the last PERSISTED ACK, -1 when none yet. */
  readonly lastPersistedAgeMs: number;
  /** Since streaming last began (boot or a `start` command). */
  readonly streamingForMs: number;
  readonly amberMs: number;
  readonly redMs: number;
  /** The camera sends something that yields no frame (its code is in telemetry `cameraError`): red at once. */
  readonly cameraFailing?: boolean;
  /** Recording mode "event" between clips: nothing is due to be uploaded, so no ACK is late (green `idle`). */
  readonly idle?: boolean;
}

/**
 * The health state of user-needs.md row 17, from the age of the last PERSISTED acknowledgement: green below
 * `amberMs`, amber below `redMs`, red above. The age counts from the later of that ACK and the moment
 * streaming began, so a device that was stopped on purpose does not turn red the moment it starts again;
 * one that never gets a PERSISTED within `redMs` of starting is red. Stopped by command: amber, 'stopped'.
 */
export function deriveHealth(h: HealthInput): Health {
  if (h.cameraFailing) return RED_CAMERA;
  if (!h.streaming) return AMBER_STOPPED;
  if (h.idle) return GREEN_IDLE;
  const never = h.lastPersistedAgeMs < 0 || h.lastPersistedAgeMs > h.streamingForMs;
  const age = never ? h.streamingForMs : h.lastPersistedAgeMs;
  if (age < h.amberMs) return never ? GREEN_STARTING : GREEN;
  if (age < h.redMs) return never ? AMBER_STARTING : AMBER;
  return never ? RED_NEVER : RED;
}

// Frozen records: the state is computed every second and must not allocate.
const GREEN: Health = Object.freeze({ state: 'green', reason: 'persisting' });
const GREEN_IDLE: Health = Object.freeze({ state: 'green', reason: 'idle' });
const GREEN_STARTING: Health = Object.freeze({ state: 'green', reason: 'starting' });
const AMBER: Health = Object.freeze({ state: 'amber', reason: 'late' });
const AMBER_STARTING: Health = Object.freeze({ state: 'amber', reason: 'starting' });
const AMBER_STOPPED: Health = Object.freeze({ state: 'amber', reason: 'stopped' });
const RED: Health = Object.freeze({ state: 'red', reason: 'stalled' });
const RED_CAMERA: Health = Object.freeze({ state: 'red', reason: 'camera' });
const RED_NEVER: Health = Object.freeze({ state: 'red', reason: 'never-persisted' });
