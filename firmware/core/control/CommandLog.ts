import { CONTROL_LIMITS } from './controlLimits.ts';

/** A command result as published on `fieldcam/<thing>/result` (docs/control-channel.md). */
export interface CommandResult {
  readonly id: string;
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly data?: Record<string, unknown>;
}

/**
 * The ids of the last `CONTROL_LIMITS.commandLog` commands and their results, in a fixed ring. QoS 1 delivers at
 * least once and a persistent session re-delivers after a reconnect, so a command id seen here is never
 * executed again: its stored result is published again instead (undefined while it still runs). The ring is
 * kept in the state file, so a `restart` re-delivered after the restart does not restart the device twice.
 */
export class CommandLog {
  private readonly ids: (string | undefined)[];
  private readonly results: (CommandResult | undefined)[];
  private next = 0;

  constructor(capacity: number = CONTROL_LIMITS.commandLog) {
    this.ids = new Array<string | undefined>(capacity).fill(undefined);
    this.results = new Array<CommandResult | undefined>(capacity).fill(undefined);
  }

  has(id: string): boolean {
    return this.ids.indexOf(id) >= 0;
  }

  /** The stored result of `id`; undefined when unknown or still running. */
  result(id: string): CommandResult | undefined {
    const i = this.ids.indexOf(id);
    return i < 0 ? undefined : this.results[i];
  }

  /** Remembers a command that starts running (forgetting the oldest). */
  begin(id: string): void {
    this.ids[this.next] = id;
    this.results[this.next] = undefined;
    this.next = (this.next + 1) % this.ids.length;
  }

  finish(result: CommandResult): void {
    const i = this.ids.indexOf(result.id);
    if (i >= 0) this.results[i] = result;
  }

  /** Finished entries, oldest first (for the state file). */
  entries(): CommandResult[] {
    const out: CommandResult[] = [];
    for (let k = 0; k < this.ids.length; k++) {
      const r = this.results[(this.next + k) % this.ids.length];
      if (r) out.push(r);
    }
    return out;
  }
}
