import { decodeCbor } from '../cbor/decodeCbor.ts';
import { FieldcamError, isFieldcamError } from '../errors.ts';
import { CONTROL_LIMITS } from './controlLimits.ts';

export const COMMAND_NAMES = Object.freeze(['start', 'stop', 'set', 'tag', 'event', 'status', 'reload-credentials', 'restart'] as const);
export type CommandName = (typeof COMMAND_NAMES)[number];

export interface Command {
  readonly id: string;
  readonly name: CommandName;
  readonly args: Record<string, unknown>;
}

/** A command, or why it was refused: `id` is set when it could be read, so the result can echo it. */
export type DecodedCommand =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly id: string | undefined; readonly error: FieldcamError };

type Json = Record<string, unknown>;

function isMap(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The top-level map of a control document (command or desired), or a CONTROL_PAYLOAD_INVALID error. */
export function decodeControlMap(payload: Uint8Array, what: string): Json | FieldcamError {
  if (payload.length > CONTROL_LIMITS.maxPayloadBytes) {
    return new FieldcamError('CONTROL_PAYLOAD_INVALID', `the ${what} is ${payload.length} bytes; at most ${CONTROL_LIMITS.maxPayloadBytes} allowed`);
  }
  let raw: unknown;
  try {
    raw = decodeCbor(payload, 0, payload.length, CONTROL_LIMITS.decode);
  } catch (err) {
    const detail = isFieldcamError(err) ? `${err.code}: ${err.message}` : String(err);
    return new FieldcamError('CONTROL_PAYLOAD_INVALID', `the ${what} is not valid CBOR (${detail.slice(0, 160)})`);
  }
  return isMap(raw) ? raw : new FieldcamError('CONTROL_PAYLOAD_INVALID', `the ${what} is not a CBOR map`);
}

/**
 * Reads a command document (docs/control-channel.md, "Command"): `{ id, name, args? }`. Never throws: anything
 * malformed comes back as a named error — CONTROL_PAYLOAD_INVALID (size, CBOR, shape, id), CONTROL_UNKNOWN_COMMAND,
 * CONTROL_ARGUMENT_INVALID (`args` not a map). Unknown top-level keys are ignored (forward compatibility).
 */
export function decodeCommand(payload: Uint8Array): DecodedCommand {
  const map = decodeControlMap(payload, 'command');
  if (map instanceof FieldcamError) return { ok: false, id: undefined, error: map };
  const id = map.id;
  if (typeof id !== 'string' || id.length < 1 || id.length > CONTROL_LIMITS.idMaxChars) {
    return {
      ok: false,
      id: undefined,
      error: new FieldcamError('CONTROL_PAYLOAD_INVALID', `command id must be text of 1-${CONTROL_LIMITS.idMaxChars} characters`),
    };
  }
  const name = map.name;
  if (typeof name !== 'string') return { ok: false, id, error: new FieldcamError('CONTROL_PAYLOAD_INVALID', 'command name must be text') };
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) {
    return {
      ok: false,
      id,
      error: new FieldcamError(
        'CONTROL_UNKNOWN_COMMAND',
        `unknown command "${name.slice(0, CONTROL_LIMITS.nameMaxChars)}" (known: ${COMMAND_NAMES.join(', ')})`,
      ),
    };
  }
  const args = map.args === undefined ? {} : map.args;
  if (!isMap(args)) return { ok: false, id, error: new FieldcamError('CONTROL_ARGUMENT_INVALID', `args of ${name} must be a map`) };
  return { ok: true, command: { id, name: name as CommandName, args } };
}
