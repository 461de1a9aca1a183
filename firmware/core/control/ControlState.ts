import { decodeCbor } from '../cbor/decodeCbor.ts';
import { FieldcamError, isFieldcamError } from '../errors.ts';
import type { CommandResult } from './CommandLog.ts';
import { CONTROL_LIMITS } from './controlLimits.ts';
import { SETTING_KEYS, type SettingsPatch } from './ControlSettings.ts';

/**
 * What the device keeps across restarts in its state file (CBOR, written atomically):
 * `{ version: 1, desiredVersion, settings, commands }` — the version of the last desired document applied, the
 * settings changed from the defaults (desired documents, `set`, `start`/`stop`), and the command log with its
 * results. Read at boot before the broker is reached, so a camera that was told to stop stays stopped.
 */
export interface ControlState {
  readonly desiredVersion: number;
  readonly settings: SettingsPatch;
  readonly commands: readonly CommandResult[];
}

export const EMPTY_CONTROL_STATE: ControlState = Object.freeze({ desiredVersion: 0, settings: Object.freeze({}), commands: Object.freeze([]) });

type Json = Record<string, unknown>;

const isMap = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

function invalid(what: string): never {
  throw new FieldcamError('CONTROL_STATE_INVALID', `the control state file ${what}`);
}

/** The document written to the state file. */
export function stateDocument(state: ControlState): Json {
  return { version: 1, desiredVersion: state.desiredVersion, settings: { ...state.settings }, commands: state.commands.slice() };
}

/**
 * Reads a state file's bytes; throws CONTROL_STATE_INVALID for anything that is not a version 1 state document.
 * Settings are only shape-checked here (known key, bool or integer); the channel re-validates them against the
 * device's capabilities, so a state written by another firmware cannot smuggle in a bad value.
 */
export function decodeControlState(bytes: Uint8Array): ControlState {
  let raw: unknown;
  try {
    raw = decodeCbor(bytes, 0, bytes.length, CONTROL_LIMITS.decodeState);
  } catch (err) {
    invalid(`is not valid CBOR (${isFieldcamError(err) ? err.code : String(err)})`);
  }
  if (!isMap(raw) || raw.version !== 1) invalid('is not a version 1 state document');
  const dv = raw.desiredVersion;
  if (typeof dv !== 'number' || !Number.isInteger(dv) || dv < 0) invalid('has no valid desiredVersion');
  if (!isMap(raw.settings)) invalid('has no settings map');
  const settings: SettingsPatch = {};
  for (const key of Object.keys(raw.settings)) {
    const v = raw.settings[key];
    if (!(SETTING_KEYS as readonly string[]).includes(key) || (typeof v !== 'boolean' && !(typeof v === 'number' && Number.isInteger(v)))) {
      invalid(`has an invalid setting ${key.slice(0, 64)}`);
    }
    (settings as Json)[key] = v;
  }
  if (!Array.isArray(raw.commands) || raw.commands.length > CONTROL_LIMITS.commandLog) invalid(`has no command log of at most ${CONTROL_LIMITS.commandLog}`);
  const commands: CommandResult[] = [];
  for (const c of raw.commands as unknown[]) {
    if (!isMap(c) || typeof c.id !== 'string' || typeof c.ok !== 'boolean') invalid('has a malformed command entry');
    commands.push({
      id: c.id,
      ok: c.ok,
      ...(typeof c.code === 'string' ? { code: c.code } : {}),
      ...(typeof c.message === 'string' ? { message: c.message } : {}),
      ...(isMap(c.data) ? { data: c.data } : {}),
    });
  }
  return { desiredVersion: dv, settings, commands };
}
