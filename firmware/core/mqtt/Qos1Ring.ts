// The outgoing QoS 1 messages of one MQTT client: a ring of whole PUBLISH packets, allocated at construction,
// each kept until its PUBACK and re-sent with DUP after a reconnect ([MQTT-4.4.0-1], §3.3.1.1).
import { PUBLISH_FLAG } from './mqttConstants.ts';

const SENT_NOW = 1; // written on the current connection
const SENT_EVER = 2; // written on some connection: a re-send is a re-delivery

/**
 * Slots in order from the oldest: `count` are in use, the first of them at `head`. A packet is written in place
 * into `free()`, then `commit`ted with its packet id; `release(id)` frees its slot at PUBACK, and the head
 * moves past every freed slot at the front (a PUBACK out of order waits for the ones before it).
 */
export class Qos1Ring {
  private readonly slots: Uint8Array[] = [];
  private readonly lengths: Uint32Array;
  private readonly ids: Uint16Array;
  private readonly flags: Uint8Array;
  private head = 0;
  count = 0;

  constructor(capacity: number, packetBytes: number) {
    for (let i = 0; i < capacity; i++) this.slots.push(new Uint8Array(packetBytes));
    this.lengths = new Uint32Array(capacity);
    this.ids = new Uint16Array(capacity);
    this.flags = new Uint8Array(capacity);
  }

  get full(): boolean {
    return this.count === this.slots.length;
  }

  /** The buffer the next packet is written into (only valid while not `full`). */
  free(): Uint8Array {
    return this.slots[(this.head + this.count) % this.slots.length]!;
  }

  /** The packet written into `free()` is queued: `length` bytes, packet id `id`, not sent yet. */
  commit(id: number, length: number): void {
    const slot = (this.head + this.count) % this.slots.length;
    this.lengths[slot] = length;
    this.ids[slot] = id;
    this.flags[slot] = 0;
    this.count++;
  }

  /** A packet id some queued packet holds. */
  holds(id: number): boolean {
    for (let i = 0; i < this.count; i++) if (this.ids[(this.head + i) % this.slots.length] === id) return true;
    return false;
  }

  /** A new connection: every queued packet is to be sent again. */
  unsend(): void {
    for (let i = 0; i < this.count; i++) this.flags[(this.head + i) % this.slots.length]! &= ~SENT_NOW;
  }

  /**
   * The i-th queued packet (from the oldest) when it still has to go out on this connection, marked sent (with
   * DUP set in place when it went out before); -1 when it was sent already or acknowledged. Its bytes are then
   * `buffer(slot)[0..length(slot))`.
   */
  takeUnsent(i: number): number {
    const slot = (this.head + i) % this.slots.length;
    const flags = this.flags[slot]!;
    if (this.ids[slot] === 0 || flags & SENT_NOW) return -1;
    if (flags & SENT_EVER) this.slots[slot]![0]! |= PUBLISH_FLAG.DUP; // §3.3.1.1: a re-delivery
    this.flags[slot] = SENT_NOW | SENT_EVER;
    return slot;
  }

  buffer(slot: number): Uint8Array {
    return this.slots[slot]!;
  }

  length(slot: number): number {
    return this.lengths[slot]!;
  }

  /** PUBACK for `id`: its slot is free. True when slots at the front were freed (there is room again). */
  release(id: number): boolean {
    const size = this.slots.length;
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % size;
      if (this.ids[slot] === id) {
        this.ids[slot] = 0;
        break;
      }
    }
    const before = this.count;
    while (this.count > 0 && this.ids[this.head] === 0) {
      this.head = (this.head + 1) % size;
      this.count--;
    }
    return this.count < before;
  }
}
