// Deterministic fuzzing of the CBOR codec: random documents round-trip; mutated and truncated encodings end
// in a value or a named FieldcamError — never another exception or a hang.
import { decodeCbor } from '../../../../firmware/core/cbor/decodeCbor.ts';
import { encodeCbor } from '../../../../firmware/core/cbor/encodeCbor.ts';
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { assert, scaled, suite } from '../../../harness/index.ts';
import { xorshift32 } from '../../../harness/support.ts';
import { CBOR_CODES, randomValue } from './cborKit.ts';

const test = suite('CBOR codec fuzz');

/** The decoded form of a value: -0 becomes 0, undefined array holes stay undefined. */
function normalised(value: unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (Array.isArray(value)) return value.map(normalised);
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) out[k] = normalised((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

test('3000 random documents round-trip through encodeCbor and decodeCbor', () => {
  const next = xorshift32(0xc0b0_0001);
  const out = new Uint8Array(1 << 18);
  for (let i = 0, n = scaled(3000); i < n; i++) {
    const value = randomValue(next, 4);
    const length = encodeCbor(value, out);
    assert.equal(decodeCbor(out, 0, length, { maxItems: 1 << 16 }), normalised(value), `document ${i}`);
  }
});

const INTERESTING = [
  0x00, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x40, 0x5f, 0x60, 0x7f, 0x80, 0x9f, 0xa0, 0xb9, 0xbf, 0xc0, 0xd8, 0xf4, 0xf8, 0xf9, 0xfb, 0xff,
];

test('5000 mutated encodings decode to a value or a named CBOR error', () => {
  const next = xorshift32(0xc0b0_0002);
  const out = new Uint8Array(1 << 16);
  const seen = new Set<string>();
  for (let i = 0, n = scaled(5000); i < n; i++) {
    const length = encodeCbor(randomValue(next, 3), out);
    let b = out.slice(0, length);
    const edits = 1 + (next() % 3);
    for (let e = 0; e < edits; e++) {
      const at = next() % (b.length + 1);
      const value = next() % 2 ? INTERESTING[next() % INTERESTING.length]! : next() & 0xff;
      if (next() % 4 === 0) {
        const grown = new Uint8Array(b.length + 1);
        grown.set(b.subarray(0, at));
        grown[at] = value;
        grown.set(b.subarray(at), at + 1);
        b = grown;
      } else if (at < b.length) b[at] = value;
    }
    if (next() % 4 === 0) b = b.subarray(0, next() % (b.length + 1));
    try {
      decodeCbor(b, 0, b.length, { maxItems: 512, maxStringBytes: 1024, maxDepth: 8 });
      seen.add('value');
    } catch (err) {
      if (!(err instanceof FieldcamError)) throw new Error(`mutation ${i}: threw ${String((err as Error)?.stack ?? err)}`);
      assert.ok(CBOR_CODES.includes(err.code), `mutation ${i}: unexpected ${err.code}`);
      seen.add(err.code);
    }
  }
  // The mutations reach the main refusals, not just one.
  for (const code of ['value', 'CBOR_TRUNCATED', 'CBOR_TRAILING_BYTES', 'CBOR_MALFORMED', 'CBOR_UNSUPPORTED']) {
    assert.ok(seen.has(code), `no outcome ${code} among ${[...seen].join(', ')}`);
  }
});

test('random bytes decode to a value or a named CBOR error', () => {
  const next = xorshift32(0xc0b0_0003);
  const b = new Uint8Array(64);
  for (let i = 0, n = scaled(5000); i < n; i++) {
    const length = 1 + (next() % b.length);
    for (let k = 0; k < length; k++) b[k] = next() & 0xff;
    try {
      decodeCbor(b, 0, length);
    } catch (err) {
      if (!(err instanceof FieldcamError)) throw new Error(`input ${i}: threw ${String((err as Error)?.stack ?? err)}`);
      assert.ok(CBOR_CODES.includes(err.code), `input ${i}: unexpected ${err.code}`);
    }
  }
});

test.run();
