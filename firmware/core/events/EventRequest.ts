import { FieldcamError } from '../errors.ts';
import { checkEventTag } from './checkEventTag.ts';
import { EVENT_LIMITS } from './eventLimits.ts';

/** One event: its windows (absent = the device's recording defaults) and its tags, in order. */
export interface EventRequest {
  readonly preMs?: number;
  readonly postMs?: number;
  readonly names: readonly string[];
  readonly values: readonly string[];
}

/**
 * An EventRequest from already-typed parts, checked: at most EVENT_LIMITS.tagsMax tags, each valid, no name twice.
 * Throws FieldcamError EVENT_TAG_INVALID. (Durations are checked where they are parsed: parseDuration.)
 */
export function eventRequest(preMs: number | undefined, postMs: number | undefined, names: string[], values: string[]): EventRequest {
  if (names.length > EVENT_LIMITS.tagsMax) {
    throw new FieldcamError('EVENT_TAG_INVALID', `an event carries at most ${EVENT_LIMITS.tagsMax} tags, got ${names.length}`);
  }
  for (let i = 0; i < names.length; i++) {
    checkEventTag(names[i], values[i]);
    if (names.indexOf(names[i]!) !== i) throw new FieldcamError('EVENT_TAG_INVALID', `tag ${names[i]} is given twice`);
  }
  return Object.freeze({
    ...(preMs !== undefined ? { preMs } : {}),
    ...(postMs !== undefined ? { postMs } : {}),
    names: Object.freeze(names),
    values: Object.freeze(values),
  });
}
