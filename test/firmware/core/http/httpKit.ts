// Shared helpers of the HTTP suites: byte strings without TextEncoder (XS has none) and a driver that
// feeds a response to HttpResponseParser in pieces and records what came out.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { HttpResponseParser, type HttpResponseLimits } from '../../../../firmware/core/http/HttpResponseParser.ts';
import { xorshift32 as rng } from '../../../harness/support.ts';
export { rng };

/** One octet per char (ISO-8859-1): how HTTP heads travel. */
export function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export function text(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** What a parse produced, as a comparable log: `head 200 OK [..]`, `body <text>` (merged), `end`, `error CODE`. */
export interface Outcome {
  readonly events: string[];
  readonly code: string | undefined;
  /** A throw that is not a FieldcamError (a bug), kept for the message. */
  readonly foreign: unknown;
  /** Every onBody view pointed into the array that was pushed. */
  readonly zeroCopy: boolean;
}

/**
 * Parses `input` cut at `cuts` (ascending offsets), then calls `end()` when `close` is set. Each piece is
 * pushed as a view of one reused array holding all of `input`, so zero copy can be checked.
 */
export function parse(input: Uint8Array, cuts: readonly number[], close: boolean, limits?: HttpResponseLimits): Outcome {
  const events: string[] = [];
  let zeroCopy = true;
  const parser = new HttpResponseParser({
    onHead(status, reason, headers) {
      events.push(`head ${status} ${reason} ${JSON.stringify(headers)}`);
    },
    onBody(b, offset, length) {
      if (b !== input) zeroCopy = false;
      if (length === 0) events.push('empty body call');
      const piece = text(b.subarray(offset, offset + length));
      const last = events.length - 1;
      if (last >= 0 && events[last]!.startsWith('body ')) events[last] += piece;
      else events.push(`body ${piece}`);
    },
    onEnd() {
      events.push('end');
    },
    ...(limits ? { limits } : {}),
  });
  let code: string | undefined;
  let foreign: unknown;
  try {
    let at = 0;
    for (const cut of [...cuts, input.length]) {
      parser.push(input, at, cut - at);
      at = cut;
    }
    if (close) parser.end();
  } catch (err) {
    if (err instanceof FieldcamError) code = err.code;
    else foreign = err;
  }
  return { events, code, foreign, zeroCopy };
}

/** Cuts every `step` bytes. */
export function every(length: number, step: number): number[] {
  const cuts: number[] = [];
  for (let i = step; i < length; i += step) cuts.push(i);
  return cuts;
}
