/**
 * Fragments sent on the current PutMedia connection and not yet acknowledged, by start timecode: when each was
 * sent and whether BUFFERING and RECEIVED came (kvs-reference.md §4.8), for ACK matching, the send-ahead limit
 * and the staleness rule. A fixed ring allocated at construction. Lifecycle of the stateful objects (design.md
 * §7): start() once, close() ends it, use after close throws.
 */
export class InFlightSet {
  readonly capacity: number;
  private readonly pts: Float64Array;
  private readonly sentAt: Float64Array;
  private readonly buffered: Uint8Array;
  private readonly received: Uint8Array;
  private head = 0;
  private n = 0;
  /** Of the n, those without RECEIVED: kept as a count, since the session asks at every fragment it might send. */
  private unreceivedCount = 0;
  private started = false;
  private closed = false;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
    this.pts = new Float64Array(capacity);
    this.sentAt = new Float64Array(capacity);
    this.buffered = new Uint8Array(capacity);
    this.received = new Uint8Array(capacity);
  }

  start(): void {
    this.checkOpen();
    if (this.started) throw new RangeError('start() called twice');
    this.started = true;
  }

  close(): void {
    this.closed = true;
    this.n = 0;
    this.unreceivedCount = 0;
  }

  get count(): number {
    this.checkOpen();
    return this.n;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** A new connection: nothing is in flight on it. */
  clear(): void {
    this.checkOpen();
    this.head = 0;
    this.n = 0;
    this.unreceivedCount = 0;
  }

  /** The fragment starting at `pts` went on the wire at monotonic `now`. */
  add(pts: number, now: number): void {
    if (this.full) throw new RangeError('in-flight set full');
    const i = (this.head + this.n) % this.capacity;
    this.pts[i] = pts;
    this.sentAt[i] = now;
    this.buffered[i] = 0;
    this.received[i] = 0;
    this.n++;
    this.unreceivedCount++;
  }

  /** BUFFERING for the fragment starting at `pts` (unknown timecodes are ignored). */
  markBuffered(pts: number): void {
    this.checkOpen();
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) % this.capacity;
      if (this.pts[i] === pts) {
        this.buffered[i] = 1;
        return;
      }
    }
  }

  /** RECEIVED comes in order (kvs-reference.md §4.8): every fragment up to `pts` has all its bytes at the service. */
  markReceived(pts: number): void {
    this.checkOpen();
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) % this.capacity;
      if (this.pts[i]! <= pts && this.received[i] === 0) {
        this.received[i] = 1;
        this.unreceivedCount--;
      }
    }
  }

  /** Fragments in flight whose RECEIVED has not arrived. */
  unreceived(): number {
    this.checkOpen();
    return this.unreceivedCount;
  }

  /** Forgets fragments up to `pts` (acknowledged or dropped); returns when the one at `pts` was sent, or -1. */
  land(pts: number): number {
    this.checkOpen();
    let sentAt = -1;
    while (this.n > 0 && this.pts[this.head]! <= pts) {
      if (this.pts[this.head] === pts) sentAt = this.sentAt[this.head]!;
      if (this.received[this.head] === 0) this.unreceivedCount--;
      this.head = (this.head + 1) % this.capacity;
      this.n--;
    }
    return sentAt;
  }

  /** True when a fragment sent more than `ms` before `now` still has no BUFFERING. */
  unbufferedOlderThan(now: number, ms: number): boolean {
    this.checkOpen();
    for (let k = 0; k < this.n; k++) {
      const i = (this.head + k) % this.capacity;
      if (!this.buffered[i] && now - this.sentAt[i]! > ms) return true;
    }
    return false;
  }

  private checkOpen(): void {
    if (this.closed) throw new RangeError('the InFlightSet is closed');
  }
}
