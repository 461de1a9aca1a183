import { FieldcamError } from '../errors.ts';
import { EVENT_LIMITS } from './eventLimits.ts';
import { eventRequest, type EventRequest } from './EventRequest.ts';
import { parseDuration } from './parseDuration.ts';

/**
 * One line of the local trigger (docs/events.md, "Local trigger"), without its newline:
 *
 *     line     = [ token *( SP token ) ] [ CR ]
 *     token    = "pre=" duration / "post=" duration / name "=" value
 *     duration = 1*7DIGIT ( "ms" / "s" / "m" )
 *
 * An empty line is an event with the defaults; a line starting with `#` is a comment (undefined). `maxPreMs`: the
 * configured pre-roll, the longest `pre` can be. Bounded: at most EVENT_LIMITS.lineMaxBytes of ASCII. Never throws:
 * a bad line comes back as FieldcamError EVENT_LINE_TOO_LONG, EVENT_LINE_INVALID, EVENT_DURATION_INVALID or
 * EVENT_TAG_INVALID.
 */
export function parseEventLine(bytes: Uint8Array, start: number, end: number, maxPreMs: number): EventRequest | FieldcamError | undefined {
  if (end > start && bytes[end - 1] === 0x0d) end--;
  if (end - start >= EVENT_LIMITS.lineMaxBytes) return new FieldcamError('EVENT_LINE_TOO_LONG', `a trigger line of ${end - start} bytes`);
  let text = '';
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b < 0x20 || b > 0x7e)
      return new FieldcamError('EVENT_LINE_INVALID', `byte 0x${b.toString(16)} at column ${i - start + 1}: a trigger line is printable ASCII`);
    text += String.fromCharCode(b);
  }
  if (text.startsWith('#')) return undefined;
  let preMs: number | undefined;
  let postMs: number | undefined;
  const names: string[] = [];
  const values: string[] = [];
  try {
    for (const token of text === '' ? [] : text.split(' ')) {
      const eq = token.indexOf('=');
      if (eq < 1) throw new FieldcamError('EVENT_LINE_INVALID', `token "${token.slice(0, 40)}" is not name=value (tokens are separated by single spaces)`);
      const name = token.slice(0, eq);
      const value = token.slice(eq + 1);
      if (name === 'pre' || name === 'post') {
        if ((name === 'pre' ? preMs : postMs) !== undefined) throw new FieldcamError('EVENT_LINE_INVALID', `${name} is given twice`);
        if (name === 'pre') preMs = parseDuration(value, 'pre', maxPreMs);
        else postMs = parseDuration(value, 'post', EVENT_LIMITS.postMsMax);
        continue;
      }
      names.push(name);
      values.push(value);
    }
    return eventRequest(preMs, postMs, names, values);
  } catch (err) {
    if (err instanceof FieldcamError) return err;
    throw err;
  }
}
