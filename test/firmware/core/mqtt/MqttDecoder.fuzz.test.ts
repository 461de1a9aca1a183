// Deterministic fuzzing: streams of broker packets, mutated and truncated. Every outcome must be records
// and/or a named MQTT error — never another exception or a hang — the same whatever the split.
import { assert, scaled, suite } from '../../../harness/index.ts';
import { concatBytes, xorshift32 } from '../../../harness/support.ts';
import { decodeAll, hex, MQTT_DECODE_CODES, type DecodeOutcome } from './mqttKit.ts';

const test = suite('MqttDecoder fuzz');

const PACKETS = [
  '20020000',
  '20020100',
  '20020005',
  '3007 0003612f62 6869',
  '3b08 0003612f62 000a ff',
  '3104 0002c3a9',
  '40020007',
  '9005 0001 01 80 02',
  'b002ffff',
  'd000',
  '32 0e 0012 6669656c6463616d2f63616d2d312f636d64 0001',
  '30 8101 0001 74' + '00'.repeat(126),
].map(hex);
const INTERESTING = [0x00, 0x01, 0x02, 0x20, 0x23, 0x2b, 0x30, 0x32, 0x34, 0x36, 0x3b, 0x40, 0x7f, 0x80, 0x90, 0xb0, 0xc0, 0xd0, 0xff];

function stream(next: () => number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0, n = 1 + (next() % 6); i < n; i++) parts.push(PACKETS[next() % PACKETS.length]!);
  let b = concatBytes(parts);
  for (let e = 0, edits = next() % 4; e < edits; e++) {
    const at = next() % (b.length + 1);
    const value = next() % 2 ? INTERESTING[next() % INTERESTING.length]! : next() & 0xff;
    switch (next() % 4) {
      case 0:
        b = concatBytes([b.subarray(0, at), [value], b.subarray(at)]);
        break;
      case 1:
        b = concatBytes([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + (next() % 6)))]);
        break;
      default:
        if (at < b.length) b[at] = value;
    }
  }
  if (next() % 4 === 0) b = b.subarray(0, next() % (b.length + 1));
  return b;
}

function check(r: DecodeOutcome, label: string): void {
  if (r.foreign !== undefined) throw new Error(`${label}: threw ${String((r.foreign as Error)?.stack ?? r.foreign)}`);
  if (r.code !== undefined) assert.ok(MQTT_DECODE_CODES.includes(r.code), `${label}: unexpected ${r.code}`);
}

test('4000 mutated packet streams end in records or a named error, the same for any split', () => {
  const next = xorshift32(0x4d515454);
  const codes = new Set<string>();
  let clean = 0;
  for (let i = 0, n = scaled(4000); i < n; i++) {
    const input = stream(next);
    const max = i % 3 === 0 ? 64 : undefined;
    const whole = decodeAll(input, [], max);
    const label = `stream ${i}`;
    check(whole, label);
    if (whole.code) codes.add(whole.code);
    else clean++;
    const cuts: number[] = [];
    for (let at = 0; at < input.length; at += 1 + (next() % 7)) cuts.push(at);
    const split = decodeAll(input, cuts, max);
    check(split, label);
    assert.is(split.code, whole.code, `${label}: error differs between splits`);
    assert.equal(split.packets, whole.packets, `${label}: records differ between splits`);
    assert.is(split.pending, whole.pending, label);
  }
  for (const code of MQTT_DECODE_CODES) assert.ok(codes.has(code), `no ${code} among ${[...codes].join(', ')}`);
  assert.ok(clean > 0, 'some streams decode cleanly');
});

test('random bytes end in records or a named error', () => {
  const next = xorshift32(0x51545401);
  const b = new Uint8Array(48);
  for (let i = 0, n = scaled(4000); i < n; i++) {
    const length = next() % b.length;
    for (let k = 0; k < length; k++) b[k] = next() & 0xff;
    check(decodeAll(b.subarray(0, length), [next() % (length + 1)], 1 + (next() % 64) + 1), `input ${i}`);
  }
});

test.run();
