// Text rendering shared by `fieldcam devices` and `fieldcam device`: ages, health colours (only on a TTY,
// and never with NO_COLOR, https://no-color.org), aligned tables, and the telemetry record as a table.
import type { ControlDocument } from './controlCbor.ts';
import type { HealthState } from './readFleet.ts';

const SGR: Readonly<Record<HealthState, string>> = Object.freeze({
  green: '\x1b[32m',
  amber: '\x1b[33m',
  red: '\x1b[31m',
  offline: '\x1b[90m',
  unknown: '',
});

/** Colour when writing to a terminal that wants it. */
export function wantsColour(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export function paintHealth(state: string, colour: boolean): string {
  const sgr = SGR[state as HealthState];
  return colour && sgr ? `${sgr}${state}\x1b[0m` : state;
}

/** A duration for people: "-" when absent or -1 (the contract's "none yet"). */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** Visible width, ignoring SGR colour sequences. */
function width(cell: string): number {
  return cell.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** Rows of cells as aligned columns, two spaces apart; the first row is the header. */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => width(r[c] ?? ''))));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell + ' '.repeat(widths[c]! - width(cell))))
      .join('  ')
      .trimEnd(),
  );
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k} ${String(v)}`).join(', ');
  }
  return String(value);
}

/** Telemetry `events` of a device recording in event mode (docs/events.md): none when it records continuously. */
function eventRows(value: unknown): Array<[string, string]> {
  if (typeof value !== 'object' || value === null) return [];
  const e = value as Record<string, unknown>;
  const ms = (v: unknown) => formatMs(typeof v === 'number' ? v : undefined);
  const clip = typeof e.openClip === 'number' && e.openClip > 0 ? `clip ${e.openClip} open, ${ms(e.postRemainingMs)} of post window left` : 'none open';
  return [
    ['events / clips', `${text(e.events)} / ${text(e.clips)} (${text(e.merged)} merged)`],
    ['fragments admitted', text(e.fragmentsAdmitted)],
    ['pre-roll', `${ms(e.preRollFillMs)} of ${ms(e.preRollMs)} held`],
    ['clip', clip],
  ];
}

/** The spool's rows of `device status` (docs/spool.md); none when the device has no spool. */
function spoolRows(spool: unknown): Array<[string, string]> {
  if (typeof spool !== 'object' || spool === null) return [];
  const s = spool as Record<string, unknown>;
  const num = (key: string): number | undefined => (typeof s[key] === 'number' ? (s[key] as number) : undefined);
  const age = num('oldestAgeMs');
  return [
    ['spool', `${text(s.fragments)} fragments, ${text(s.bytes)} bytes, oldest ${age === undefined ? '-' : age < 0 ? '-' : `${formatMs(age)} old`}`],
    ['spool drain / writes', `${text(s.drainBytesPerSecond)} B/s / ${text(s.writtenBytesPerHour)} B/h`],
    ['spool dropped', `${text(s.fragmentsDropped)} fragments${typeof s.error === 'string' ? ` (last error ${s.error})` : ''}`],
  ];
}

/** A telemetry record (docs/control-channel.md §Telemetry) as "name  value" lines, in the contract's order. */
export function formatTelemetry(record: ControlDocument, colour = false): string[] {
  const n = (key: string): number | undefined => (typeof record[key] === 'number' ? (record[key] as number) : undefined);
  const heap = (record.heap ?? {}) as Record<string, unknown>;
  // One camera of several (status --camera, telemetryOfCamera): its name, stream and upload first.
  const camera: Array<[string, string]> =
    record.camera === undefined
      ? []
      : [
          ['camera', `${text(record.camera)} → stream ${text(record.stream)}`],
          [
            'upload',
            `${record.connected === true ? 'connected' : 'not connected'}${record.cameraError === undefined ? '' : `, camera error ${text(record.cameraError)}`}`,
          ],
        ];
  const rows: Array<[string, string]> = [
    ...camera,
    ['health', paintHealth(text(record.health), colour)],
    ['streaming', text(record.streaming)],
    ['last PERSISTED', n('lastPersistedAgeMs') === undefined ? '-' : n('lastPersistedAgeMs')! < 0 ? 'never' : `${formatMs(n('lastPersistedAgeMs'))} ago`],
    ['frames in / out', `${text(record.framesIn)} / ${text(record.framesOut)}`],
    ['fragments sent / persisted', `${text(record.fragmentsSent)} / ${text(record.fragmentsPersisted)}`],
    ['drops', text(record.drops)],
    ['pool', `${text(record.poolSlotsInUse)} of ${text(record.poolSlots)} slots`],
    ['bytes behind', text(record.bytesBehind)],
    ['ACK latency p50 / p99', `${formatMs(n('ackLatencyP50Ms'))} / ${formatMs(n('ackLatencyP99Ms'))}`],
    ['errors', text(record.errors)],
    ['heap', `${text(heap.bytes)} bytes (peak ${text(heap.peak)}, limit ${text(heap.limit)})`],
    ['computrons', text(record.computrons)],
    ...eventRows(record.events),
    ...spoolRows(record.spool),
    ['uptime', formatMs(n('uptimeMs'))],
    ['record', `#${text(record.seq)} at ${n('t') === undefined ? '-' : new Date(n('t')!).toISOString()}`],
  ];
  const note = record.camera === undefined ? [] : ['(health, drops, bytes behind, ACK latency, errors and heap: the whole device)'];
  return [...formatTable([['', ''], ...rows]).slice(1), ...note, ...formatCameras(record.cameras)];
}

/**
 * A device with several cameras (telemetry `cameras`, docs/control-channel.md): one row per camera after the
 * device's totals, so a camera that stopped persisting or has a camera error stands out.
 */
function formatCameras(cameras: unknown): string[] {
  if (typeof cameras !== 'object' || cameras === null) return [];
  const entries = Object.entries(cameras as Record<string, Record<string, unknown>>);
  if (entries.length === 0) return [];
  const n = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  // Event mode (docs/events.md): each camera's clips, and the open one's post time left.
  const withEvents = entries.some(([, c]) => typeof c.events === 'object' && c.events !== null);
  const clips = (c: Record<string, unknown>): string[] => {
    if (!withEvents) return [];
    const e = (c.events ?? {}) as Record<string, unknown>;
    if (c.events === undefined) return ['-'];
    return [`${text(e.clips)} (${text(e.events)} events)${n(e.openClip) ? `, open: ${formatMs(n(e.postRemainingMs))} left` : ''}`];
  };
  const rows = entries.map(([name, c]) => [
    name,
    text(c.stream),
    c.connected === true ? 'connected' : 'not connected',
    `${text(c.framesIn)} / ${text(c.framesOut)}`,
    `${text(c.fragmentsSent)} / ${text(c.fragmentsPersisted)}`,
    `${text(c.poolSlotsInUse)} of ${text(c.poolSlots)}`,
    n(c.lastPersistedAgeMs) === undefined ? '-' : n(c.lastPersistedAgeMs)! < 0 ? 'never' : `${formatMs(n(c.lastPersistedAgeMs))} ago`,
    c.cameraError === undefined ? '-' : text(c.cameraError),
    ...clips(c),
  ]);
  return [
    '',
    ...formatTable([
      [
        'camera',
        'stream',
        'upload',
        'frames in / out',
        'fragments sent / persisted',
        'pool slots',
        'last PERSISTED',
        'camera error',
        ...(withEvents ? ['clips'] : []),
      ],
      ...rows,
    ]),
  ];
}
