import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../firmware/core/errors.ts';
import type { StreamRecord, StreamStore } from './types.ts';
import { writeFileAtomic } from '../../host/lib/writeFileAtomic.ts';

const FORMAT = 'fieldcam-cloud-streams';
const VERSION = 1;
const STATUSES: ReadonlySet<string> = new Set(['CREATING', 'ACTIVE', 'UPDATING', 'DELETING']);

interface StateFile {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  readonly streams: StreamRecord[];
}

/**
 * The streams of the local cloud, kept in `<stateDir>/streams.json` (rewritten atomically on every change)
 * and mirrored in memory. Each stream's media lives in `<stateDir>/streams/<name>@<creation-ms>/`, so a
 * stream deleted and created again under the same name never sees the old one's fragments.
 */
export class FileStreamStore implements StreamStore {
  readonly stateDir: string;
  readonly file: string;
  private readonly byName = new Map<string, StreamRecord>();
  private readonly nameByArn = new Map<string, string>();

  constructor(stateDir: string) {
    this.stateDir = stateDir;
    this.file = join(stateDir, 'streams.json');
    mkdirSync(stateDir, { recursive: true });
    if (existsSync(this.file)) {
      for (const record of this.load()) this.index(record);
    }
  }

  get(name: string): StreamRecord | undefined {
    return this.byName.get(name);
  }

  getByArn(arn: string): StreamRecord | undefined {
    const name = this.nameByArn.get(arn);
    return name === undefined ? undefined : this.byName.get(name);
  }

  /** Every stream, ordered by name (ListStreams pages over this order). */
  list(): StreamRecord[] {
    return [...this.byName.values()].sort((a, b) => (a.StreamName < b.StreamName ? -1 : a.StreamName > b.StreamName ? 1 : 0));
  }

  put(record: StreamRecord): void {
    const previous = this.byName.get(record.StreamName);
    if (previous) this.nameByArn.delete(previous.StreamARN);
    this.index(Object.freeze({ ...record, Tags: Object.freeze({ ...record.Tags }) }));
    this.save();
  }

  delete(name: string): void {
    const record = this.byName.get(name);
    if (!record) return;
    this.byName.delete(name);
    this.nameByArn.delete(record.StreamARN);
    this.save();
    rmSync(this.mediaDir(record), { recursive: true, force: true });
  }

  dir(name: string): string {
    const record = this.byName.get(name);
    if (!record) throw new RangeError(`FileStreamStore.dir: no stream named '${name}'`);
    const dir = this.mediaDir(record);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private mediaDir(record: StreamRecord): string {
    const creationMs = record.StreamARN.slice(record.StreamARN.lastIndexOf('/') + 1);
    return join(this.stateDir, 'streams', `${record.StreamName}@${creationMs}`);
  }

  private index(record: StreamRecord): void {
    this.byName.set(record.StreamName, record);
    this.nameByArn.set(record.StreamARN, record.StreamName);
  }

  private save(): void {
    const state: StateFile = { format: FORMAT, version: VERSION, streams: this.list() };
    writeFileAtomic(this.file, JSON.stringify(state, null, 2) + '\n');
  }

  private load(): StreamRecord[] {
    const corrupt = (why: string): FieldcamError =>
      new FieldcamError('CONFIG_INVALID', `cloud state file ${this.file} is unusable: ${why}; repair it, or move it aside to start with no streams`);
    let state: unknown;
    try {
      state = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      throw corrupt((err as Error).message);
    }
    const s = state as Partial<StateFile> | null;
    if (typeof s !== 'object' || s === null || s.format !== FORMAT) throw corrupt(`not a ${FORMAT} document`);
    if (s.version !== VERSION) throw corrupt(`version ${String(s.version)} (this fieldcam reads version ${VERSION})`);
    if (!Array.isArray(s.streams)) throw corrupt('"streams" is not an array');
    return s.streams.map((r, i) => {
      const why = checkRecord(r);
      if (why) throw corrupt(`streams[${i}]: ${why}`);
      return Object.freeze({ ...r, Tags: Object.freeze({ ...r.Tags }) });
    });
  }
}

function checkRecord(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return 'not an object';
  const o = r as Record<string, unknown>;
  for (const key of ['StreamName', 'StreamARN', 'KmsKeyId', 'Version'] as const) {
    if (typeof o[key] !== 'string' || o[key] === '') return `${key} must be a non-empty string`;
  }
  if (typeof o.Status !== 'string' || !STATUSES.has(o.Status)) return `Status '${String(o.Status)}' is not a stream status`;
  if (typeof o.CreationTime !== 'number' || !Number.isFinite(o.CreationTime)) return 'CreationTime must be a number';
  if (!Number.isSafeInteger(o.DataRetentionInHours) || (o.DataRetentionInHours as number) < 0) return 'DataRetentionInHours must be a whole number';
  if (!/\/\d+$/.test(o.StreamARN as string)) return 'StreamARN must end in /<creation-ms>';
  const tags = o.Tags;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags) || Object.values(tags).some((v) => typeof v !== 'string')) {
    return 'Tags must map strings to strings';
  }
  for (const key of ['MediaType', 'DeviceName'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'string') return `${key} must be a string`;
  }
  return undefined;
}
