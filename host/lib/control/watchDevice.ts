// `fieldcam device <thing> watch`: everything a camera publishes — telemetry, health, reported configuration
// and command results — shown live. On a terminal the view is redrawn in place; otherwise (a pipe, a log)
// each message is one line, as text or as JSON.
import { decodeControl, type ControlDocument } from './controlCbor.ts';
import { controlTopics, parseControlTopic, type ControlLeaf } from './controlTopics.ts';
import { formatMs, formatTelemetry, paintHealth } from './formatControl.ts';

export interface WatchEvent {
  /** Host receive time, ms since 1970. */
  readonly at: number;
  readonly leaf: ControlLeaf;
  readonly retained: boolean;
  readonly document: ControlDocument;
}

/** The topics watch subscribes to. */
export function watchTopics(thing: string): string[] {
  const t = controlTopics(thing);
  return [t.telemetry, t.health, t.reported, t.result];
}

/** A message of the watched thing as an event; undefined for anything else or an unreadable payload. */
export function watchEvent(thing: string, topic: string, payload: Uint8Array, retained: boolean, at: number): WatchEvent | undefined {
  const parsed = parseControlTopic(topic);
  if (!parsed || parsed.thing !== thing) return undefined;
  const document = decodeControl(payload);
  return document ? { at, leaf: parsed.leaf, retained, document } : undefined;
}

function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

function brief(doc: ControlDocument): string {
  return JSON.stringify(doc, (_, v: unknown) => (v instanceof Uint8Array ? `<${v.byteLength} bytes>` : v));
}

/** One line per message (not a terminal). */
export function eventLine(event: WatchEvent, json: boolean): string {
  if (json) return JSON.stringify({ at: new Date(event.at).toISOString(), topic: event.leaf, retained: event.retained, document: event.document });
  const d = event.document;
  const old = event.retained ? ' (retained)' : '';
  switch (event.leaf) {
    case 'telemetry':
      return (
        `${clock(event.at)} telemetry #${String(d.seq)} ${String(d.health)}: frames ${String(d.framesIn)}/${String(d.framesOut)}, ` +
        `persisted ${formatMs(typeof d.lastPersistedAgeMs === 'number' ? d.lastPersistedAgeMs : undefined)} ago, pool ${String(d.poolSlotsInUse)}/${String(d.poolSlots)}`
      );
    case 'health':
      return `${clock(event.at)} health ${String(d.state)}${typeof d.reason === 'string' && d.reason ? ` (${d.reason})` : ''}${old}`;
    case 'config/reported':
      return `${clock(event.at)} reported v${String(d.version)} ${brief((d.settings ?? {}) as ControlDocument)}${d.rejected ? ` rejected ${brief(d.rejected as ControlDocument)}` : ''}${old}`;
    case 'result':
      return `${clock(event.at)} result ${String(d.id)} ${d.ok === true ? 'ok' : `refused ${String(d.code)}: ${String(d.message)}`}`;
    default:
      return `${clock(event.at)} ${event.leaf} ${brief(d)}${old}`;
  }
}

/** How many command results the terminal view keeps. */
const RESULTS_SHOWN = 5;

/** The terminal view: the latest of each kind, redrawn whole. */
export class WatchScreen {
  readonly #thing: string;
  readonly #colour: boolean;
  #state = 'connecting';
  #telemetry: WatchEvent | undefined;
  #health: WatchEvent | undefined;
  #reported: WatchEvent | undefined;
  readonly #results: string[] = [];

  constructor(thing: string, colour: boolean) {
    this.#thing = thing;
    this.#colour = colour;
  }

  connection(state: string): void {
    this.#state = state;
  }

  add(event: WatchEvent): void {
    if (event.leaf === 'telemetry') this.#telemetry = event;
    else if (event.leaf === 'health') this.#health = event;
    else if (event.leaf === 'config/reported') this.#reported = event;
    else if (event.leaf === 'result') {
      this.#results.push(eventLine(event, false));
      if (this.#results.length > RESULTS_SHOWN) this.#results.shift();
    }
  }

  /** The whole screen, prefixed with cursor-home and clear-to-end (ECMA-48 CUP, ED). */
  render(now: number): string {
    const lines = [`fieldcam device ${this.#thing} watch — ${this.#state} — Ctrl-C to quit`, ''];
    const h = this.#health?.document;
    lines.push(
      h
        ? `health     ${paintHealth(String(h.state), this.#colour)}${typeof h.reason === 'string' && h.reason ? ` (${h.reason})` : ''}, received ${formatMs(now - this.#health!.at)} ago${this.#health!.retained ? ' (retained)' : ''}`
        : 'health     unknown (nothing retained)',
    );
    const r = this.#reported?.document;
    lines.push(
      r
        ? `config     v${String(r.version)} ${brief((r.settings ?? {}) as ControlDocument)}${r.rejected ? `, rejected ${brief(r.rejected as ControlDocument)}` : ''}`
        : 'config     (nothing reported)',
    );
    lines.push('');
    if (this.#telemetry) {
      lines.push(
        `telemetry  (received ${formatMs(now - this.#telemetry.at)} ago)`,
        ...formatTelemetry(this.#telemetry.document, this.#colour).map((l) => `  ${l}`),
      );
    } else {
      lines.push('telemetry  waiting (every telemetryIntervalS; `fieldcam device <thing> status` asks now)');
    }
    if (this.#results.length > 0) lines.push('', 'results', ...this.#results.map((l) => `  ${l}`));
    return `\x1b[H\x1b[J${lines.join('\n')}\n`;
  }
}
