import { join } from 'node:path';
import { parsePolicyDocument, type PolicyDocument } from '../iam/PolicyDocument.ts';
import { JsonStateFile } from '../state/JsonStateFile.ts';

// Records as the IoT API returns them (AWS IoT API reference: DescribeThing, DescribeCertificate, GetPolicy,
// DescribeRoleAlias); times are epoch ms here and epoch seconds on the wire.

export interface ThingTypeRecord {
  readonly thingTypeName: string;
  readonly thingTypeId: string;
  readonly thingTypeArn: string;
  readonly thingTypeDescription?: string;
  readonly searchableAttributes?: readonly string[];
  readonly creationDate: number;
}

export interface ThingRecord {
  readonly thingName: string;
  readonly thingId: string;
  readonly thingArn: string;
  readonly thingTypeName?: string;
  readonly billingGroupName?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly version: number;
}

/** Certificate statuses (UpdateCertificate newStatus; only ACTIVE authenticates a device). */
export const CERTIFICATE_STATUSES = Object.freeze(['ACTIVE', 'INACTIVE', 'REVOKED', 'PENDING_TRANSFER', 'REGISTER_INACTIVE', 'PENDING_ACTIVATION'] as const);
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

export interface CertificateRecord {
  /** Lower-case hex SHA-256 of the certificate's DER encoding. */
  readonly certificateId: string;
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly status: CertificateStatus;
  readonly creationDate: number;
  readonly lastModifiedDate: number;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly generationId: string;
  readonly customerVersion: number;
}

/** One version of an IoT policy (ListPolicyVersions, GetPolicyVersion). */
export interface PolicyVersionRecord {
  readonly versionId: string;
  readonly policyDocument: string;
  readonly createDate: number;
}

/**
 * An IoT policy. `policyDocument` is always the DEFAULT version's document — the one that authorizes
 * (policiesOf and document() read it) — and `versions` holds every version, oldest first.
 */
export interface PolicyRecord {
  readonly policyName: string;
  readonly policyArn: string;
  readonly policyDocument: string;
  readonly defaultVersionId: string;
  readonly creationDate: number;
  readonly lastModifiedDate: number;
  readonly generationId: string;
  readonly versions: readonly PolicyVersionRecord[];
  /** The highest version id handed out: AWS numbers a policy's versions 1, 2, 3… and never reuses one. */
  readonly lastVersionId: number;
}

/**
 * A policy as an iot.json written before policy versions holds it (no `versions`): its one version is its
 * default version with its document.
 */
function withVersions(p: PolicyRecord): PolicyRecord {
  if (Array.isArray(p.versions) && typeof p.lastVersionId === 'number') return p;
  const versions = [{ versionId: p.defaultVersionId, policyDocument: p.policyDocument, createDate: p.creationDate }];
  return { ...p, versions, lastVersionId: Number(p.defaultVersionId) || 1 };
}

export interface RoleAliasRecord {
  readonly roleAlias: string;
  readonly roleAliasArn: string;
  readonly roleArn: string;
  readonly owner: string;
  readonly credentialDurationSeconds: number;
  readonly creationDate: number;
  readonly lastModifiedDate: number;
}

interface IotState {
  readonly thingTypes: ThingTypeRecord[];
  readonly things: ThingRecord[];
  readonly certificates: CertificateRecord[];
  readonly policies: PolicyRecord[];
  readonly roleAliases: RoleAliasRecord[];
  /** Policy name → targets (certificate ARNs) it is attached to. */
  readonly policyTargets: Record<string, string[]>;
  /** Thing name → principals (certificate ARNs) attached to it. */
  readonly thingPrincipals: Record<string, string[]>;
}

const LISTS = Object.freeze(['thingTypes', 'things', 'certificates', 'policies', 'roleAliases'] as const);
const KEYS = Object.freeze({
  thingTypes: 'thingTypeName',
  things: 'thingName',
  certificates: 'certificateId',
  policies: 'policyName',
  roleAliases: 'roleAlias',
} as const);

function checkState(body: Record<string, unknown>): string | undefined {
  for (const list of LISTS) {
    const items = body[list];
    if (!Array.isArray(items)) return `"${list}" is not a list`;
    const key = KEYS[list];
    const bad = items.findIndex((r) => typeof r !== 'object' || r === null || typeof (r as Record<string, unknown>)[key] !== 'string');
    if (bad >= 0) return `${list}[${bad}] has no ${key}`;
  }
  for (const map of ['policyTargets', 'thingPrincipals'] as const) {
    const m = body[map];
    if (typeof m !== 'object' || m === null || Object.values(m).some((v) => !Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
      return `"${map}" must map names to lists of ARNs`;
    }
  }
  return undefined;
}

/** The registry's record tables by name. */
export interface IotTables {
  readonly thingTypes: ThingTypeRecord;
  readonly things: ThingRecord;
  readonly certificates: CertificateRecord;
  readonly policies: PolicyRecord;
  readonly roleAliases: RoleAliasRecord;
}
type TableName = keyof IotTables;

/**
 * The AWS IoT registry of the local cloud — thing types, things, certificates, policies, role aliases and
 * the attachments between them — in `<stateDir>/iot.json`, rewritten atomically on every change. Private
 * keys are never stored (AWS returns them once, from CreateKeysAndCertificate).
 */
export class IotRegistry {
  private readonly file: JsonStateFile<IotState>;
  private readonly tables: { readonly [K in TableName]: Map<string, IotTables[K]> } = {
    thingTypes: new Map(),
    things: new Map(),
    certificates: new Map(),
    policies: new Map(),
    roleAliases: new Map(),
  };
  private readonly policyTargets = new Map<string, Set<string>>();
  private readonly thingPrincipals = new Map<string, Set<string>>();
  private readonly parsed = new Map<string, { readonly text: string; readonly doc: PolicyDocument }>();

  constructor(stateDir: string) {
    this.file = new JsonStateFile({ file: join(stateDir, 'iot.json'), format: 'fieldcam-cloud-iot', version: 1 });
    const state = this.file.load(checkState, 'every IoT thing, certificate, policy and role alias');
    if (!state) return;
    for (const name of LISTS) for (const r of state[name]) this.index(name, name === 'policies' ? withVersions(r as PolicyRecord) : r);
    for (const [k, v] of Object.entries(state.policyTargets)) this.policyTargets.set(k, new Set(v));
    for (const [k, v] of Object.entries(state.thingPrincipals)) this.thingPrincipals.set(k, new Set(v));
  }

  get<K extends TableName>(table: K, key: string): IotTables[K] | undefined {
    return this.tables[table].get(key);
  }

  /** A table's records in creation order. */
  list<K extends TableName>(table: K): IotTables[K][] {
    return [...this.tables[table].values()];
  }

  /** Adds or replaces a record (keyed by its name, or certificateId) and saves. */
  put<K extends TableName>(table: K, record: IotTables[K]): void {
    this.index(table, record);
    this.save();
  }

  /** Attaches `policyName` to `target`; attaching twice is a no-op. */
  attachPolicy(policyName: string, target: string): void {
    this.link(this.policyTargets, policyName, target);
  }

  /** The policies attached to a target (a certificate ARN). */
  policiesOf(target: string): PolicyRecord[] {
    const out: PolicyRecord[] = [];
    for (const [name, targets] of this.policyTargets) {
      const policy = this.tables.policies.get(name);
      if (policy && targets.has(target)) out.push(policy);
    }
    return out;
  }

  attachThingPrincipal(thingName: string, principal: string): void {
    this.link(this.thingPrincipals, thingName, principal);
  }

  /** Principals attached to a thing, in attachment order. */
  principalsOf(thingName: string): string[] {
    return [...(this.thingPrincipals.get(thingName) ?? [])];
  }

  isAttached(thingName: string, principal: string): boolean {
    return this.thingPrincipals.get(thingName)?.has(principal) === true;
  }

  /**
   * A policy's DEFAULT version's document (the one in effect), parsed once per version (it was validated by
   * CreatePolicy / CreatePolicyVersion). Cached by policy name, so a new default version replaces the entry.
   */
  document(policy: PolicyRecord): PolicyDocument {
    const cached = this.parsed.get(policy.policyName);
    if (cached && cached.text === policy.policyDocument) return cached.doc;
    const doc = parsePolicyDocument(policy.policyDocument, 'iot');
    this.parsed.set(policy.policyName, { text: policy.policyDocument, doc });
    return doc;
  }

  private index<K extends TableName>(table: K, record: IotTables[K]): void {
    const key = (record as unknown as Record<string, string>)[KEYS[table]]!;
    (this.tables[table] as Map<string, object>).set(key, Object.freeze({ ...record }));
  }

  private link(map: Map<string, Set<string>>, key: string, value: string): void {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    if (set.has(value)) return;
    set.add(value);
    this.save();
  }

  private save(): void {
    const lists = (m: Map<string, Set<string>>): Record<string, string[]> => Object.fromEntries([...m].map(([k, v]) => [k, [...v]]));
    this.file.save({
      thingTypes: this.list('thingTypes'),
      things: this.list('things'),
      certificates: this.list('certificates'),
      policies: this.list('policies'),
      roleAliases: this.list('roleAliases'),
      policyTargets: lists(this.policyTargets),
      thingPrincipals: lists(this.thingPrincipals),
    });
  }
}
