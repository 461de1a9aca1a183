// The device settings of docs/control-channel.md §Settings, as the host validates them before anything is
// sent: the device validates again (it is the authority), but a typo or an out-of-range number is caught
// here, named, with no connection made.
import { SETTING_RANGES, type SettingKey } from '../../../firmware/core/control/ControlSettings.ts';
import { FieldcamError } from '../../shared/hostErrors.ts';

export type SettingSpec = { readonly type: 'bool' } | { readonly type: 'uint'; readonly min: number; readonly max: number; readonly unit: string };

const R = SETTING_RANGES;

/** The contract's table, with the device's own ranges (firmware/core/control/ControlSettings.ts). */
export const CONTROL_SETTINGS = Object.freeze({
  streaming: { type: 'bool' },
  fragmentMs: { type: 'uint', min: R.fragmentMs[0], max: R.fragmentMs[1], unit: 'ms; the board may allow less' },
  fps: { type: 'uint', min: R.fps[0], max: R.fps[1], unit: 'frames/s' },
  bitrateKbps: { type: 'uint', min: R.bitrateKbps[0], max: R.bitrateKbps[1], unit: 'kbit/s' },
  telemetryIntervalS: { type: 'uint', min: R.telemetryIntervalS[0], max: R.telemetryIntervalS[1], unit: 's; 0 = on change only' },
  healthAmberMs: { type: 'uint', min: R.healthAmberMs[0], max: R.healthAmberMs[1], unit: 'ms' },
  healthRedMs: { type: 'uint', min: R.healthRedMs[0], max: R.healthRedMs[1], unit: 'ms' },
} as const satisfies Record<SettingKey, SettingSpec>);

export type SettingName = keyof typeof CONTROL_SETTINGS;
export type SettingValue = boolean | number;

function isSetting(name: string): name is SettingName {
  return Object.hasOwn(CONTROL_SETTINGS, name);
}

/** One `name=value` setting, typed; `where` prefixes the usage error (e.g. "device cam-1 set"). */
export function parseSetting(where: string, name: string, raw: string): SettingValue {
  if (!isSetting(name)) {
    throw new FieldcamError('CLI_USAGE', `${where}: unknown setting '${name}'; settings: ${Object.keys(CONTROL_SETTINGS).join(', ')}`);
  }
  const spec: SettingSpec = CONTROL_SETTINGS[name];
  if (spec.type === 'bool') {
    if (raw === 'true' || raw === 'on' || raw === '1') return true;
    if (raw === 'false' || raw === 'off' || raw === '0') return false;
    throw new FieldcamError('CLI_USAGE', `${where}: ${name} must be true or false, got '${raw}'`);
  }
  const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < spec.min || n > spec.max) {
    throw new FieldcamError('CLI_USAGE', `${where}: ${name} must be a whole number from ${spec.min} to ${spec.max} (${spec.unit}), got '${raw}'`);
  }
  return n;
}

/**
 * A settings map from a device document, keeping only known keys of the right type (display and merge).
 * `null` is kept for a number: the device reports `fps: null` when the camera keeps its own rate.
 */
export function knownSettings(value: unknown): Partial<Record<SettingName, SettingValue | null>> {
  const out: Partial<Record<SettingName, SettingValue | null>> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [k, v] of Object.entries(value)) {
    if (!isSetting(k)) continue;
    const type = CONTROL_SETTINGS[k].type;
    if ((type === 'bool' && typeof v === 'boolean') || (type === 'uint' && (Number.isInteger(v) || v === null))) out[k] = v as SettingValue | null;
  }
  return out;
}
