import type { EventGateReport } from './EventGate.ts';

/**
 * A device's `events` over its cameras' (each camera has its own EventGate; an event goes to all of them): counters
 * summed, the least pre-roll held, the first open clip with the longest post time left, idle only when every camera
 * is. One camera: its own report. Undefined when no camera records events. Once per telemetry record, never per frame.
 */
export function combineEventReports(reports: readonly (EventGateReport | undefined)[]): EventGateReport | undefined {
  const list = reports.filter((r): r is EventGateReport => r !== undefined);
  if (list.length <= 1) return list[0];
  const sum = (f: (r: EventGateReport) => number) => list.reduce((n, r) => n + f(r), 0);
  return {
    events: sum((r) => r.events),
    clips: sum((r) => r.clips),
    merged: sum((r) => r.merged),
    fragmentsAdmitted: sum((r) => r.fragmentsAdmitted),
    tagsLost: sum((r) => r.tagsLost),
    preRollMs: Math.max(...list.map((r) => r.preRollMs)),
    preRollFillMs: Math.min(...list.map((r) => r.preRollFillMs)),
    openClip: list.find((r) => r.openClip !== 0)?.openClip ?? 0,
    postRemainingMs: Math.max(...list.map((r) => r.postRemainingMs)),
    idle: list.every((r) => r.idle),
  };
}
