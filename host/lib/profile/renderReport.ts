import type { ProfileReport } from '../../shared/ProfileReport.ts';
import { escapeHtml, svgChart, type ChartSpec, type Series } from './svgChart.ts';

const COLORS = Object.freeze(['#1f6feb', '#d9480f', '#2f9e44', '#9c36b5']);
const MIB = 1048576;

export const mib = (v: number): string => `${(v / MIB).toFixed(2)} MiB`;
const ms = (v: number): string => (Number.isFinite(v) && v >= 0 ? `${Math.round(v)} ms` : '-');

/** The figures of the summary table: key (a path into the JSON), label, value, how it is shown. */
export function summaryRows(r: ProfileReport): { key: string; label: string; value: number; text: string }[] {
  const t = r.totals;
  const rows = [
    { key: 'totals.framesIn', label: 'frames in', value: t.framesIn, text: String(t.framesIn) },
    { key: 'totals.framesDropped', label: 'frames dropped', value: t.framesDropped, text: String(t.framesDropped) },
    { key: 'totals.fragmentsPersisted', label: 'fragments PERSISTED (device)', value: t.fragmentsPersisted, text: String(t.fragmentsPersisted) },
    { key: 'totals.cloudFragmentsStored', label: 'fragments stored (cloud)', value: t.cloudFragmentsStored, text: String(t.cloudFragmentsStored) },
    { key: 'totals.connections', label: 'PutMedia connections', value: t.connections, text: String(t.connections) },
    { key: 'totals.peakHeapBytes', label: 'peak XS heap', value: t.peakHeapBytes, text: mib(t.peakHeapBytes) },
    { key: 'totals.peakAppHeapBytes', label: 'peak app heap after boot', value: t.peakAppHeapBytes, text: mib(t.peakAppHeapBytes) },
    { key: 'totals.poolHighWater', label: `pool high-water (of ${r.limits.poolSlots} slots)`, value: t.poolHighWater, text: String(t.poolHighWater) },
    { key: 'totals.peakRssBytes', label: r.qemu ? 'peak RSS (with QEMU)' : 'peak RSS', value: t.peakRssBytes, text: mib(t.peakRssBytes) },
    { key: 'latency.p50', label: 'fragment end → PERSISTED p50', value: r.latency.p50, text: ms(r.latency.p50) },
    { key: 'latency.p99', label: 'fragment end → PERSISTED p99', value: r.latency.p99, text: ms(r.latency.p99) },
    { key: 'latency.max', label: 'fragment end → PERSISTED max', value: r.latency.max, text: ms(r.latency.max) },
    { key: 'bootToFirstByteMs', label: 'boot → first PutMedia byte', value: r.bootToFirstByteMs, text: ms(r.bootToFirstByteMs) },
    { key: 'totals.computronsPerFrame', label: 'computrons per frame (mean)', value: t.computronsPerFrame, text: String(t.computronsPerFrame) },
  ];
  if (t.peakHeapChunkBytes >= 0) {
    rows.push({ key: 'totals.peakHeapChunkBytes', label: 'peak XS chunks in use', value: t.peakHeapChunkBytes, text: mib(t.peakHeapChunkBytes) });
    rows.push({ key: 'totals.peakHeapSlotBytes', label: 'peak XS slots in use', value: t.peakHeapSlotBytes, text: mib(t.peakHeapSlotBytes) });
  }
  if (t.captureToSocket.frames > 0) {
    rows.push({
      key: 'totals.captureToSocket.frames',
      label: 'capture → socket: frames measured',
      value: t.captureToSocket.frames,
      text: String(t.captureToSocket.frames),
    });
    rows.push({
      key: 'totals.captureToSocket.worstIntervalP99Ms',
      label: 'capture → socket p99 (worst interval)',
      value: t.captureToSocket.worstIntervalP99Ms,
      text: `${t.captureToSocket.worstIntervalP99Ms} ms`,
    });
    rows.push({ key: 'totals.captureToSocket.maxMs', label: 'capture → socket max', value: t.captureToSocket.maxMs, text: `${t.captureToSocket.maxMs} ms` });
  }
  if (t.tlsRecords >= 0) {
    rows.push({ key: 'totals.tlsRecords', label: 'TLS records written', value: t.tlsRecords, text: String(t.tlsRecords) });
    rows.push({ key: 'totals.tlsHandshakes', label: 'TLS handshakes', value: t.tlsHandshakes, text: String(t.tlsHandshakes) });
  }
  if (r.qemu) rows.push({ key: 'qemu.overheadBytes', label: 'QEMU overhead (subtracted)', value: r.qemu.overheadBytes, text: mib(r.qemu.overheadBytes) });
  if (t.instructionsPerFrame !== null)
    rows.push({ key: 'totals.instructionsPerFrame', label: 'ARM instructions per frame', value: t.instructionsPerFrame, text: String(t.instructionsPerFrame) });
  for (const [stage, v] of Object.entries(t.instructionsPerFrameByStage ?? {}))
    rows.push({ key: `totals.instructionsPerFrameByStage.${stage}`, label: `ARM instructions per frame: ${stage}`, value: v, text: String(v) });
  for (const rec of r.recoveries)
    rows.push({
      key: `recoveries.${rec.fault}`,
      label: `${rec.fault}: end → first PERSISTED`,
      value: rec.firstPersistedAfterMs,
      text: ms(rec.firstPersistedAfterMs),
    });
  return rows;
}

/** The latency histogram: about 20 equal bins from 0 to the maximum. */
function histogram(latencies: readonly number[]): [number, number][] {
  if (latencies.length === 0) return [];
  const max = Math.max(...latencies, 1);
  const width = Math.max(1, Math.ceil(max / 20));
  const bins = new Array<number>(Math.floor(max / width) + 1).fill(0);
  for (const v of latencies) bins[Math.floor(v / width)]!++;
  return bins.map((count, i) => [i * width + width / 2, count]);
}

function cdf(latencies: readonly number[]): [number, number][] {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted.map((v, i) => [v, (100 * (i + 1)) / sorted.length]);
}

function charts(runs: readonly ProfileReport[]): ChartSpec[] {
  const name = (r: ProfileReport) => (runs.length > 1 ? `${r.board} ` : '');
  const line = (f: (r: ProfileReport) => [number, number][], label: string): Series[] =>
    runs.map((r, i) => ({ name: `${name(r)}${label}`, color: COLORS[i % COLORS.length]!, points: f(r) }));
  const markers = runs.flatMap((r) =>
    r.events
      .filter((e) => e.event !== 'connecting' && e.event !== 'resolving')
      .map((e) => ({ x: e.t, label: `${name(r)}${e.event}${e.code ? ` ${e.code}` : ''}` })),
  );
  const limits = (pick: (r: ProfileReport) => number | null, label: string) =>
    runs.flatMap((r) => (pick(r) !== null ? [{ label: `${name(r)}${label}`, y: pick(r)! / MIB }] : []));
  const mibFormat = (v: number) => `${Number(v.toPrecision(3))}`;
  const all: ChartSpec[] = [
    {
      id: 'plot-heap',
      title: 'XS heap over time (budget lines: heap limit, app heap budget)',
      xLabel: 'device time (s)',
      yLabel: 'MiB',
      yFormat: mibFormat,
      series: [
        ...line((r) => r.samples.map((s) => [s.t, s.heapBytes / MIB]), 'heap'),
        ...runs
          .filter((r) => r.limits.appHeapBudgetBytes !== null)
          .map((r, i) => ({
            name: `${name(r)}app heap`,
            color: COLORS[(i + 2) % COLORS.length]!,
            points: r.samples.map((s): [number, number] => [s.t, s.appHeapBytes / MIB]),
          })),
      ],
      limits: [...limits((r) => r.limits.heapLimitBytes, 'heap limit'), ...limits((r) => r.limits.appHeapBudgetBytes, 'app heap budget')],
      markers,
    },
    {
      id: 'plot-heap-split',
      title: 'XS heap: chunks and slots in use (what the heap above holds, without free space)',
      xLabel: 'device time (s)',
      yLabel: 'MiB',
      yFormat: mibFormat,
      series: [
        ...line((r) => r.samples.filter((s) => s.heapChunkBytes >= 0).map((s) => [s.t, s.heapChunkBytes / MIB]), 'chunks'),
        ...runs.map((r, i) => ({
          name: `${name(r)}slots`,
          color: COLORS[(i + 2) % COLORS.length]!,
          points: r.samples.filter((s) => s.heapSlotBytes >= 0).map((s): [number, number] => [s.t, s.heapSlotBytes / MIB]),
        })),
      ],
      markers,
    },
    {
      id: 'plot-rss',
      title: 'Process RSS over time (QEMU overhead subtracted for ARM boards)',
      xLabel: 'device time (s)',
      yLabel: 'MiB',
      yFormat: mibFormat,
      series: line((r) => r.samples.map((s) => [s.t, s.deviceRssBytes / MIB]), 'RSS'),
      limits: limits((r) => r.limits.heapLimitBytes + r.limits.poolBytes, 'heap limit + pool'),
      markers,
    },
    {
      id: 'plot-pool',
      title: "Frame pool slots in use (budget line: the pool's slots)",
      xLabel: 'device time (s)',
      yLabel: 'slots',
      series: line((r) => r.samples.map((s) => [s.t, s.poolSlotsInUse]), 'slots in use'),
      limits: runs.map((r) => ({ label: `${name(r)}pool`, y: r.budgets.find((b) => b.unit === 'slots')?.budget ?? r.limits.poolSlots })),
      markers,
    },
    {
      id: 'plot-latency-hist',
      title: 'Fragment end → PERSISTED: histogram',
      xLabel: 'latency (ms)',
      yLabel: 'fragments',
      series: runs.map((r, i) => ({
        name: `${name(r)}fragments`,
        color: COLORS[i % COLORS.length]!,
        points: histogram(r.fragments.map((f) => f.latencyMs)),
        bars: true,
      })),
    },
    {
      id: 'plot-latency-cdf',
      title: 'Fragment end → PERSISTED: cumulative (p50, p99 lines)',
      xLabel: 'latency (ms)',
      yLabel: '% of fragments',
      series: line((r) => cdf(r.fragments.map((f) => f.latencyMs)), 'CDF'),
      limits: [
        { label: 'p50', y: 50 },
        { label: 'p99', y: 99 },
      ],
    },
    {
      id: 'plot-capture',
      title: 'Capture → socket per frame (p50, p99 and max of each status interval)',
      xLabel: 'device time (s)',
      yLabel: 'ms',
      series: runs.flatMap((r, i) =>
        (['P50', 'P99', 'Max'] as const).map((k, j) => ({
          name: `${name(r)}${k.toLowerCase()}`,
          color: COLORS[(i * 3 + j) % COLORS.length]!,
          points: r.samples.filter((s) => s.captureToSocketFrames > 0).map((s): [number, number] => [s.t, s[`captureToSocket${k}Ms`]]),
        })),
      ),
      markers,
    },
    {
      id: 'plot-cpu',
      title: 'CPU per frame over time (XS computrons)',
      xLabel: 'device time (s)',
      yLabel: 'computrons / frame',
      series: line((r) => r.samples.filter((s) => s.computronsPerFrame >= 0).map((s) => [s.t, s.computronsPerFrame]), 'computrons/frame'),
      markers,
    },
    stageChart(runs, name),
  ];
  // A field device's report (telemetry) has no RSS and no per-fragment latency: those plots are left out.
  const hasRss = runs.some((r) => r.samples.some((s) => s.rssBytes > 0));
  return all.filter((c) => (c.id !== 'plot-rss' || hasRss) && c.series.some((s) => s.points.length > 0));
}

/** ARM instructions per frame by stage (the QEMU plugin's address ranges): one bar per stage and run. */
function stageChart(runs: readonly ProfileReport[], name: (r: ProfileReport) => string): ChartSpec {
  const stages = [...new Set(runs.flatMap((r) => Object.keys(r.totals.instructionsPerFrameByStage ?? {})))];
  const step = runs.length + 1;
  return {
    id: 'plot-cpu-stages',
    title: 'ARM guest instructions per frame by stage (QEMU plugin)',
    xLabel: 'stage',
    yLabel: 'instructions / frame',
    xCategories: stages.map((label, k) => ({ x: k * step + (runs.length - 1) / 2, label })),
    series: runs.map((r, i) => ({
      name: `${name(r)}instructions/frame`,
      color: COLORS[i % COLORS.length]!,
      bars: true,
      barWidth: 0.9,
      points: stages.flatMap((st, k): [number, number][] =>
        r.totals.instructionsPerFrameByStage?.[st] !== undefined ? [[k * step + i, r.totals.instructionsPerFrameByStage[st]!]] : [],
      ),
    })),
  };
}

function section(runs: readonly ProfileReport[], ids: readonly string[]): string {
  return charts(runs)
    .filter((c) => ids.includes(c.id))
    .map(svgChart)
    .join('');
}

function verdictTable(r: ProfileReport): string {
  const show = (v: number, unit: string) => (unit === 'bytes' ? mib(v) : unit === 'ms' ? ms(v) : String(v));
  return `<table class="verdicts"><tr><th>budget</th><th>measured</th><th>budget</th><th>source</th><th>verdict</th></tr>${r.budgets
    .map(
      (b) =>
        `<tr data-budget="${escapeHtml(b.name)}"><td>${escapeHtml(b.name)}</td><td>${show(b.measured, b.unit)}</td><td>${show(b.budget, b.unit)}</td><td>${escapeHtml(b.source)}</td><td class="${b.ok ? 'ok' : 'fail'}"${b.note ? ` title="${escapeHtml(b.note)}"` : ''}>${b.ok ? 'within budget' : 'OVER BUDGET'}</td></tr>${b.note ? `<tr><td colspan="5" class="note">${escapeHtml(b.note)}</td></tr>` : ''}`,
    )
    .join('')}</table>`;
}

function summaryTable(runs: readonly ProfileReport[]): string {
  const rows = runs.map((r) => summaryRows(r));
  const head =
    runs.length > 1
      ? `<tr><th>figure</th>${runs.map((r) => `<th>${escapeHtml(r.board)}</th>`).join('')}<th>difference</th></tr>`
      : '<tr><th>figure</th><th>value</th></tr>';
  const body = rows[0]!
    .map((row, k) => {
      const cells = rows
        .map((rr, i) => {
          const c = rr.find((x) => x.key === row.key) ?? rr[k];
          return c ? `<td data-run="${i}" data-key="${escapeHtml(c.key)}" data-value="${c.value}">${escapeHtml(c.text)}</td>` : '<td>-</td>';
        })
        .join('');
      const b = rows[1]?.find((x) => x.key === row.key);
      const diff = runs.length > 1 ? `<td class="diff">${b && Number.isFinite(b.value - row.value) ? String(Math.round(b.value - row.value)) : '-'}</td>` : '';
      return `<tr><td>${escapeHtml(row.label)}</td>${cells}${diff}</tr>`;
    })
    .join('');
  return `<table class="summary">${head}${body}</table>`;
}

function eventList(r: ProfileReport): string {
  const kinds =
    Object.entries(r.totals.eventsByKind)
      .map(([k, v]) => `${escapeHtml(k)} ${v}`)
      .join(', ') || 'none';
  const drops =
    Object.entries(r.totals.dropsByReason)
      .map(([k, v]) => `${escapeHtml(k)} ${v}`)
      .join(', ') || 'none';
  const errors =
    Object.entries(r.totals.errorsByCode ?? {})
      .map(([k, v]) => `${escapeHtml(k)} ${v}`)
      .join(', ') || 'none';
  return `<p>Events: ${kinds}. Drops by reason: ${drops}. Errors by code: ${errors}.</p>`;
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:800px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}td.ok{color:#2f9e44}td.fail{color:#c92a2a;font-weight:bold}
.chart{display:block;margin:12px 0;background:#fff}.title{font-weight:600;font-size:13px}.tick{font-size:11px;fill:#555}.label{font-size:12px;fill:#333}
.grid{stroke:#eee}.axis{stroke:#888}.line{fill:none;stroke-width:1.6}.limit{stroke:#c92a2a;stroke-dasharray:6 4}.limit-label{font-size:11px;fill:#c92a2a}
.marker{stroke:#f08c00;stroke-dasharray:2 3}.legend{font-size:11px}.note{color:#555;font-size:12px}`;

/**
 * The profile report: one HTML file with everything inline (SVG charts, CSS, the run's JSON), so it opens
 * offline. Two runs make a comparison: overlaid series and a difference column.
 */
export function renderReport(runs: readonly ProfileReport[]): string {
  if (runs.length === 0) throw new RangeError('renderReport: no run');
  const title = runs.length > 1 ? `fieldcam profile: ${runs.map((r) => r.board).join(' vs ')}` : `fieldcam profile: ${runs[0]!.board}`;
  const about = runs
    .map(
      (r) =>
        `<p class="note">${escapeHtml(r.board)}: ${escapeHtml(r.run)}, clip ${escapeHtml(r.video.split('/').pop() ?? '')}, ${r.durationS} s of device time` +
        `${r.timeScale > 1 ? ` at time scale ${r.timeScale}` : ''}, ${r.realtime ? 'real-time camera' : 'as fast as possible'}, faults: ${r.faults.map((f) => `${f.kind}@${f.atS}s${f.forS ? `:${f.forS}s` : ''}`).join(', ') || 'none'}; exit ${r.exitCode}.` +
        `${r.qemu ? ` QEMU adds ${mib(r.qemu.overheadBytes)} to RSS (${escapeHtml(r.qemu.method)}).` : ''}</p>`,
    )
    .join('');
  const verdicts = runs.map((r) => `<h3>${escapeHtml(r.board)}</h3>${verdictTable(r)}${eventList(r)}`).join('');
  const missing = [...new Set(runs.flatMap((r) => r.missing))].map((m) => `<li>${escapeHtml(m)}</li>`).join('');
  const data = JSON.stringify(runs.length > 1 ? runs : runs[0]).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>
<h1>${escapeHtml(title)}</h1>${about}
<h2>Verdicts</h2>${verdicts}
<h2>Memory</h2>${section(runs, ['plot-heap', 'plot-heap-split', 'plot-rss', 'plot-pool'])}
<h2>Latency</h2>${section(runs, ['plot-latency-hist', 'plot-latency-cdf', 'plot-capture']) || '<p class="note">No latency per fragment in this run (see Not measured).</p>'}
<h2>CPU</h2>${section(runs, ['plot-cpu', 'plot-cpu-stages'])}
<h2>Summary</h2>${summaryTable(runs)}
<h2>Not measured</h2><ul>${missing}</ul>
<script type="application/json" id="profile-data">${data}</script>
</body></html>
`;
}
