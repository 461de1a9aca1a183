// Command results on their way to the broker. The MQTT client keeps only a few unacknowledged messages
// (startControl's ring), and a burst of commands is answered faster than PUBACKs return: a result the client
// refuses waits here, in order, and is offered again on every tick, PUBACK and connect, so every executed
// command is answered. Bounded by the channel, which runs a command only when its result can count on a place.
import type { CommandResult } from './CommandLog.ts';

export class ResultOutbox {
  /** Publishes one result (QoS 1); false when the client has no room for it now. */
  private readonly publish: (result: CommandResult) => boolean;
  /** Results the client had no room for yet, oldest first. */
  private readonly unsent: CommandResult[] = [];

  constructor(publish: (result: CommandResult) => boolean) {
    this.publish = publish;
  }

  /** Results waiting for room. */
  get waiting(): number {
    return this.unsent.length;
  }

  /** Sends `result` now when nothing waits before it and the client takes it, else queues it behind the others. */
  send(result: CommandResult): void {
    if (this.unsent.length === 0 && this.publish(result)) return;
    this.unsent.push(result);
  }

  /** Offers the waiting results again, oldest first, while the client takes them. */
  flush(): void {
    while (this.unsent.length > 0 && this.publish(this.unsent[0]!)) this.unsent.shift();
  }
}
