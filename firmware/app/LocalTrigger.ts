import { FieldcamError, isFieldcamError } from '../core/errors.ts';
import type { EventOutcome } from '../core/events/EventGate.ts';
import { EventLineReader } from '../core/events/EventLineReader.ts';
import type { EventRequest } from '../core/events/EventRequest.ts';
import { parseEventLine } from '../core/events/parseEventLine.ts';
import { SOURCE_END, type FrameSource } from '../io/FrameSource.ts';
import type { Board } from '../io/Board.ts';

/** Reads per turn before yielding to the loop (a script flooding the FIFO must not starve the camera). */
const READS_PER_TURN = 4;

export interface LocalTriggerOptions {
  readonly board: Board;
  readonly path: string;
  /** The configured pre-roll: the longest `pre=` a line may ask for. */
  readonly maxPreMs: number;
  readonly onEvent: (request: EventRequest) => EventOutcome;
  /** One JSON line per event or refused line (runDevice prints them). */
  readonly report: (record: Record<string, unknown>) => void;
}

/**
 * The local event trigger (docs/events.md, "Local trigger"): a FIFO that a motion-sensor or GPIO script writes lines
 * to, read through one fixed line buffer. Each line is an event; a bad line is reported with its code and skipped.
 * Nothing here can stop the device: a FIFO that cannot be opened is reported and events still come by control.
 */
export class LocalTrigger {
  private readonly o: LocalTriggerOptions;
  private readonly reader: EventLineReader;
  private source: FrameSource | undefined;
  private scheduled = false;
  private closed = false;

  constructor(options: LocalTriggerOptions) {
    this.o = options;
    this.reader = new EventLineReader(
      (bytes, start, end) => this.onLine(bytes, start, end),
      (err) => this.refused(err),
    );
  }

  /** Opens the FIFO (creating it) and starts reading. Returns false, reporting why, when it cannot be opened. */
  start(): boolean {
    if (this.closed || this.source) throw new RangeError('start() after start() or close()');
    const { board, path } = this.o;
    try {
      if (!board.fifo) throw new FieldcamError('CONFIG_INVALID', `board ${board.runtime} has no local trigger`);
      this.source = board.fifo(path)({ onReadable: () => this.schedule() });
    } catch (err) {
      const e = isFieldcamError(err) ? err : new FieldcamError('INPUT_READ_FAILED', String(err));
      this.o.report({ type: 'event', event: 'trigger-failed', path, code: e.code, message: e.message });
      return false;
    }
    this.o.report({ type: 'event', event: 'trigger-open', path });
    this.pump();
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source?.close();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    this.o.board.timers.set(0, () => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const source = this.source;
    if (!source || this.closed) return;
    try {
      for (let reads = 0; reads < READS_PER_TURN; reads++) {
        const n = source.read(this.reader.buffer, this.reader.offset, this.reader.space);
        if (n === 0) return; // onReadable follows
        if (n === SOURCE_END) {
          this.close();
          return;
        }
        this.reader.push(n);
        if (this.closed) return;
      }
      this.schedule();
    } catch (err) {
      const e = isFieldcamError(err) ? err : new FieldcamError('INPUT_READ_FAILED', String(err));
      this.o.report({ type: 'event', event: 'trigger-failed', path: this.o.path, code: e.code, message: e.message });
      this.close();
    }
  }

  private onLine(bytes: Uint8Array, start: number, end: number): void {
    const parsed = parseEventLine(bytes, start, end, this.o.maxPreMs);
    if (parsed === undefined) return; // a comment
    if (parsed instanceof FieldcamError) {
      this.refused(parsed);
      return;
    }
    try {
      const o = this.o.onEvent(parsed);
      this.o.report({
        type: 'event',
        event: 'clip',
        source: 'trigger',
        clip: o.clip,
        merged: o.merged,
        at: o.at,
        from: o.from,
        to: o.to,
        fragments: o.fragments,
      });
    } catch (err) {
      this.refused(isFieldcamError(err) ? err : new FieldcamError('EVENT_LINE_INVALID', String(err)));
    }
  }

  private refused(err: FieldcamError): void {
    this.o.report({ type: 'event', event: 'trigger-refused', code: err.code, message: err.message });
  }
}
