import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../firmware/core/errors.ts';
import type { StreamRecord, StreamStore } from './types.ts';
import { writeFileAtomic } from '../../host/shared/writeFileAtomic.ts';

const FORMAT = 'fieldcam-cloud-streams';
const VERSION = 1;
const STATUSES: ReadonlySet<string> = new Set(['CREATING', 'ACTIVE', 'UPDATING', 'DELETING']);

interface StateFile {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  readonly streams: StreamRecord[];
}

/** The file in each stream directory that names its stream (the directory name is a hash). */
const NAME_FILE = 'stream.json';

/**
 * The streams of the local cloud, kept in `<stateDir>/streams.json` (rewritten atomically on every change)
 * and mirrored in memory. Each stream's media lives in `<stateDir>/streams/<hash>/`, the hash of its ARN
 * (name + creation time), so a stream deleted and created again under the same name never sees the old
 * one's fragments, and a name of any legal length (256 characters, kvs-reference.md §4.2) stays off the
 * file system, whose names stop at 255 bytes; `<hash>/stream.json` records the name and ARN.
 *
 * A change is saved before it is made visible: a failed write (full disk) leaves memory as it was, so a
 * CreateStream answered 500 has created nothing.
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
    return [...this.byName.values()].sort(byStreamName);
  }

  put(record: StreamRecord): void {
    const frozen = Object.freeze({ ...record, Tags: Object.freeze({ ...record.Tags }) });
    const previous = this.byName.get(record.StreamName);
    this.save([...this.byName.values()].filter((r) => r !== previous).concat(frozen));
    if (previous) this.nameByArn.delete(previous.StreamARN);
    this.index(frozen);
  }

  delete(name: string): void {
    const record = this.byName.get(name);
    if (!record) return;
    this.save([...this.byName.values()].filter((r) => r !== record));
    this.byName.delete(name);
    this.nameByArn.delete(record.StreamARN);
    rmSync(this.mediaDir(record), { recursive: true, force: true });
  }

  dir(name: string): string {
    const record = this.byName.get(name);
    if (!record) throw new RangeError(`FileStreamStore.dir: no stream named '${name}'`);
    const dir = this.mediaDir(record);
    if (!existsSync(join(dir, NAME_FILE))) {
      mkdirSync(dir, { recursive: true });
      writeFileAtomic(join(dir, NAME_FILE), JSON.stringify({ StreamName: record.StreamName, StreamARN: record.StreamARN }) + '\n');
    }
    return dir;
  }

  private mediaDir(record: StreamRecord): string {
    // State directories from before the hashed layout used `<name>@<creation-ms>`: keep reading them.
    const creationMs = record.StreamARN.slice(record.StreamARN.lastIndexOf('/') + 1);
    const legacy = `${record.StreamName}@${creationMs}`;
    if (Buffer.byteLength(legacy) <= 255 && existsSync(join(this.stateDir, 'streams', legacy))) return join(this.stateDir, 'streams', legacy);
    return join(this.stateDir, 'streams', createHash('sha256').update(record.StreamARN).digest('hex').slice(0, 32));
  }

  private index(record: StreamRecord): void {
    this.byName.set(record.StreamName, record);
    this.nameByArn.set(record.StreamARN, record.StreamName);
  }

  private save(records: StreamRecord[]): void {
    records.sort(byStreamName);
    const state: StateFile = { format: FORMAT, version: VERSION, streams: records };
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

function byStreamName(a: StreamRecord, b: StreamRecord): number {
  return a.StreamName < b.StreamName ? -1 : a.StreamName > b.StreamName ? 1 : 0;
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
