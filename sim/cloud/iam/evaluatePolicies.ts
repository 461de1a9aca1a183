// Policy evaluation for one request (IAM User Guide, "Policy evaluation logic"): an explicit Deny in any
// statement wins; otherwise an Allow is needed; otherwise the request is implicitly denied. Actions match
// case-insensitively and resources case-sensitively, both with the `*` and `?` wildcards, which may span
// `:` and `/` ("IAM JSON policy elements: Resource"). Resource patterns may use policy variables
// (`${credentials-iot:ThingName}`); a variable the request has no value for makes its pattern match nothing
// ("IAM policy elements: Variables and tags" — "if there is no value … the statement does not apply").
import type { PolicyDocument, PolicyStatement } from './PolicyDocument.ts';

export type PolicyDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

export interface PolicyRequest {
  /** `service:Action`, e.g. `kinesisvideo:PutMedia`. */
  readonly action: string;
  /** The resource ARN the request acts on (`*` for actions without resource-level permissions). */
  readonly resource: string;
  /** Policy variables of the request context, by name without `${}` (e.g. `credentials-iot:ThingName`). */
  readonly variables?: ReadonlyMap<string, string>;
}

/** The escapes `${*}`, `${?}` and `${$}` stand for the literal characters (IAM "Special characters"). */
const LITERAL_ESCAPES: Readonly<Record<string, string>> = Object.freeze({ '*': '*', '?': '?', $: '$' });

const patterns = new Map<string, RegExp>();

/** A wildcard pattern as an anchored regular expression; \u0000 and \u0001 stand for a literal `*` and `?`. */
function compile(pattern: string, ignoreCase: boolean): RegExp {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = patterns.get(key);
  if (!re) {
    let source = '';
    for (const ch of pattern) {
      if (ch === '*') source += '.*';
      else if (ch === '?') source += '.';
      else if (ch === '\u0000')
        source += '\\*'; // placeholders left by substitute() for ${*}
      else if (ch === '\u0001') source += '\\?';
      else source += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
    }
    re = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    if (patterns.size > 1024) patterns.clear();
    patterns.set(key, re);
  }
  return re;
}

/**
 * Replaces `${name}` with its value from the request context. Returns undefined when a variable has no
 * value (the pattern then matches nothing). Substituted values are taken literally: a `*` in a thing name is
 * not a wildcard.
 */
function substitute(pattern: string, variables: ReadonlyMap<string, string> | undefined): string | undefined {
  let missing = false;
  const out = pattern.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    const escaped = LITERAL_ESCAPES[name];
    if (escaped !== undefined) return escaped === '*' ? '\u0000' : escaped === '?' ? '\u0001' : '$';
    const value = variables?.get(name);
    if (value === undefined) {
      missing = true;
      return '';
    }
    return value.replace(/\*/g, '\u0000').replace(/\?/g, '\u0001');
  });
  return missing ? undefined : out;
}

function anyMatches(patternList: readonly string[], value: string, ignoreCase: boolean, variables?: ReadonlyMap<string, string>): boolean {
  return patternList.some((p) => {
    const concrete = substitute(p, variables);
    return concrete !== undefined && compile(concrete, ignoreCase).test(value);
  });
}

/** Whether a statement covers the request (its Effect then decides). */
export function statementApplies(s: PolicyStatement, request: PolicyRequest): boolean {
  if (s.conditional) return false;
  const actionOk = s.actions ? anyMatches(s.actions, request.action, true) : !anyMatches(s.notActions ?? [], request.action, true);
  if (!actionOk) return false;
  if (s.resources) return anyMatches(s.resources, request.resource, false, request.variables);
  if (s.notResources) return !anyMatches(s.notResources, request.resource, false, request.variables);
  return true; // trust policies have no Resource element
}

export function evaluatePolicies(documents: readonly PolicyDocument[], request: PolicyRequest): PolicyDecision {
  let allowed = false;
  for (const doc of documents) {
    for (const s of doc.statements) {
      if (!statementApplies(s, request)) continue;
      if (s.effect === 'Deny') return 'explicit-deny';
      allowed = true;
    }
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/** Whether a trust policy lets the AWS service `service` (e.g. `credentials.iot.amazonaws.com`) perform `action`. */
export function trustsService(doc: PolicyDocument, service: string, action: string): boolean {
  let allowed = false;
  for (const s of doc.statements) {
    if (!statementApplies(s, { action, resource: '*' })) continue;
    const p = s.principal;
    const names = p === '*' ? ['*'] : (p?.Service ?? []);
    if (!names.some((n) => n === '*' || n === service)) continue;
    if (s.effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}
