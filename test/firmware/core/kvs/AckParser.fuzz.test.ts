// Deterministic fuzzing of the ACK parser.
// 1. Generated valid streams (random key order, whitespace, escapes, unknown keys with nested values):
//    the events must be exactly what JSON.parse makes of each object, however the stream is cut.
// 2. Thousands of mutated streams: every outcome must be events and/or FieldcamErrors through onError —
//    never another exception, never a hang — independent of how the stream was cut, and the parser must
//    take a clean ACK again after at most 2,048 bytes.
import { ERRORS } from '../../../../firmware/core/errors.ts';
import { ACK_EVENT_TYPES, ACK_LIMITS } from '../../../../firmware/core/kvs/AckParser.ts';
import { encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { assert, scaled, suite } from '../../../harness/index.ts';
import { ack, err, parse, rng, type Outcome } from './ackKit.ts';

const test = suite('AckParser fuzz');

type Rng = () => number;
const pick = <T>(next: Rng, items: readonly T[]): T => items[next() % items.length]!;
const WS = [' ', '\n', '\r\n', '\t', '  ', ''];

function ws(next: Rng): string {
  return next() % 3 === 0 ? pick(next, WS) : '';
}

/** A JSON string literal for `s`, with some characters written as \u escapes. */
function quote(next: Rng, s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
    else if (next() % 8 === 0 && ch.length === 1) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

const WORDS = ['', 'a', 'x y', '}{', '][', '"', '\\', 'é', '日本', '\n', '{"EventType":"IDLE"}', 'true', '1,2'];

function value(next: Rng, depth: number): string {
  switch (next() % (depth >= 4 ? 5 : 7)) {
    case 0:
      return quote(next, pick(next, WORDS));
    case 1:
      return pick(next, ['0', '-1', '3.25', '1e9', '-2.5E-3', '12345678901234567890']);
    case 2:
      return pick(next, ['true', 'false', 'null']);
    case 3:
      return quote(next, pick(next, WORDS) + pick(next, WORDS));
    case 4:
      return String(next() % 1000);
    case 5: {
      const n = next() % 4;
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(ws(next) + value(next, depth + 1) + ws(next));
      return '[' + items.join(',') + ws(next) + ']';
    }
    default: {
      const n = next() % 4;
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(`${ws(next)}${quote(next, pick(next, WORDS) + i)}${ws(next)}:${ws(next)}${value(next, depth + 1)}${ws(next)}`);
      return '{' + items.join(',') + ws(next) + '}';
    }
  }
}

/** One valid ACK object's text, with unknown keys mixed in. */
function validAck(next: Rng): string {
  const type = pick(next, ACK_EVENT_TYPES);
  const members: string[] = [`${quote(next, 'EventType')}${ws(next)}:${ws(next)}${quote(next, type)}`];
  const timecode = next() % 5 === 0 ? 2 ** 53 - (next() % 3) : next() * 1024 + (next() % 1024);
  if (type !== 'IDLE' || next() % 2 === 0) members.push(`"FragmentTimecode"${ws(next)}:${ws(next)}${timecode}`);
  if (type !== 'IDLE' && next() % 4 !== 0) {
    let digits = String(1 + (next() % 9));
    const length = next() % 5 === 0 ? ACK_LIMITS.maxFragmentNumberChars : 1 + (next() % 60);
    while (digits.length < length) digits += String(next() % 10);
    members.push(`${quote(next, 'FragmentNumber')}:${ws(next)}${quote(next, digits)}`);
  }
  if (type === 'ERROR') {
    const id = pick(next, [4000, 4001, 4002, 4004, 4500, 4507, 5000, 5001, 7000]);
    members.push(`"ErrorId":${ws(next)}${next() % 2 ? String(id) : quote(next, String(id))}`);
  }
  const unknown = next() % 4;
  for (let i = 0; i < unknown; i++) {
    members.push(`${quote(next, pick(next, ['Extra', 'ServerTimestamp', 'eventType', 'X' + i, 'Ünï']) + i)}${ws(next)}:${ws(next)}${value(next, 1)}`);
  }
  if (next() % 16 === 0) members.push(`"Pad":"${'p'.repeat(850 + (next() % 250))}"`); // near and over the segment limit
  for (let i = members.length - 1; i > 0; i--) {
    // shuffle: key order is free
    const j = next() % (i + 1);
    [members[i], members[j]] = [members[j]!, members[i]!];
  }
  return '{' + ws(next) + members.map((m) => m + ws(next)).join(',' + ws(next)) + '}';
}

/** What a correct parser reports for one valid object, from JSON.parse (an independent reading). */
function expectedFor(objectText: string): Outcome {
  if (encodeUtf8(objectText).length > ACK_LIMITS.maxSegmentChars) return err('ACK_SEGMENT_TOO_LONG');
  const o = JSON.parse(objectText) as Record<string, unknown>;
  const errorId = o['ErrorId'];
  return ack(
    o['EventType'] as string,
    (o['FragmentTimecode'] as number | undefined) ?? -1,
    (o['FragmentNumber'] as string | undefined) ?? '',
    typeof errorId === 'string' ? Number(errorId) : ((errorId as number | undefined) ?? -1),
  );
}

function randomCuts(next: Rng, length: number): number[] {
  const cuts: number[] = [];
  let at = 0;
  while (at < length) {
    at += 1 + (next() % (next() % 2 ? 8 : 200));
    if (at < length) cuts.push(at);
  }
  return cuts;
}

test('generated valid streams give exactly the events JSON.parse reads, however they are cut', () => {
  const next = rng(0xacc0_1ade);
  let acks = 0;
  let tooLong = 0;
  for (let iteration = 0, n = scaled(400); iteration < n; iteration++) {
    const objects: string[] = [];
    const count = 1 + (next() % 6);
    for (let i = 0; i < count; i++) objects.push(validAck(next));
    const stream = objects.map((o) => ws(next) + o + ws(next)).join('');
    const expected = objects.map(expectedFor);
    for (const e of expected) 'ack' in e ? acks++ : tooLong++;
    const bytes = encodeUtf8(stream);
    assert.equal(parse(bytes), expected, `iteration ${iteration}: ${stream}`);
    assert.equal(parse(bytes, randomCuts(next, bytes.length)), expected, `iteration ${iteration} (cut)`);
  }
  assert.ok(acks > scaled(1000), `acks: ${acks}`);
  assert.ok(tooLong > 0, `objects over the segment limit: ${tooLong}`);
});

const ACK_CODES = new Set(Object.keys(ERRORS).filter((code) => code.startsWith('ACK_')));
const INTERESTING = [0x7b, 0x7d, 0x5b, 0x5d, 0x22, 0x3a, 0x2c, 0x5c, 0x75, 0x20, 0x0a, 0x30, 0x39, 0x2d, 0x2e, 0x65, 0x74, 0x6e, 0x00, 0xff];

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mutate(next: Rng, base: Uint8Array): Uint8Array {
  let bytes: Uint8Array = base.slice();
  const edits = 1 + (next() % 5);
  for (let e = 0; e < edits && bytes.length > 0; e++) {
    const at = next() % bytes.length;
    const byte = next() % 2 ? INTERESTING[next() % INTERESTING.length]! : next() & 0xff;
    switch (next() % 5) {
      case 0:
        bytes = concat([bytes.subarray(0, at), Uint8Array.of(byte), bytes.subarray(at)]);
        break;
      case 1:
        bytes = concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + (next() % 24)))]);
        break;
      case 2:
        bytes = concat([bytes.subarray(0, at), bytes.subarray(at, at + 1 + (next() % 80)), bytes.subarray(at)]);
        break;
      default:
        bytes[at] = byte;
    }
  }
  if (next() % 5 === 0) bytes = bytes.subarray(0, next() % (bytes.length + 1));
  return bytes;
}

function checkOutcomes(outcomes: readonly Outcome[], label: string): void {
  for (const o of outcomes) {
    if ('error' in o) {
      assert.ok(ACK_CODES.has(o.error), `${label}: unexpected code ${o.error}`);
      continue;
    }
    assert.ok((ACK_EVENT_TYPES as readonly string[]).includes(o.ack), `${label}: event type ${o.ack}`);
    assert.ok(Number.isInteger(o.timecode) && o.timecode >= -1 && o.timecode <= ACK_LIMITS.maxInteger, `${label}: timecode ${o.timecode}`);
    assert.ok(Number.isInteger(o.errorId) && o.errorId >= -1 && o.errorId <= ACK_LIMITS.maxInteger, `${label}: errorId ${o.errorId}`);
    assert.ok(/^[0-9]{0,128}$/.test(o.number), `${label}: fragment number ${o.number}`);
    if (o.ack === 'ERROR') assert.ok(o.errorId >= 0, `${label}: ERROR without ErrorId`);
    if (o.ack === 'BUFFERING' || o.ack === 'RECEIVED' || o.ack === 'PERSISTED') assert.ok(o.timecode >= 0, `${label}: no timecode`);
  }
}

const MUTATIONS = 5000;
const CLEAN = encodeUtf8('{"EventType":"IDLE"}');
const RECOVERY = encodeUtf8(' '.repeat(2 * ACK_LIMITS.maxSegmentChars));

test(`${MUTATIONS} mutated streams: only events and ACK_* errors, cut-independent, recovering within 2 KiB`, () => {
  const next = rng(0xbad_acc5);
  let events = 0;
  let errors = 0;
  const mutations = scaled(MUTATIONS); // the name keeps the full count: Node and native XS run it all
  for (let iteration = 0; iteration < mutations; iteration++) {
    const objects: string[] = [];
    for (let i = 0, n = 1 + (next() % 4); i < n; i++) objects.push(validAck(next));
    const bytes = mutate(next, encodeUtf8(objects.join(pick(next, ['', '\n', ' ']))));
    const label = `iteration ${iteration}`;
    let whole: Outcome[] = [];
    let cut: Outcome[] = [];
    let recovered: Outcome[] = [];
    try {
      whole = parse(bytes);
      cut = parse(bytes, randomCuts(next, bytes.length));
      // 2 KiB of recovery input per case would dominate the run time inside XS: every 8th case.
      if (iteration % 8 === 0) recovered = parse(concat([bytes, RECOVERY, CLEAN]));
    } catch (e) {
      assert.ok(false, `${label} threw ${String(e)}`);
    }
    checkOutcomes(whole, label);
    assert.equal(cut, whole, `${label}: the outcome depends on how the stream was cut`);
    if (iteration % 8 === 0) {
      assert.equal(recovered.slice(0, whole.length), whole, label);
      assert.equal(recovered[recovered.length - 1], ack('IDLE'), `${label}: no recovery`);
    }
    for (const o of whole) 'error' in o ? errors++ : events++;
  }
  // The mutations exercise both sides.
  assert.ok(events > mutations / 2 && errors > mutations / 2, `events ${events}, errors ${errors}`);
});

test.run();
