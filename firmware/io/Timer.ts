/** One-shot timers. Callbacks never run after `clear`. */
export interface TimerPort {
  set(ms: number, callback: () => void): TimerHandle;
  clear(handle: TimerHandle): void;
}

export type TimerHandle = { readonly __timer: unique symbol };
