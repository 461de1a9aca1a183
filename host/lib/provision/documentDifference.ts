// What differs between a policy document found in AWS and the one provision writes, in words for the plan
// line ("would update (…)"): statements are compared whole, as canonical JSON (key order ignored).

/** JSON text with object keys sorted, so equal documents give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A policy's statements: `Statement` may be one object or a list (IAM / IoT policy grammar). */
function statements(document: unknown): string[] {
  const s = (document as { Statement?: unknown } | null)?.Statement;
  if (s === undefined) return [];
  return (Array.isArray(s) ? s : [s]).map(canonicalJson);
}

/**
 * E.g. "1 statement missing, 2 statements provision does not write". `current` is the parsed document
 * (undefined when it did not parse); call it only for documents that are not equal.
 */
export function documentDifference(current: unknown, expected: unknown): string {
  if (current === undefined) return 'the document is not readable JSON';
  const have = statements(current);
  const want = statements(expected);
  const missing = want.filter((s) => !have.includes(s)).length;
  const extra = have.filter((s) => !want.includes(s)).length;
  const parts: string[] = [];
  if (missing > 0) parts.push(`${missing} statement${missing > 1 ? 's' : ''} missing`);
  if (extra > 0) parts.push(`${extra} statement${extra > 1 ? 's' : ''} provision does not write`);
  if (parts.length === 0) parts.push(canonicalJson(have) === canonicalJson(want) ? 'Version or other fields differ' : 'statements in another order');
  return parts.join(', ');
}
