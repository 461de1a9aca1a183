// The PASS/FAIL/SKIP table of `fieldcam doctor` and `fieldcam flash --verify`: one row per check, its cause,
// and under a FAIL its fix; then the count.
import type { CheckRow } from './runDoctor.ts';

export function formatChecks(rows: readonly CheckRow[]): string {
  const width = Math.max(...rows.map((r) => r.check.length));
  const out: string[] = [];
  for (const r of rows) {
    out.push(`${r.status}  ${r.check.padEnd(width)}  ${r.cause}`);
    if (r.status === 'FAIL' && r.fix) out.push(`      ${''.padEnd(width)}  fix: ${r.fix}`);
  }
  const failed = rows.filter((r) => r.status === 'FAIL').length;
  out.push(failed === 0 ? `all ${rows.length} checks passed` : `${failed} of ${rows.length} checks failed`);
  return out.join('\n') + '\n';
}
