// Durable fragment storage of one stream, under the stream's directory:
//
//   media/index.jsonl               one JSON line per stored fragment, appended (fsync) after its file exists
//   media/headers/<sha256/32>.mkv   each distinct segment header (EBML + Segment + Info + Tracks), stored once
//   media/fragments/<number>.mkv    each fragment's bytes (its metadata Tags + Cluster), written atomically
//
// A crash can leave a fragment file without its index line (ignored: it was never acknowledged PERSISTED)
// or a torn last index line (cut off when the store is opened), never an index line without its file.
// Writes run on libuv's thread pool, one fragment after the other per stream (a queue), so a slow or stuck
// disk under one stream never stops the event loop, i.e. never stalls the other streams (issue 11 item 14).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../../../../host/shared/writeFileAtomic.ts';
import type { FragmentTag } from './checkFragmentTags.ts';

export interface FragmentRecord {
  readonly fragmentNumber: string;
  /** Cluster Timecode as stored (TimecodeScale units; absolute, also for RELATIVE uploads). */
  readonly timecode: number;
  readonly producerTimestampMs: number;
  readonly serverTimestampMs: number;
  readonly durationMs: number;
  /** Bytes of the stored fragment (Tags + Cluster), i.e. FragmentSizeInBytes. */
  readonly size: number;
  /** Id of the segment header the fragment is played with. */
  readonly header: string;
  readonly tags: readonly (readonly [string, string])[];
}

export interface FragmentToStore {
  readonly number: string;
  /**
   * Cluster Timecode as stored (TimecodeScale units): as received for ABSOLUTE uploads, the producer start
   * plus the received one for RELATIVE (KVS stores absolute timecodes, kvs-reference.md §5.3).
   */
  readonly timecode: number;
  readonly producerTimestampMs: number;
  /** Arrival of the fragment's first byte (server clock). */
  readonly serverTimestampMs: number;
  readonly durationMs: number;
  /** EBML header + Segment (unknown size) + Info + Tracks of its connection: one object for all its fragments. */
  readonly header: Uint8Array;
  /** The fragment: its metadata Tags and its Cluster, as received (a RELATIVE Cluster with its Timecode made absolute). */
  readonly bytes: Uint8Array;
  readonly tags: readonly FragmentTag[];
}

/**
 * FragmentNumbers: decimal strings of one fixed length (so string order is numeric order), from a prefix
 * and a counter that is at least the server time in µs. They keep increasing across connections and
 * restarts, like the 47-digit numbers KVS hands out.
 */
const NUMBER_PREFIX = '91343852333';
const COUNTER_DIGITS = 36;

export class FragmentStore {
  readonly dir: string;
  private readonly indexFile: string;
  private readonly headersDir: string;
  private readonly fragmentsDir: string;
  private readonly records: FragmentRecord[] = [];
  private readonly byNumber = new Map<string, FragmentRecord>();
  private readonly headerIds = new Set<string>();
  /** Numbers queued for writing, and the end of the write queue. */
  private readonly queued = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly headerCache = new Map<string, Uint8Array>();
  private lastHeader: { bytes: Uint8Array; id: string } | undefined;
  private counter = 0;
  /** Index lines that could not be read when the store was opened (a torn last line is one). */
  readonly damagedLines: number = 0;

  /** Opens (creating if needed) the store of a stream whose private directory is `streamDir`. */
  constructor(streamDir: string) {
    this.dir = join(streamDir, 'media');
    this.indexFile = join(this.dir, 'index.jsonl');
    this.headersDir = join(this.dir, 'headers');
    this.fragmentsDir = join(this.dir, 'fragments');
    mkdirSync(this.headersDir, { recursive: true });
    mkdirSync(this.fragmentsDir, { recursive: true });
    this.damagedLines = this.load();
  }

  /**
   * Stored fragments in FragmentNumber order. Numbers are handed out when a fragment's first bytes arrive,
   * so during a PutMedia hand-over (two connections) a fragment may be stored after a higher-numbered one:
   * it is listed in its number's place all the same.
   */
  list(): readonly FragmentRecord[] {
    return this.records;
  }

  get(fragmentNumber: string): FragmentRecord | undefined {
    return this.byNumber.get(fragmentNumber);
  }

  /** The next FragmentNumber of this stream (strictly greater than any handed out or stored before). */
  nextFragmentNumber(nowMs: number): string {
    this.counter = Math.max(this.counter + 1, Math.floor(nowMs) * 1000);
    return NUMBER_PREFIX + String(this.counter).padStart(COUNTER_DIGITS, '0');
  }

  /**
   * Stores a fragment durably — header (once), fragment file (atomic), then the index line (fsync) — after
   * the fragments queued before it. Resolves once it is durable and listed; rejects when a write failed
   * (that fragment is not listed; later ones still get their turn).
   */
  append(fragment: FragmentToStore): Promise<FragmentRecord> {
    if (this.byNumber.has(fragment.number) || this.queued.has(fragment.number)) {
      return Promise.reject(new RangeError(`fragment ${fragment.number} is already stored`));
    }
    this.queued.add(fragment.number);
    const done = this.queue.then(() => this.write(fragment)).finally(() => this.queued.delete(fragment.number));
    this.queue = done.catch(() => {});
    return done;
  }

  /** Resolves once every fragment queued so far is written (or failed). */
  async idle(): Promise<void> {
    await this.queue;
  }

  private async write(fragment: FragmentToStore): Promise<FragmentRecord> {
    const header = await this.storeHeader(fragment.header);
    await writeFileAtomicAsync(join(this.fragmentsDir, `${fragment.number}.mkv`), fragment.bytes);
    const record: FragmentRecord = Object.freeze({
      fragmentNumber: fragment.number,
      timecode: fragment.timecode,
      producerTimestampMs: fragment.producerTimestampMs,
      serverTimestampMs: fragment.serverTimestampMs,
      durationMs: fragment.durationMs,
      size: fragment.bytes.length,
      header,
      tags: Object.freeze(fragment.tags.map((t) => Object.freeze([t.name, t.value] as const))),
    });
    const file = await open(this.indexFile, 'a', 0o644);
    try {
      const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
      let done = 0;
      while (done < line.length) done += (await file.write(line, done, line.length - done)).bytesWritten;
      await file.sync();
    } finally {
      await file.close();
    }
    this.add(record);
    return record;
  }

  /** The fragment's bytes (metadata Tags + Cluster). */
  readFragment(record: FragmentRecord): Uint8Array {
    return readFileSync(join(this.fragmentsDir, `${record.fragmentNumber}.mkv`));
  }

  /** A stored segment header (EBML header, Segment of unknown size, Info, Tracks). */
  readHeader(id: string): Uint8Array {
    let bytes = this.headerCache.get(id);
    if (!bytes) {
      bytes = readFileSync(join(this.headersDir, `${id}.mkv`));
      this.headerCache.set(id, bytes);
    }
    return bytes;
  }

  private async storeHeader(bytes: Uint8Array): Promise<string> {
    // Every fragment of a connection shares one header object: hash it once per connection, not per fragment.
    if (this.lastHeader?.bytes === bytes) return this.lastHeader.id;
    const id = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
    if (!this.headerIds.has(id)) {
      const path = join(this.headersDir, `${id}.mkv`);
      if (
        !(await access(path).then(
          () => true,
          () => false,
        ))
      )
        await writeFileAtomicAsync(path, bytes);
      this.headerIds.add(id);
    }
    this.lastHeader = { bytes, id };
    return id;
  }

  private add(record: FragmentRecord): void {
    let at = this.records.length;
    while (at > 0 && compareNumbers(this.records[at - 1]!.fragmentNumber, record.fragmentNumber) > 0) at--;
    this.records.splice(at, 0, record);
    this.byNumber.set(record.fragmentNumber, record);
    this.headerIds.add(record.header);
    const counter = Number(record.fragmentNumber.slice(NUMBER_PREFIX.length));
    if (Number.isSafeInteger(counter) && counter > this.counter) this.counter = counter;
  }

  /** Reads the index; cuts a torn last line so later appends start on a fresh line. Returns the lines skipped. */
  private load(): number {
    if (!existsSync(this.indexFile)) return 0;
    const text = readFileSync(this.indexFile, 'utf8');
    let damaged = 0;
    const complete = text.lastIndexOf('\n') + 1;
    if (complete < text.length) {
      truncateSync(this.indexFile, Buffer.byteLength(text.slice(0, complete), 'utf8'));
      damaged++;
    }
    for (const line of text.slice(0, complete).split('\n')) {
      if (line === '') continue;
      const record = parseRecord(line);
      if (!record || !existsSync(join(this.fragmentsDir, `${record.fragmentNumber}.mkv`)) || this.byNumber.has(record.fragmentNumber)) {
        damaged++;
        continue;
      }
      this.add(record);
    }
    this.records.sort((a, b) => compareNumbers(a.fragmentNumber, b.fragmentNumber));
    return damaged;
  }
}

/** Orders decimal FragmentNumber strings numerically. */
export function compareNumbers(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

function parseRecord(line: string): FragmentRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = v as Record<string, unknown>;
  const nums = ['timecode', 'producerTimestampMs', 'serverTimestampMs', 'durationMs', 'size'];
  if (typeof r !== 'object' || r === null || typeof r.fragmentNumber !== 'string' || !/^\d+$/.test(r.fragmentNumber)) return undefined;
  if (typeof r.header !== 'string' || !/^[0-9a-f]+$/.test(r.header) || !Array.isArray(r.tags)) return undefined;
  if (!nums.every((k) => typeof r[k] === 'number' && Number.isFinite(r[k]))) return undefined;
  return Object.freeze(r as unknown as FragmentRecord);
}
