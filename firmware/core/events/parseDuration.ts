import { FieldcamError } from '../errors.ts';

/** Units of an event duration, in ms. */
const UNITS: Readonly<Record<string, number>> = Object.freeze({ ms: 1, s: 1000, m: 60_000 });

/**
 * `500ms`, `10s`, `2m` → ms (whole numbers, at most 7 digits, at most `maxMs`). `what` names the value in the error.
 * Throws FieldcamError EVENT_DURATION_INVALID. Shared by the trigger line, the control command and the host CLI.
 */
export function parseDuration(text: string, what: string, maxMs: number): number {
  const m = /^(\d{1,7})(ms|s|m)$/.exec(text);
  if (!m) throw new FieldcamError('EVENT_DURATION_INVALID', `${what} "${text.slice(0, 16)}" is not a duration (500ms, 10s, 2m)`);
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms > maxMs) throw new FieldcamError('EVENT_DURATION_INVALID', `${what} ${text} is longer than ${maxMs} ms`);
  return ms;
}
