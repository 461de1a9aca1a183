import { FieldcamError } from '../shared/hostErrors.ts';

const UNIT_MS: Readonly<Record<string, number>> = Object.freeze({ ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 });

/**
 * A time on the command line, as the AWS CLI takes timestamps plus what a person types at a camera:
 * ISO 8601 (`2026-12-07T04:00:00Z`), epoch seconds (`1796612719.5`, the AWS CLI's other form), `now`, or an
 * offset from now (`-5m`, `-90s`, `-1h`). `now` is an argument so that tests and callers fix it.
 */
export function parseTimeArgument(flag: string, text: string, now: number): number {
  const t = text.trim();
  if (t === 'now') return now;
  const relative = /^-(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(t);
  if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2]!]!;
  if (/^\d{9,11}(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  if (/^\d{4}-\d{2}-\d{2}T/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw new FieldcamError('CLI_USAGE', `--${flag} '${text}' is not a time: use ISO 8601 (2026-12-07T04:00:00Z), epoch seconds, 'now' or an offset like -5m`);
}

/** A duration such as `1s`, `500ms`, `2m`. */
export function parseDurationArgument(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new FieldcamError('CLI_USAGE', `--${flag} '${text}' is not a duration: use e.g. 500ms, 1s, 2m`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
