import { FieldcamError } from '../errors.ts';
import { EVENT_LIMITS } from '../events/eventLimits.ts';
import { eventRequest, type EventRequest } from '../events/EventRequest.ts';

const KEYS = Object.freeze(['pre', 'post', 'tags']);
/** Longest `pre` a command may ask for; the device then keeps at most its configured pre-roll. */
const PRE_MS_MAX = 3_600_000;

function ms(v: unknown, key: string, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new FieldcamError('EVENT_DURATION_INVALID', `event ${key} must be whole ms in [0, ${max}]`);
  }
  return v;
}

/**
 * The `args` of an `event` command (docs/control-channel.md): `{ pre?: ms, post?: ms, tags?: { name: value } }`.
 * Throws CONTROL_ARGUMENT_INVALID (unknown key, tags not a map), EVENT_DURATION_INVALID, EVENT_TAG_INVALID.
 */
export function eventCommandRequest(args: Record<string, unknown>): EventRequest {
  for (const key of Object.keys(args)) {
    if (!KEYS.includes(key)) throw new FieldcamError('CONTROL_ARGUMENT_INVALID', `unknown event argument ${key.slice(0, 64)} (${KEYS.join(', ')})`);
  }
  const tags = args.tags ?? {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags) || tags instanceof Uint8Array) {
    throw new FieldcamError('CONTROL_ARGUMENT_INVALID', 'event tags must be a map of name to text');
  }
  const names = Object.keys(tags);
  const values = names.map((n) => (tags as Record<string, unknown>)[n] as string);
  return eventRequest(ms(args.pre, 'pre', PRE_MS_MAX), ms(args.post, 'post', EVENT_LIMITS.postMsMax), names, values);
}
