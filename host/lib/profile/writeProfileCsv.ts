import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProfileReport } from '../../shared/ProfileReport.ts';
import { summaryRows } from './renderReport.ts';

const cell = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (rows: readonly (readonly unknown[])[]): string => rows.map((r) => r.map(cell).join(',')).join('\n') + '\n';

/** `--csv DIR`: samples.csv, fragments.csv, events.csv and summary.csv (the same numbers as the JSON and the HTML). */
export function writeProfileCsv(dir: string, r: ProfileReport): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    [
      'samples.csv',
      csv([
        [
          't_s',
          'frames_in',
          'frames_dropped',
          'fragments_persisted',
          'heap_bytes',
          'peak_heap_bytes',
          'app_heap_bytes',
          'heap_chunk_bytes',
          'heap_slot_bytes',
          'pool_slots_in_use',
          'rss_bytes',
          'device_rss_bytes',
          'computrons_per_frame',
          'capture_to_socket_frames',
          'capture_to_socket_p50_ms',
          'capture_to_socket_p99_ms',
          'capture_to_socket_max_ms',
          'connected',
        ],
        ...r.samples.map((s) => [
          s.t,
          s.framesIn,
          s.framesDropped,
          s.fragmentsPersisted,
          s.heapBytes,
          s.peakHeapBytes,
          s.appHeapBytes,
          s.heapChunkBytes,
          s.heapSlotBytes,
          s.poolSlotsInUse,
          s.rssBytes,
          s.deviceRssBytes,
          s.computronsPerFrame,
          s.captureToSocketFrames,
          s.captureToSocketP50Ms,
          s.captureToSocketP99Ms,
          s.captureToSocketMaxMs,
          s.connected,
        ]),
      ]),
    ],
    [
      'fragments.csv',
      csv([
        ['fragment_number', 'end_t_s', 'persisted_t_s', 'latency_ms', 'bytes'],
        ...r.fragments.map((f) => [f.number, f.endT, f.persistedT, f.latencyMs, f.bytes]),
      ]),
    ],
    ['events.csv', csv([['t_s', 'event', 'code', 'detail'], ...r.events.map((e) => [e.t, e.event, e.code, e.detail])])],
    [
      'summary.csv',
      csv([
        ['key', 'figure', 'value'],
        ...summaryRows(r).map((x) => [x.key, x.label, x.value]),
        ...r.budgets.map((b) => [`budget.${b.name}`, `${b.name} (budget ${b.budget} ${b.unit})`, b.ok ? 'ok' : 'over']),
      ]),
    ],
  ];
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}
