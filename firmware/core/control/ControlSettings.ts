import { FieldcamError } from '../errors.ts';

/** The effective settings of docs/control-channel.md ("Settings"); `fps`/`bitrateKbps` null = the camera's own. */
export interface ControlSettings {
  streaming: boolean;
  fragmentMs: number;
  fps: number | null;
  bitrateKbps: number | null;
  telemetryIntervalS: number;
  healthAmberMs: number;
  healthRedMs: number;
}

export type SettingKey = keyof ControlSettings;

/** What the device can change, and the defaults that come from its board manifest. */
export interface DeviceCapabilities {
  /** The camera adapter can change its frame rate / bitrate; otherwise those settings are CONTROL_UNSUPPORTED. */
  readonly fps: boolean;
  readonly bitrate: boolean;
  readonly reloadCredentials: boolean;
  /** The board manifest's fragment duration (the default) and its maximum (an upper bound for `fragmentMs`). */
  readonly fragmentMs: number;
  readonly maxFragmentMs: number;
}

/** Integer ranges per setting (the contract's table); `streaming` is a bool. */
export const SETTING_RANGES = Object.freeze({
  fragmentMs: Object.freeze([1000, 10_000]),
  fps: Object.freeze([1, 120]),
  bitrateKbps: Object.freeze([16, 50_000]),
  telemetryIntervalS: Object.freeze([0, 3600]),
  healthAmberMs: Object.freeze([1000, 3_600_000]),
  healthRedMs: Object.freeze([1000, 3_600_000]),
} as const);

export const SETTING_KEYS: readonly SettingKey[] = Object.freeze([
  'streaming',
  'fragmentMs',
  'fps',
  'bitrateKbps',
  'telemetryIntervalS',
  'healthAmberMs',
  'healthRedMs',
]);

export function defaultSettings(caps: DeviceCapabilities): ControlSettings {
  return {
    streaming: true,
    fragmentMs: caps.fragmentMs,
    fps: null,
    bitrateKbps: null,
    telemetryIntervalS: 60,
    healthAmberMs: 3 * caps.maxFragmentMs,
    healthRedMs: 60_000,
  };
}

/**
 * Checks one setting: an unknown key, a wrong type or a value out of range is CONTROL_ARGUMENT_INVALID naming
 * it; fps/bitrate where the camera cannot change them CONTROL_UNSUPPORTED. Returns the error, never throws.
 */
export function checkSetting(key: string, value: unknown, caps: DeviceCapabilities): FieldcamError | undefined {
  if (!(SETTING_KEYS as readonly string[]).includes(key)) {
    return new FieldcamError('CONTROL_ARGUMENT_INVALID', `unknown setting "${key.slice(0, 64)}" (known: ${SETTING_KEYS.join(', ')})`);
  }
  if (key === 'streaming') {
    return typeof value === 'boolean' ? undefined : new FieldcamError('CONTROL_ARGUMENT_INVALID', 'setting streaming must be true or false');
  }
  const [min, max] = SETTING_RANGES[key as Exclude<SettingKey, 'streaming'>];
  const top = key === 'fragmentMs' ? Math.min(max, caps.maxFragmentMs) : max;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > top) {
    return new FieldcamError('CONTROL_ARGUMENT_INVALID', `setting ${key} must be an integer in ${min}-${top}`);
  }
  if ((key === 'fps' && !caps.fps) || (key === 'bitrateKbps' && !caps.bitrate)) {
    return new FieldcamError('CONTROL_UNSUPPORTED', `this camera adapter cannot change ${key}`);
  }
  return undefined;
}

/** A settings map as given in `set` args, desired documents and the state file: plain object, text keys. */
export type SettingsPatch = Partial<Record<SettingKey, boolean | number>>;

/**
 * Splits a settings map into what may be applied and what is refused (key → error). `set` refuses the whole
 * command on the first refusal; desired documents apply the rest and report the refused keys.
 */
export function sortSettings(raw: Record<string, unknown>, caps: DeviceCapabilities): { accepted: SettingsPatch; rejected: Record<string, FieldcamError> } {
  const accepted: SettingsPatch = {};
  const rejected: Record<string, FieldcamError> = {};
  let n = 0;
  for (const key of Object.keys(raw)) {
    if (++n > SETTING_KEYS.length * 2) {
      rejected[key.slice(0, 64)] = new FieldcamError('CONTROL_ARGUMENT_INVALID', `more than ${SETTING_KEYS.length * 2} settings`);
      break;
    }
    const error = checkSetting(key, raw[key], caps);
    if (error) rejected[key.slice(0, 64)] = error;
    else accepted[key as SettingKey] = raw[key] as boolean | number;
  }
  return { accepted, rejected };
}

/** `base` with `patch` laid over it (a new object; settings change rarely). */
export function mergeSettings(base: ControlSettings, patch: SettingsPatch): ControlSettings {
  const out = { ...base };
  for (const key of SETTING_KEYS) {
    if (patch[key] !== undefined) (out as Record<string, unknown>)[key] = patch[key];
  }
  return out;
}
