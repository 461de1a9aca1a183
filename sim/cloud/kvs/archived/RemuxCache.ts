/**
 * Remuxed fragments by key, least recently used evicted first, bounded in bytes: a player fetches each
 * segment once or twice (and a LIVE playlist's segments are fetched by every viewer), so a small cache
 * spares most ffmpeg runs without letting a long ON_DEMAND session grow memory without limit.
 * Concurrent requests for one key share one remux.
 */
export class RemuxCache {
  private readonly maxBytes: number;
  private bytes = 0;
  private readonly entries = new Map<string, Buffer>();
  private readonly pending = new Map<string, Promise<Buffer>>();

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get size(): number {
    return this.bytes;
  }

  async get(key: string, make: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    let job = this.pending.get(key);
    if (!job) {
      job = make().finally(() => this.pending.delete(key));
      this.pending.set(key, job);
      const value = await job;
      this.put(key, value);
      return value;
    }
    return job;
  }

  private put(key: string, value: Buffer): void {
    if (value.length > this.maxBytes || this.entries.has(key)) return;
    this.entries.set(key, value);
    this.bytes += value.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.length;
    }
  }
}
