import { join } from 'node:path';
import { JsonStateFile } from '../state/JsonStateFile.ts';
import { parsePolicyDocument, type PolicyDocument } from './PolicyDocument.ts';

/** An IAM role with its inline policies, as the local cloud keeps it (IAM API reference, "Role"). */
export interface RoleRecord {
  readonly RoleName: string;
  /** `AROA…`: IAM's unique id of a role. */
  readonly RoleId: string;
  readonly Arn: string;
  readonly Path: string;
  /** Epoch ms. */
  readonly CreateDate: number;
  /** The trust policy exactly as given (GetRole returns it URL-encoded). */
  readonly AssumeRolePolicyDocument: string;
  readonly Description?: string;
  /** Seconds, 3600-43200 (CreateRole MaxSessionDuration, default 3600). */
  readonly MaxSessionDuration: number;
  readonly Tags: readonly { readonly Key: string; readonly Value: string }[];
  /** Inline policies by name, documents exactly as given (PutRolePolicy / GetRolePolicy). */
  readonly Policies: Readonly<Record<string, string>>;
}

interface IamState {
  readonly roles: RoleRecord[];
}

function checkRole(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return 'not an object';
  const o = r as Record<string, unknown>;
  for (const key of ['RoleName', 'RoleId', 'Arn', 'Path', 'AssumeRolePolicyDocument'] as const) {
    if (typeof o[key] !== 'string' || o[key] === '') return `${key} must be a non-empty string`;
  }
  if (!Number.isFinite(o.CreateDate)) return 'CreateDate must be epoch milliseconds';
  if (!Number.isSafeInteger(o.MaxSessionDuration)) return 'MaxSessionDuration must be whole seconds';
  if (!Array.isArray(o.Tags)) return 'Tags must be a list';
  const p = o.Policies;
  if (typeof p !== 'object' || p === null || Object.values(p).some((v) => typeof v !== 'string')) return 'Policies must map names to documents';
  return undefined;
}

/**
 * The IAM roles of the local cloud, in `<stateDir>/iam.json` (rewritten atomically on every change). Role
 * names are unique case-insensitively, as in IAM ("Role names are not distinguished by case").
 */
export class IamStore {
  private readonly state: JsonStateFile<IamState>;
  private readonly roles = new Map<string, RoleRecord>();
  private readonly parsed = new Map<string, PolicyDocument>();

  constructor(stateDir: string) {
    this.state = new JsonStateFile({ file: join(stateDir, 'iam.json'), format: 'fieldcam-cloud-iam', version: 1 });
    const loaded = this.state.load((body) => {
      if (!Array.isArray(body.roles)) return '"roles" is not a list';
      for (const [i, r] of (body.roles as unknown[]).entries()) {
        const problem = checkRole(r);
        if (problem) return `roles[${i}]: ${problem}`;
      }
      return undefined;
    }, 'every IAM role');
    for (const role of loaded?.roles ?? []) this.roles.set(role.RoleName.toLowerCase(), Object.freeze(role));
  }

  getRole(name: string): RoleRecord | undefined {
    return this.roles.get(name.toLowerCase());
  }

  /** The role an ARN names (`arn:aws:iam::<account>:role/<path><name>`), if it exists with exactly that ARN. */
  getRoleByArn(arn: string): RoleRecord | undefined {
    const name = arn.slice(arn.lastIndexOf('/') + 1);
    const role = this.getRole(name);
    return role && role.Arn === arn ? role : undefined;
  }

  putRole(role: RoleRecord): void {
    this.roles.set(role.RoleName.toLowerCase(), Object.freeze({ ...role, Policies: Object.freeze({ ...role.Policies }) }));
    this.state.save({ roles: [...this.roles.values()] });
  }

  /** The role's inline policies, parsed (documents were validated when they were put). */
  rolePolicies(role: RoleRecord): PolicyDocument[] {
    return Object.values(role.Policies).map((text) => this.parse(text, 'identity'));
  }

  trustPolicy(role: RoleRecord): PolicyDocument {
    return this.parse(role.AssumeRolePolicyDocument, 'trust');
  }

  private parse(text: string, kind: 'identity' | 'trust'): PolicyDocument {
    const key = `${kind}\u0000${text}`;
    let doc = this.parsed.get(key);
    if (!doc) {
      doc = parsePolicyDocument(text, kind);
      this.parsed.set(key, doc);
    }
    return doc;
  }
}
