// The PASS/FAIL/WARN/SKIP table of `fieldcam doctor` and `fieldcam flash --verify`: one row per check, its cause,
// and under a FAIL or WARN its fix; then the count (a WARN does not fail).
import type { CheckRow } from './runDoctor.ts';

export function formatChecks(rows: readonly CheckRow[]): string {
  const width = Math.max(...rows.map((r) => r.check.length));
  const out: string[] = [];
  for (const r of rows) {
    out.push(`${r.status}  ${r.check.padEnd(width)}  ${r.cause}`);
    if ((r.status === 'FAIL' || r.status === 'WARN') && r.fix) out.push(`      ${''.padEnd(width)}  fix: ${r.fix}`);
  }
  const failed = rows.filter((r) => r.status === 'FAIL').length;
  const warned = rows.filter((r) => r.status === 'WARN').length;
  const warnings = warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : '';
  out.push(failed === 0 ? `all ${rows.length} checks passed${warnings}` : `${failed} of ${rows.length} checks failed${warnings}`);
  return out.join('\n') + '\n';
}
