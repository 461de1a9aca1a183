// The device's control state file (ControlState.ts says what it holds): read once at boot, rewritten only
// when its bytes change, from one buffer allocated for the channel's life.
import { encodeCbor } from '../cbor/encodeCbor.ts';
import { isFieldcamError } from '../errors.ts';
import type { StateStore } from './ControlPorts.ts';
import { decodeControlState, EMPTY_CONTROL_STATE, stateDocument, type ControlState } from './ControlState.ts';

/** FNV-1a (32-bit) of `bytes[0, n)`: tells an unchanged state document from a changed one without keeping a copy. */
function fnv1a(bytes: Uint8Array, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}

export class ControlStateFile {
  private readonly store: StateStore;
  /**
   * The file's bytes. One buffer for the channel's life: on the ESP32 profile a fresh 32 KiB buffer per
   * command was garbage enough to make XS grow its heap a step during a burst, past the app's budget.
   */
  private readonly out: Uint8Array;
  /**
   * FNV-1a and length of the file as last read or written: an unchanged document is not written again
   * (a changed one of the same length colliding on 32 bits, ~1 in 4e9 per save, would skip one write).
   */
  private hash = 0;
  private length = -1;

  constructor(store: StateStore, bytes: number) {
    this.store = store;
    this.out = new Uint8Array(bytes);
  }

  /** The state kept across restarts (empty when there is no file); throws what the store or the decoder throws. */
  read(): ControlState {
    const bytes = this.store.read();
    if (!bytes) return EMPTY_CONTROL_STATE;
    const state = decodeControlState(bytes);
    this.hash = fnv1a(bytes, bytes.length);
    this.length = bytes.length;
    return state;
  }

  /**
   * Encodes `state` and writes it when its bytes differ from the file's. When the command log does not all fit
   * (a board with a small buffer, long messages), its oldest entries are left out of the file: they only matter
   * for a duplicate arriving after a restart, and the settings must always be kept. Throws what the encoder
   * (CBOR_BUFFER_TOO_SMALL when even the settings do not fit) or the store throws.
   */
  write(state: ControlState): void {
    const commands = state.commands;
    let n = -1;
    for (let skip = 0; n < 0; skip++) {
      try {
        n = encodeCbor(stateDocument(skip === 0 ? state : { ...state, commands: commands.slice(skip) }), this.out);
      } catch (err) {
        if (!isFieldcamError(err) || err.code !== 'CBOR_BUFFER_TOO_SMALL' || skip >= commands.length) throw err;
      }
    }
    const hash = fnv1a(this.out, n);
    if (n === this.length && hash === this.hash) return;
    this.store.write(this.out.subarray(0, n));
    this.hash = hash;
    this.length = n;
  }
}
