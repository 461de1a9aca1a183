// CBOR for the control channel on the host, with cbor-x (the interoperability oracle of the device's codec).
// Documents are plain maps with text keys (docs/control-channel.md §Payloads): records (cbor-x's tag 105
// extension) are off, so the device's strict decoder, which accepts no tag but 64, reads what we write.
import { Decoder, Encoder } from 'cbor-x';

/**
 * Largest payload the host decodes. Device documents are small (a telemetry record is a few hundred bytes);
 * AWS IoT caps a message at 128 KiB. A bigger or malformed payload is ignored, never fatal to a watch.
 */
export const MAX_CONTROL_PAYLOAD_BYTES = 64 * 1024;

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, variableMapSize: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export type ControlDocument = Record<string, unknown>;

export function encodeControl(document: ControlDocument): Uint8Array {
  return encoder.encode(document);
}

/** The map a payload holds, or undefined when it is too large, not CBOR, or not a map with text keys. */
export function decodeControl(payload: Uint8Array): ControlDocument | undefined {
  if (payload.byteLength === 0 || payload.byteLength > MAX_CONTROL_PAYLOAD_BYTES) return undefined;
  // A definite-length map (major type 5, RFC 8949 §3.1) or nothing: cbor-x is lenient and reads e.g. a lone
  // "break" byte (0xff) as an empty object, which is not a document.
  if (payload[0]! < 0xa0 || payload[0]! > 0xbb) return undefined;
  let value: unknown;
  try {
    value = decoder.decode(payload);
  } catch {
    // Malformed CBOR, or nesting deeper than the stack (cbor-x throws RangeError): not a document.
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || value instanceof Map) return undefined;
  return value as ControlDocument;
}
