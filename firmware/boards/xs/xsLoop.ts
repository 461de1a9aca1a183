import { EVENT, host } from './native.ts';

/** What a socket adapter receives from the loop (xsSocket.ts). */
export interface SocketEvents {
  connected(): void;
  readable(count: number): void;
  writable(count: number): void;
  closed(error: string | undefined): void;
}

// The host's one dispatcher routes events by handle into these tables. Registration and lookup allocate
// nothing per event; each table holds only live resources (entries are deleted when they fire or close).
const timers = new Map<number, () => void>();
const inputs = new Map<number, () => void>();
const sockets = new Map<number, SocketEvents>();
let signalHandler: ((name: string) => void) | undefined;
let installed = false;

function dispatch(event: number, handle: number, value: number | string | undefined): void {
  switch (event) {
    case EVENT.TIMER: {
      const callback = timers.get(handle);
      if (!callback) return; // cleared after the host queued it
      timers.delete(handle);
      callback();
      return;
    }
    case EVENT.INPUT_READABLE: {
      const callback = inputs.get(handle);
      if (!callback) return;
      inputs.delete(handle); // one-shot, as the host's watch
      callback();
      return;
    }
    case EVENT.SIGNAL:
      signalHandler?.(typeof value === 'string' ? value : `signal ${handle}`);
      return;
    default: {
      const socket = sockets.get(handle);
      if (!socket) return;
      if (event === EVENT.SOCKET_CONNECT) socket.connected();
      else if (event === EVENT.SOCKET_READABLE) socket.readable(value as number);
      else if (event === EVENT.SOCKET_WRITABLE) socket.writable(value as number);
      else if (event === EVENT.SOCKET_CLOSE) socket.closed(value as string | undefined);
    }
  }
}

/** Installs the dispatcher once; every adapter calls this before it asks the host for events. */
function ensureInstalled(): void {
  if (installed) return;
  host().setDispatcher(dispatch);
  installed = true;
}

export const xsLoop = Object.freeze({
  addTimer(ms: number, callback: () => void): number {
    ensureInstalled();
    const id = host().setTimer(ms);
    timers.set(id, callback);
    return id;
  },
  removeTimer(id: number): void {
    if (timers.delete(id)) host().clearTimer(id);
  },
  watchInput(fd: number, callback: () => void): void {
    ensureInstalled();
    inputs.set(fd, callback);
    host().watchInput(fd);
  },
  forgetInput(fd: number): void {
    inputs.delete(fd);
  },
  addSocket(handle: number, events: SocketEvents): void {
    ensureInstalled();
    sockets.set(handle, events);
  },
  removeSocket(handle: number): void {
    sockets.delete(handle);
  },
  onSignal(handler: (name: string) => void): void {
    ensureInstalled();
    signalHandler = handler;
    host().watchSignals();
  },
});
