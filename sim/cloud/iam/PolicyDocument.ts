// The IAM JSON policy language as the local cloud understands it: identity policies (IAM inline role policies),
// trust policies (a role's AssumeRolePolicyDocument) and AWS IoT policies share one grammar
// (IAM User Guide, "IAM JSON policy element reference"). Parsing checks the structure AWS rejects as malformed;
// evaluation lives in evaluatePolicies.ts.

/** Which document this is: the elements it must or must not carry differ (Principal is trust-only). */
export type PolicyKind = 'identity' | 'trust' | 'iot';

export interface PolicyStatement {
  readonly effect: 'Allow' | 'Deny';
  /** Action or NotAction patterns (one of the two is set). */
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  /** Resource or NotResource patterns; absent in trust policies. */
  readonly resources?: readonly string[];
  readonly notResources?: readonly string[];
  /** Principal of a trust-policy statement: `"*"` or `{ Service: [...], AWS: [...] }`. */
  readonly principal?: '*' | Readonly<Record<string, readonly string[]>>;
  /**
   * The statement carries a Condition block. Conditions are not evaluated here: such a statement never
   * applies (an Allow grants nothing, a Deny denies nothing) — documented in sim/README.md.
   */
  readonly conditional: boolean;
}

export interface PolicyDocument {
  readonly version: string | undefined;
  readonly statements: readonly PolicyStatement[];
}

/** Why a document is malformed; the IAM and IoT routes wrap it in their own exception type. */
export class PolicyError extends Error {}

/** Policy language versions (IAM User Guide, "IAM JSON policy elements: Version"). */
const VERSIONS: ReadonlySet<string> = new Set(['2012-10-17', '2008-10-17']);
const STATEMENT_KEYS: ReadonlySet<string> = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Principal',
  'NotPrincipal',
  'Condition',
]);

function stringList(value: unknown, element: string): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string' || v === '')) {
    throw new PolicyError(`Syntax errors in policy: ${element} must be a non-empty string or a non-empty list of strings.`);
  }
  return Object.freeze([...list] as string[]);
}

function parsePrincipal(value: unknown): PolicyStatement['principal'] {
  if (value === '*') return '*';
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PolicyError('Invalid principal in policy: Principal must be "*" or an object.');
  const out: Record<string, readonly string[]> = {};
  for (const [kind, ids] of Object.entries(value as Record<string, unknown>)) out[kind] = stringList(ids, `Principal.${kind}`);
  if (Object.keys(out).length === 0) throw new PolicyError('Invalid principal in policy: Principal is empty.');
  return Object.freeze(out);
}

function parseStatement(raw: unknown, kind: PolicyKind): PolicyStatement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new PolicyError('Syntax errors in policy: a Statement must be an object.');
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) if (!STATEMENT_KEYS.has(key)) throw new PolicyError(`Syntax errors in policy: unknown field ${key}.`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new PolicyError('Syntax errors in policy: Effect must be "Allow" or "Deny".');
  // Messages as IAM words them ("Policy statement must contain actions.", "Has prohibited field Principal", …).
  if ((s.Action === undefined) === (s.NotAction === undefined)) throw new PolicyError('Policy statement must contain actions.');
  if (s.NotPrincipal !== undefined) throw new PolicyError('NotPrincipal is not supported by the local cloud.');
  const statement: { -readonly [K in keyof PolicyStatement]: PolicyStatement[K] } = { effect: s.Effect, conditional: s.Condition !== undefined };
  if (s.Action !== undefined) statement.actions = stringList(s.Action, 'Action');
  else statement.notActions = stringList(s.NotAction, 'NotAction');
  if (kind === 'trust') {
    if (s.Principal === undefined) throw new PolicyError('Missing required field Principal');
    if (s.Resource !== undefined || s.NotResource !== undefined) throw new PolicyError('Has prohibited field Resource');
    statement.principal = parsePrincipal(s.Principal);
  } else {
    if (s.Principal !== undefined) throw new PolicyError(kind === 'iot' ? 'Policy document should not specify a principal.' : 'Has prohibited field Principal');
    if ((s.Resource === undefined) === (s.NotResource === undefined)) throw new PolicyError('Policy statement must contain resources.');
    if (s.Resource !== undefined) statement.resources = stringList(s.Resource, 'Resource');
    else statement.notResources = stringList(s.NotResource, 'NotResource');
  }
  if (statement.conditional && (typeof s.Condition !== 'object' || s.Condition === null || Array.isArray(s.Condition))) {
    throw new PolicyError('Syntax errors in policy: Condition must be an object.');
  }
  return Object.freeze(statement);
}

/**
 * Parses a policy document; throws PolicyError with the reason IAM would give. A document that is not JSON
 * gets IAM's own wording, "This policy contains invalid Json".
 */
export function parsePolicyDocument(text: string, kind: PolicyKind): PolicyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PolicyError('This policy contains invalid Json');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new PolicyError('This policy contains invalid Json');
  const d = doc as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (key !== 'Version' && key !== 'Statement' && key !== 'Id') throw new PolicyError(`Syntax errors in policy: unknown field ${key}.`);
  }
  if (d.Version !== undefined && (typeof d.Version !== 'string' || !VERSIONS.has(d.Version))) {
    throw new PolicyError(`The policy failed legacy parsing: Version '${String(d.Version)}' is not 2012-10-17 or 2008-10-17.`);
  }
  if (d.Statement === undefined) throw new PolicyError('Syntax errors in policy: the Statement element is missing.');
  const raw = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (raw.length === 0) throw new PolicyError('Syntax errors in policy: the Statement list is empty.');
  return Object.freeze({ version: d.Version as string | undefined, statements: Object.freeze(raw.map((s) => parseStatement(s, kind))) });
}
