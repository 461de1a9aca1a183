// Helpers for the AckParser suites: run byte streams through a parser in given pieces and record every
// outcome as plain data (the parser's event object is reused, so it is copied inside the callback).
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import type { AckScanPort } from '../../../../firmware/io/AckScan.ts';
import { AckParser, type AckEvent } from '../../../../firmware/core/kvs/AckParser.ts';
import { encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { boardAckScan } from '../../../harness/index.ts';
import { xorshift32 as rng } from '../../../harness/support.ts';
export { rng };

export type Outcome = { readonly ack: string; readonly timecode: number; readonly number: string; readonly errorId: number } | { readonly error: string };

export interface Recorder {
  readonly parser: AckParser;
  readonly outcomes: Outcome[];
  /** Events seen by identity, to check the one reused object. */
  readonly objects: AckEvent[];
}

/**
 * A parser recording its outcomes; with the board's ACK framing walk when the runner has one (ack.c inside XS), so
 * every AckParser suite checks it there. `scan: null`: AckParser's TypeScript walk whatever the runner.
 */
export function recorder(scan: AckScanPort | null | undefined = boardAckScan()): Recorder {
  const outcomes: Outcome[] = [];
  const objects: AckEvent[] = [];
  const parser = new AckParser({
    ...(scan ? { scan } : {}),
    onAck(ack) {
      objects.push(ack);
      outcomes.push({ ack: ack.eventType, timecode: ack.fragmentTimecode, number: ack.fragmentNumber, errorId: ack.errorId });
    },
    onError(err) {
      if (!(err instanceof FieldcamError)) throw new Error(`onError received a ${String(err)}`);
      outcomes.push({ error: err.code });
    },
  });
  return { parser, outcomes, objects };
}

export function bytesOf(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? encodeUtf8(input) : input;
}

/** Outcomes of `input` pushed in pieces that end at `cuts` (ascending offsets), through one parser. */
export function parse(input: string | Uint8Array, cuts: readonly number[] = [], scan?: AckScanPort | null): Outcome[] {
  const bytes = bytesOf(input);
  const r = recorder(scan);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    r.parser.push(bytes, from, cut - from);
    from = cut;
  }
  return r.outcomes;
}

/** Outcomes with the input pushed one byte at a time. */
export function parseBytewise(input: string | Uint8Array): Outcome[] {
  const bytes = bytesOf(input);
  const r = recorder();
  for (let i = 0; i < bytes.length; i++) r.parser.push(bytes, i, 1);
  return r.outcomes;
}

export function ack(type: string, timecode = -1, number = '', errorId = -1): Outcome {
  return { ack: type, timecode, number, errorId };
}

export function err(code: string): Outcome {
  return { error: code };
}
