import { CloudError } from '../types.ts';

/** The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export interface ParsedAuthorization {
  readonly accessKeyId: string;
  /** YYYYMMDD of the credential scope. */
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  /** Lower-case header names in the order given (SigV4 requires them sorted; we verify what was sent). */
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

function incomplete(message: string): CloudError {
  return new CloudError(403, 'IncompleteSignatureException', message);
}

/** Parses a SigV4 Authorization header; malformed ones give 403 IncompleteSignatureException as AWS does. */
export function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported authorization algorithm '${algorithm}': only ${ALGORITHM} (Signature Version 4) is accepted.`);
  }
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const item = part.trim();
    const eq = item.indexOf('=');
    if (eq > 0) params.set(item.slice(0, eq), item.slice(eq + 1));
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((p) => !params.get(p));
  if (missing.length) {
    throw incomplete(missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ') + ` Authorization=${header}`);
  }
  const scope = params.get('Credential')!.split('/');
  if (scope.length !== 5 || scope.some((s) => s === '')) {
    throw incomplete(`Credential must have the form <access-key-id>/<date>/<region>/<service>/aws4_request, got '${params.get('Credential')}'.`);
  }
  const [accessKeyId, scopeDate, region, service, terminator] = scope as [string, string, string, string, string];
  if (terminator !== 'aws4_request') {
    throw incomplete(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`);
  }
  if (!/^\d{8}$/.test(scopeDate)) throw incomplete(`Credential date '${scopeDate}' is not YYYYMMDD.`);
  const signature = params.get('Signature')!;
  if (!/^[0-9a-f]{64}$/.test(signature)) throw incomplete('Signature must be 64 lower-case hex digits.');
  const signedHeaders = params
    .get('SignedHeaders')!
    .split(';')
    .map((h) => h.trim().toLowerCase());
  if (signedHeaders.some((h) => h === '')) throw incomplete(`SignedHeaders '${params.get('SignedHeaders')}' has an empty name.`);
  return { accessKeyId, scopeDate, region, service, signedHeaders, signature };
}
