// Plain SVG charts for the profile report: no script, no network, nothing to load (docs/profiling.md).

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  /** Bars from y = 0 instead of a line (the histogram). */
  readonly bars?: boolean;
  /** A bar's width in x units (default: 90 % of the step between the first two points). */
  readonly barWidth?: number;
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Horizontal budget lines. */
  readonly limits?: readonly { readonly label: string; readonly y: number }[];
  /** Vertical event markers on the x axis. */
  readonly markers?: readonly { readonly x: number; readonly label: string }[];
  readonly yFormat?: (v: number) => string;
  /** Named x positions instead of numeric ticks (bars by stage). */
  readonly xCategories?: readonly { readonly x: number; readonly label: string }[];
}

const W = 760;
const H = 260;
const M = { left: 70, right: 16, top: 28, bottom: 44 };

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** 1, 2 or 5 × 10^n steps, about five of them over the range. */
function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const plain = (v: number) =>
  Math.abs(v) >= 1e6 ? `${(v / 1e6).toPrecision(3)}M` : Math.abs(v) >= 1e4 ? `${(v / 1e3).toPrecision(3)}k` : String(Number(v.toPrecision(4)));

/** One chart as an <svg> element; each series is a path carrying data-series and data-points for checking. */
export function svgChart(c: ChartSpec): string {
  const fmt = c.yFormat ?? plain;
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...c.series.flatMap((s) => s.points.map((p) => p[1])), ...(c.limits ?? []).map((l) => l.y), 0];
  // Bars are centred on their x: half a bar of room on each side keeps the first and last inside the axes.
  const barSteps = c.series
    .filter((s) => s.bars && (s.barWidth !== undefined || s.points.length > 1))
    .map((s) => s.barWidth ?? s.points[1]![0] - s.points[0]![0]);
  const pad = barSteps.length ? Math.max(...barSteps) / 2 : c.series.some((s) => s.bars) ? 1 : 0;
  const x0 = xs.length ? Math.min(...xs, ...(c.markers ?? []).map((m) => m.x)) - pad : 0;
  const x1 = xs.length ? Math.max(...xs, ...(c.markers ?? []).map((m) => m.x), x0 + 1e-9) + pad : 1;
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys) * 1.05 || 1;
  const px = (x: number) => M.left + ((x - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(
    `<svg id="${c.id}" class="chart" data-plot="${c.id}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(c.title)}">`,
  );
  parts.push(`<text x="${M.left}" y="18" class="title">${escapeHtml(c.title)}</text>`);
  for (const t of ticks(y0, y1))
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" class="grid"/><text x="${M.left - 6}" y="${(py(t) + 4).toFixed(1)}" class="tick" text-anchor="end">${escapeHtml(fmt(t))}</text>`,
    );
  const xTicks = c.xCategories ?? ticks(x0, x1).map((t) => ({ x: t, label: plain(t) }));
  for (const t of xTicks)
    parts.push(`<text x="${px(t.x).toFixed(1)}" y="${H - M.bottom + 16}" class="tick" text-anchor="middle">${escapeHtml(t.label)}</text>`);
  parts.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" class="axis"/><line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" class="axis"/>`,
  );
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" class="label x-label" text-anchor="middle">${escapeHtml(c.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" class="label y-label" text-anchor="middle">${escapeHtml(c.yLabel)}</text>`,
  );
  for (const m of c.markers ?? []) {
    parts.push(
      `<line x1="${px(m.x).toFixed(1)}" x2="${px(m.x).toFixed(1)}" y1="${M.top}" y2="${H - M.bottom}" class="marker" data-marker="${escapeHtml(m.label)}"><title>${escapeHtml(`${m.label} at ${m.x.toFixed(2)} s`)}</title></line>`,
    );
  }
  for (const l of c.limits ?? []) {
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(l.y).toFixed(1)}" y2="${py(l.y).toFixed(1)}" class="limit" data-limit="${escapeHtml(l.label)}"/><text x="${W - M.right - 4}" y="${(py(l.y) - 4).toFixed(1)}" class="limit-label" text-anchor="end">${escapeHtml(`${l.label} ${fmt(l.y)}`)}</text>`,
    );
  }
  c.series.forEach((s, i) => {
    let d: string;
    if (s.bars) {
      const width =
        s.barWidth !== undefined ? Math.abs(px(s.barWidth) - px(0)) : s.points.length > 1 ? Math.abs(px(s.points[1]![0]) - px(s.points[0]![0])) * 0.9 : 8;
      d = s.points
        .map(([x, y]) => `M${(px(x) - width / 2).toFixed(1)},${py(0).toFixed(1)}V${py(y).toFixed(1)}h${width.toFixed(1)}V${py(0).toFixed(1)}Z`)
        .join('');
    } else {
      d = s.points.map(([x, y], k) => `${k ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
    }
    parts.push(
      `<path d="${d}" class="${s.bars ? 'bars' : 'line'}" style="${s.bars ? 'fill' : 'stroke'}:${s.color}" data-series="${escapeHtml(s.name)}" data-points="${s.points.length}"/>`,
    );
    parts.push(`<text x="${M.left + 8 + i * 180}" y="${M.top + 12}" class="legend" style="fill:${s.color}">■ ${escapeHtml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
