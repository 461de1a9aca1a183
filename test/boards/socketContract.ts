// The Socket port's contract (firmware/io/Socket.ts) as scenarios written against the port alone, so the same
// code runs on every adapter: Node's (nodeSocket, in test/boards/socketContract.test.ts) and the XS board's
// (xsSocket inside fieldcam-runtime, through test/boards/xs/socketContractMain.ts). Each scenario prints
// transcript lines; every adapter must print exactly SOCKET_CONTRACT_TRANSCRIPT. Pure ECMAScript.
import type { Socket, SocketFactory } from '../../firmware/io/Socket.ts';
import type { TimerPort } from '../../firmware/io/Timer.ts';

/** The peers the runner provides on 127.0.0.1. */
export interface ContractPeers {
  /** Echoes what it receives and ends the connection once it has echoed 4 bytes. */
  readonly echo: number;
  /** Sends "hello" every 10 ms until the client goes away. */
  readonly chatter: number;
  /** Nothing listens here. */
  readonly refused: number;
}

export const SOCKET_CONTRACT_TRANSCRIPT: readonly string[] = Object.freeze([
  'gather: read before any data returns 0',
  'gather: ping',
  'gather: closed by the peer without an error, once',
  'close: no callback after close()',
  'close: write after close throws',
  'close: a second close() is a no-op',
  'refused: onClose(error) once, never connected',
]);

function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A gather write of `parts` (each part one range, in order). */
function ranges(parts: readonly Uint8Array[]) {
  const offsets = new Uint32Array(parts.length);
  const lengths = new Uint32Array(parts.length);
  let byteLength = 0;
  for (let i = 0; i < parts.length; i++) {
    lengths[i] = parts[i]!.length;
    byteLength += parts[i]!.length;
  }
  return { count: parts.length, byteLength, sources: parts, offsets, lengths };
}

type Step = (next: () => void) => void;

/** Runs every scenario in order, printing the transcript, then calls `done`. */
export function runSocketContract(sockets: SocketFactory, timers: TimerPort, peers: ContractPeers, print: (line: string) => void, done: () => void): void {
  const buf = new Uint8Array(64);

  const gather: Step = (next) => {
    let got = '';
    let closes = 0;
    let error: unknown;
    const socket: Socket = sockets({
      host: '127.0.0.1',
      port: peers.echo,
      onConnect() {
        if (socket.read(buf, 0, buf.length) === 0) print('gather: read before any data returns 0');
        const word = bytes('ping');
        socket.write(ranges([word.subarray(0, 1), word.subarray(1, 3), word.subarray(3)]));
      },
      onReadable() {
        for (let n = socket.read(buf, 0, buf.length); n > 0; n = socket.read(buf, 0, buf.length)) {
          for (let i = 0; i < n; i++) got += String.fromCharCode(buf[i]!);
        }
      },
      onWritable() {},
      onClose(e) {
        closes++;
        error = e;
        if (closes > 1) return;
        timers.set(50, () => {
          // a second onClose would arrive by now
          print(`gather: ${got}`);
          if (closes === 1 && error === undefined) print('gather: closed by the peer without an error, once');
          else print(`gather: ${closes} closes, error ${String(error)}`);
          socket.close();
          next();
        });
      },
    });
  };

  const close: Step = (next) => {
    let after = 0;
    let closed = false;
    const socket: Socket = sockets({
      host: '127.0.0.1',
      port: peers.chatter,
      onConnect() {
        timers.set(30, () => {
          // some chatter is queued or arriving now
          socket.close();
          closed = true;
          timers.set(100, () => {
            print(after === 0 ? 'close: no callback after close()' : `close: ${after} callbacks after close()`);
            try {
              socket.write(ranges([bytes('x')]));
              print('close: write after close did not throw');
            } catch {
              print('close: write after close throws');
            }
            try {
              socket.close();
              print('close: a second close() is a no-op');
            } catch (e) {
              print(`close: a second close() threw ${String(e)}`);
            }
            next();
          });
        });
      },
      onReadable() {
        if (closed) after++;
        else socket.read(buf, 0, buf.length);
      },
      onWritable() {
        if (closed) after++;
      },
      onClose() {
        if (closed) after++;
      },
    });
  };

  const refused: Step = (next) => {
    let closes = 0;
    let connects = 0;
    let error: unknown;
    sockets({
      host: '127.0.0.1',
      port: peers.refused,
      onConnect() {
        connects++;
      },
      onReadable() {},
      onWritable() {},
      onClose(e) {
        closes++;
        error = e;
        if (closes > 1) return;
        timers.set(50, () => {
          const ok = closes === 1 && connects === 0 && error instanceof Error;
          print(ok ? 'refused: onClose(error) once, never connected' : `refused: ${closes} closes, ${connects} connects, error ${String(error)}`);
          next();
        });
      },
    });
  };

  const steps = [gather, close, refused];
  let at = 0;
  const next = (): void => {
    const step = steps[at++];
    if (step) step(next);
    else done();
  };
  next();
}
