// Helpers of the MQTT suites (pure ECMAScript: they run inside XS too).
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { MqttDecoder } from '../../../../firmware/core/mqtt/MqttDecoder.ts';
import type { MqttInbound } from '../../../../firmware/core/mqtt/MqttInbound.ts';
export { codeOf, hex, toHex } from '../cbor/cborKit.ts';
import { toHex } from '../cbor/cborKit.ts';

export const MQTT_DECODE_CODES = ['MQTT_MALFORMED', 'MQTT_PACKET_TOO_LARGE', 'MQTT_PROTOCOL_VIOLATION'];

/** A record with its payload copied to hex, so it can be kept and compared after the callback. */
export type Kept = Record<string, unknown>;

export function keep(packet: MqttInbound): Kept {
  const out: Kept = { ...packet };
  if ('payload' in packet) out.payload = toHex(packet.payload);
  if ('returnCodes' in packet) out.returnCodes = [...packet.returnCodes];
  return out;
}

export interface DecodeOutcome {
  readonly packets: Kept[];
  readonly code: string | undefined;
  /** A throw that is not a FieldcamError (a bug), kept for the message. */
  readonly foreign: unknown;
  /** The decoder was between packets when the input ended. */
  readonly pending: boolean;
}

/** Feeds `input` cut at ascending offsets `cuts` into a fresh decoder. */
export function decodeAll(input: Uint8Array, cuts: readonly number[] = [], maxPacketBytes?: number): DecodeOutcome {
  const packets: Kept[] = [];
  const decoder = new MqttDecoder({ onPacket: (p) => packets.push(keep(p)), maxPacketBytes });
  let from = 0;
  try {
    for (const cut of [...cuts, input.length]) {
      decoder.push(input, from, cut - from);
      from = cut;
    }
    return { packets, code: undefined, foreign: undefined, pending: decoder.pending };
  } catch (err) {
    if (err instanceof FieldcamError) return { packets, code: err.code, foreign: undefined, pending: true };
    return { packets, code: undefined, foreign: err, pending: true };
  }
}

/** Bytes of an ASCII/UTF-16 string, one octet per code unit below 256 (test data only). */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
