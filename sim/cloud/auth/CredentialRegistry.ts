import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../../firmware/core/errors.ts';
import type { AssumedRoleSession, TemporaryCredentials, TemporaryCredentialStore } from '../types.ts';
import { writeFileAtomic } from '../../../host/shared/writeFileAtomic.ts';

/** What SigV4 verification needs to know about an access key id. */
export interface ResolvedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Present for temporary credentials: the request must carry exactly this x-amz-security-token. */
  readonly temporary?: TemporaryCredentials;
}

export interface CredentialResolver {
  resolve(accessKeyId: string): ResolvedCredentials | undefined;
}

const FORMAT = 'fieldcam-cloud-credentials';
/** Expired credentials are kept this long (so a late request still gets ExpiredTokenException), then pruned. */
const KEEP_EXPIRED_MS = 24 * 3600_000;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The credentials the cloud accepts: the static pairs of the configuration, plus temporary credentials
 * (key id + secret + session token + expiry) that tests or the IoT credentials provider register. The
 * temporary ones are kept in `<stateDir>/credentials.json` (mode 0600, written atomically), so a device
 * holding a token keeps working across a restart of the cloud, as it would against AWS.
 */
export class CredentialRegistry implements CredentialResolver, TemporaryCredentialStore {
  private readonly statics: ReadonlyMap<string, string>;
  private readonly temporary = new Map<string, TemporaryCredentials>();
  private readonly file: string;
  private readonly now: () => number;

  constructor(options: { stateDir: string; statics: ReadonlyMap<string, string>; now: () => number }) {
    this.statics = options.statics;
    this.now = options.now;
    this.file = join(options.stateDir, 'credentials.json');
    if (existsSync(this.file)) this.load();
  }

  resolve(accessKeyId: string): ResolvedCredentials | undefined {
    const temporary = this.temporary.get(accessKeyId);
    if (temporary) return { accessKeyId, secretAccessKey: temporary.secretAccessKey, temporary };
    const secret = this.statics.get(accessKeyId);
    return secret === undefined ? undefined : { accessKeyId, secretAccessKey: secret };
  }

  issue(durationMs: number, session?: AssumedRoleSession): TemporaryCredentials {
    if (!(Number.isFinite(durationMs) && durationMs > 0)) throw new RangeError(`issue: durationMs must be positive, got ${durationMs}`);
    const issuedAt = this.now();
    const credentials: TemporaryCredentials = Object.freeze({
      // AWS temporary key ids start with ASIA; long-term ones with AKIA.
      accessKeyId: 'ASIA' + Array.from(randomBytes(16), (b) => BASE32[b & 31]).join(''),
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      expiration: issuedAt + durationMs,
      issuedAt,
      ...(session ? { session } : {}),
    });
    this.register(credentials);
    return credentials;
  }

  register(credentials: TemporaryCredentials): void {
    const problem = checkTemporary(credentials);
    if (problem) throw new TypeError(`register: ${problem}`);
    if (this.statics.has(credentials.accessKeyId)) {
      throw new TypeError(`register: ${credentials.accessKeyId} is already a static access key id`);
    }
    this.temporary.set(credentials.accessKeyId, Object.freeze({ ...credentials }));
    this.save();
  }

  revoke(accessKeyId: string): void {
    if (this.temporary.delete(accessKeyId)) this.save();
  }

  get(accessKeyId: string): TemporaryCredentials | undefined {
    return this.temporary.get(accessKeyId);
  }

  private save(): void {
    const cutoff = this.now() - KEEP_EXPIRED_MS;
    for (const [id, c] of this.temporary) if (c.expiration < cutoff) this.temporary.delete(id);
    const doc = { format: FORMAT, version: 1, temporary: [...this.temporary.values()] };
    writeFileAtomic(this.file, JSON.stringify(doc, null, 2) + '\n', 0o600);
  }

  private load(): void {
    const corrupt = (why: string): FieldcamError =>
      new FieldcamError('CONFIG_INVALID', `cloud state file ${this.file} is unusable: ${why}; repair it, or delete it to forget issued temporary credentials`);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      throw corrupt((err as Error).message);
    }
    const d = doc as { format?: unknown; version?: unknown; temporary?: unknown } | null;
    if (typeof d !== 'object' || d === null || d.format !== FORMAT || d.version !== 1) throw corrupt(`not a ${FORMAT} version 1 document`);
    if (!Array.isArray(d.temporary)) throw corrupt('"temporary" is not an array');
    d.temporary.forEach((c: TemporaryCredentials, i: number) => {
      const problem = checkTemporary(c);
      if (problem) throw corrupt(`temporary[${i}]: ${problem}`);
      this.temporary.set(c.accessKeyId, Object.freeze({ ...c }));
    });
  }
}

function checkTemporary(c: TemporaryCredentials): string | undefined {
  if (typeof c !== 'object' || c === null) return 'credentials must be an object';
  if (typeof c.accessKeyId !== 'string' || !/^[A-Z0-9]{16,128}$/.test(c.accessKeyId)) return 'accessKeyId must be 16-128 upper-case letters or digits';
  if (typeof c.secretAccessKey !== 'string' || c.secretAccessKey === '') return 'secretAccessKey must be a non-empty string';
  if (typeof c.sessionToken !== 'string' || c.sessionToken === '') return 'sessionToken must be a non-empty string';
  if (!Number.isFinite(c.expiration) || !Number.isFinite(c.issuedAt)) return 'expiration and issuedAt must be epoch milliseconds';
  if (c.session !== undefined) {
    const s = c.session as Partial<AssumedRoleSession> | null;
    if (typeof s !== 'object' || s === null || typeof s.roleArn !== 'string' || typeof s.arn !== 'string') return 'session must name roleArn and arn';
    const v = s.variables;
    if (typeof v !== 'object' || v === null || Object.values(v).some((x) => typeof x !== 'string')) return 'session.variables must map names to strings';
  }
  return undefined;
}
