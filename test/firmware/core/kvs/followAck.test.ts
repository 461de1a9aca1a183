// The ACK port (AckScanPort). The framing walk (followAck): the board's (firmware/runtime/ack.c inside XS, natively and under
// qemu-arm) and the TypeScript one (followAck.ts, the Node board's) against a byte-at-a-time reference written from the
// contract, from thousands of random states over ACK text and noise, every range and budget: the same stop, the same
// state, the same scratch. Then AckParser with the walk against AckParser with the reference as its port, on mutated
// streams cut anywhere: the same events and errors. The fast read of an ACK as KVS sends it (readAck, ack.c inside
// XS) against a TypeScript reference written from its contract, and AckParser with either against JSON.parse's path.
import { ACK_EVENT_TYPES } from '../../../../firmware/core/kvs/AckParser.ts';
import { ACK_WALK, followAck } from '../../../../firmware/core/kvs/followAck.ts';
import { encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import type { AckScanPort } from '../../../../firmware/io/AckScan.ts';
import { assert, boardAckScan, scaled, suite } from '../../../harness/index.ts';
import { parse, rng } from './ackKit.ts';

const test = suite('AckParser framing walk (followAck, ack.c)');

const W = ACK_WALK;

/** The contract byte by byte: no inner search, no budget arithmetic. */
function referenceFollow(bytes: Uint8Array, from: number, end: number, state: Float64Array, scratch: Uint8Array): number {
  if (!(from >= 0 && from <= end && end <= bytes.length)) throw new RangeError('range');
  const keep = state[W.KEEP] === 1;
  let length = state[W.LENGTH]!;
  let skipped = state[W.SKIPPED]!;
  let depth = state[W.DEPTH]!;
  let colons = state[W.COLONS]!;
  let plain = state[W.PLAIN] === 1;
  let inString = state[W.IN_STRING] === 1;
  let escaping = state[W.ESCAPE] === 1;
  let closed = false;
  let i = from;
  while (i < end && (keep ? length : skipped) < scratch.length) {
    const b = bytes[i++]!;
    if (keep) scratch[length++] = b;
    else skipped++;
    if (escaping) {
      escaping = false;
      continue;
    }
    if (inString) {
      if (b === 0x5c) {
        escaping = true;
        plain = false;
      } else if (b === 0x22) inString = false;
      continue;
    }
    if (b === 0x22) inString = true;
    else if (b === 0x3a) colons++;
    else if (b === 0x7b || b === 0x5b) {
      depth++;
      plain = false;
    } else if (b === 0x7d || b === 0x5d) {
      if (--depth === 0) {
        closed = true;
        break;
      }
    } else if (b === 0x2d || b === 0x2e || b === 0x65 || b === 0x45 || b === 0x2b) plain = false;
  }
  state[W.LENGTH] = length;
  state[W.SKIPPED] = skipped;
  state[W.DEPTH] = depth;
  state[W.COLONS] = colons;
  state[W.PLAIN] = plain ? 1 : 0;
  state[W.IN_STRING] = inString ? 1 : 0;
  state[W.ESCAPE] = escaping ? 1 : 0;
  state[W.CLOSED] = closed ? 1 : 0;
  return i;
}

const TEXT = encodeUtf8(
  '{"EventType":"PERSISTED","FragmentTimecode":1700000000123,"FragmentNumber":"91343852333181432392682062607743920146264001219"}\r\n' +
    '{"EventType":"ERROR","FragmentTimecode":-1.5e3,"ErrorId":"4002","x":["a\\"}",{"b":"\\\\"}],"y":"\\u0041}"}  {"EventType":"IDLE"}' +
    '{"s":"}}}{{{","t":[[[]]],"u":"\\\\\\"\\\\"}',
);

/** Bytes to walk: the ACK text with noise spliced in (quotes, backslashes, braces and anything else). */
function corpus(next: () => number): Uint8Array {
  const out = new Uint8Array(TEXT.length + 64);
  out.set(TEXT);
  const special = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x3a, 0x2d, 0x2e, 0x65, 0x45, 0x2b, 0x20];
  for (let i = TEXT.length; i < out.length; i++) out[i] = next() % 3 ? special[next() % special.length]! : next() & 0xff;
  for (let k = 0, n = next() % 12; k < n; k++) out[next() % out.length] = special[next() % special.length]!;
  return out;
}

function randomState(next: () => number, scratchBytes: number): Float64Array {
  const s = new Float64Array(W.SIZE);
  s[W.KEEP] = next() % 4 === 0 ? 0 : 1;
  s[W.LENGTH] = next() % (scratchBytes + 1);
  s[W.SKIPPED] = next() % (scratchBytes + 1);
  s[W.DEPTH] = 1 + (next() % 4);
  s[W.COLONS] = next() % 7;
  s[W.PLAIN] = next() % 2;
  s[W.IN_STRING] = next() % 2;
  s[W.ESCAPE] = s[W.IN_STRING] === 1 && next() % 4 === 0 ? 1 : 0;
  s[W.CLOSED] = next() % 2;
  return s;
}

function walks(): [string, AckScanPort['followAck']][] {
  const board = boardAckScan();
  return board
    ? [
        ['the board walk (ack.c)', board.followAck],
        ['followAck.ts', followAck],
      ]
    : [['followAck.ts', followAck]];
}

test('the walk against the byte-by-byte reference from 2,000 random states: same stop, state and scratch', () => {
  for (const [name, walk] of walks()) {
    const next = rng(0x5ca1_ab1e);
    let closed = 0;
    let budgetStops = 0;
    for (let iteration = 0, n = scaled(2000); iteration < n; iteration++) {
      const bytes = corpus(next);
      const scratchBytes = next() % 3 === 0 ? 1 + (next() % 40) : 1024;
      const from = next() % (bytes.length + 1);
      const end = from + (next() % (bytes.length - from + 1));
      const state = randomState(next, scratchBytes);
      const expectedState = state.slice();
      const scratch = new Uint8Array(scratchBytes);
      for (let i = 0; i < scratchBytes; i++) scratch[i] = next() & 0xff;
      const expectedScratch = scratch.slice();
      const label = `${name}, iteration ${iteration}: [${from}, ${end}) state ${Array.from(state).join(',')} scratch ${scratchBytes}`;
      const stop = walk(bytes, from, end, state, scratch);
      const expected = referenceFollow(bytes, from, end, expectedState, expectedScratch);
      assert.is(stop, expected, `${label}: stop`);
      assert.equal(Array.from(state), Array.from(expectedState), `${label}: state`);
      assert.equal(Array.from(scratch), Array.from(expectedScratch), `${label}: scratch`);
      if (expectedState[W.CLOSED] === 1) closed++;
      if (stop < end && expectedState[W.CLOSED] === 0) budgetStops++;
    }
    assert.ok(closed > scaled(2000) / 10, `${name}: objects closed ${closed}`);
    assert.ok(budgetStops > scaled(2000) / 20, `${name}: stops at the budget ${budgetStops}`);
  }
});

test('a range outside the bytes or reversed is refused (RangeError), the state untouched', () => {
  for (const [name, walk] of walks()) {
    const bytes = encodeUtf8('{"a":1}');
    const state = new Float64Array(W.SIZE);
    state[W.KEEP] = 1;
    state[W.DEPTH] = 1;
    const before = Array.from(state);
    const refused = (from: number, end: number) => {
      try {
        walk(bytes, from, end, state, new Uint8Array(16));
      } catch (err) {
        return err instanceof RangeError;
      }
      return false;
    };
    assert.ok(refused(3, 2), `${name}: reversed`);
    assert.ok(refused(0, bytes.length + 1), `${name}: past the end`);
    assert.equal(Array.from(state), before, name);
  }
});

test('AckParser with the walk and with the reference as its port: the same events and errors on 400 mutated streams cut anywhere', () => {
  const reference: AckScanPort = { followAck: referenceFollow };
  const next = rng(0xacce_55ed);
  const pieces = ['{"EventType":"BUFFERING","FragmentTimecode":17,"FragmentNumber":"123"}', '{"EventType":"IDLE"}', '{"a":"\\"}"}', '[', '}', 'x', ' ', '"'];
  let events = 0;
  for (let iteration = 0, n = scaled(400); iteration < n; iteration++) {
    let text = '';
    for (let k = 0, m = 1 + (next() % 8); k < m; k++) text += pieces[next() % pieces.length];
    if (next() % 8 === 0) text += `{"Pad":"${'p'.repeat(900 + (next() % 300))}"}{"EventType":"IDLE"}`;
    const bytes = encodeUtf8(text);
    for (let k = 0, edits = next() % 3; k < edits && bytes.length > 0; k++) bytes[next() % bytes.length] = next() & 0xff;
    const cuts: number[] = [];
    for (let at = 1 + (next() % 9); at < bytes.length; at += 1 + (next() % 9)) cuts.push(at);
    const expected = parse(bytes, cuts, reference);
    assert.equal(parse(bytes, cuts), expected, `iteration ${iteration}: ${text} (the runner's walk)`);
    assert.equal(parse(bytes, cuts, null), expected, `iteration ${iteration}: ${text} (followAck.ts)`);
    events += expected.length;
  }
  assert.ok(events > scaled(400), `outcomes: ${events}`);
});

const KEYS = ['EventType', 'FragmentTimecode', 'FragmentNumber', 'ErrorId'];

/** AckScanPort.readAck from its contract, as plain TypeScript with a regular expression per token. */
function referenceReadAck(scratch: Uint8Array, length: number, out: Float64Array): number {
  let text = '';
  for (let i = 0; i < length; i++) text += String.fromCharCode(scratch[i]!);
  const ws = '[ \\t\\n\\r]*';
  const member = new RegExp(`^${ws}"([^"\\\\\\x00-\\x1f]*)"${ws}:${ws}("[^"\\\\\\x00-\\x1f]*"|[0-9]+)${ws}([,}])`);
  if (text[0] !== '{') return 0;
  let rest = text.slice(1);
  const seen = new Set<string>();
  let type = -1;
  let timecode = -1;
  let errorId = -1;
  let numberAt = 0;
  let numberLength = 0;
  for (;;) {
    const m = member.exec(rest);
    if (!m) return 0;
    const [whole, key, value, end] = m as unknown as [string, string, string, string];
    if (!KEYS.includes(key) || seen.has(key)) return 0;
    seen.add(key);
    const quoted = value.startsWith('"');
    const inner = quoted ? value.slice(1, -1) : value;
    const integer = !quoted && /^(0|[1-9][0-9]{0,15})$/.test(inner) && Number(inner) < 2 ** 53;
    if (key === 'EventType') {
      type = quoted ? (ACK_EVENT_TYPES as readonly string[]).indexOf(inner) : -1;
      if (type < 0) return 0;
    } else if (key === 'FragmentNumber') {
      if (!quoted || !/^[0-9]{1,128}$/.test(inner)) return 0;
      numberAt = text.length - rest.length + whole.indexOf(value) + 1;
      numberLength = inner.length;
    } else if (key === 'FragmentTimecode') {
      if (!integer) return 0;
      timecode = Number(inner);
    } else if (quoted ? /^[0-9]{1,15}$/.test(inner) : integer) errorId = Number(inner);
    else return 0;
    rest = rest.slice(whole.length);
    if (end === '}') break;
  }
  if (rest.length !== 0 || type < 0) return 0;
  if (ACK_EVENT_TYPES[type] === 'ERROR' ? errorId < 0 : ACK_EVENT_TYPES[type] !== 'IDLE' && timecode < 0) return 0;
  out.set([type, timecode, errorId, numberAt, numberLength]);
  return 1;
}

/** Plain ACK objects: KVS's forms, then the same with members reordered, spaced, renamed, repeated, mistyped. */
function plainAcks(next: () => number): string[] {
  const number = '91343852333181432392682062622220590765191907586';
  const base = [
    `{"EventType":"BUFFERING","FragmentTimecode":1711124585823,"FragmentNumber":"${number}"}`,
    `{"EventType":"RECEIVED","FragmentTimecode":1711124585823,"FragmentNumber":"${number}"}`,
    `{"EventType":"PERSISTED","FragmentTimecode":1711124585823,"FragmentNumber":"${number}"}`,
    '{"EventType":"IDLE"}',
    `{"EventType":"ERROR","FragmentTimecode":1711124585823,"FragmentNumber":"${number}","ErrorId":4004}`,
    '{"EventType":"ERROR","ErrorId":"5000"}',
  ];
  const values = [
    '0',
    '00',
    '7',
    '9007199254740991',
    '9007199254740992',
    '12345678901234567',
    '"17"',
    '"0042"',
    '"1234567890123456"',
    'true',
    'null',
    '""',
    '"x"',
  ];
  const keys = [...KEYS, 'Extra', 'eventType', 'EventTyp'];
  const out = [...base];
  const sp = () => [' ', '', '\n', '\t', '\r\n'][next() % 5]!;
  for (let k = 0; k < 300; k++) {
    // A valid ACK in any member order and spacing, then half of them changed in one place.
    const type = ACK_EVENT_TYPES[next() % ACK_EVENT_TYPES.length]!;
    const members: [string, string][] = [['EventType', `"${type}"`]];
    if (type !== 'IDLE' || next() % 2) members.push(['FragmentTimecode', String(next() % 2 ? 1711124585823 + k : next() % 1000)]);
    if (type !== 'IDLE' && next() % 3) members.push(['FragmentNumber', `"${number.slice(0, 1 + (next() % number.length))}"`]);
    if (type === 'ERROR' || next() % 8 === 0) members.push(['ErrorId', next() % 2 ? String(4000 + (next() % 1000)) : `"${4000 + (next() % 1000)}"`]);
    if (next() % 2) {
      const at = next() % members.length;
      switch (next() % 3) {
        case 0:
          members[at]![1] = values[next() % values.length]!;
          break;
        case 1:
          members.push([keys[4 + (next() % 3)]!, values[next() % values.length]!]);
          break;
        default:
          members.push([members[at]![0], members[at]![1]]);
      }
    }
    for (let i = members.length - 1; i > 0; i--) {
      const j = next() % (i + 1);
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    out.push(`{${members.map(([key, value]) => `${sp()}"${key}"${sp()}:${sp()}${value}${sp()}`).join(',')}}`);
  }
  return out;
}

test("readAck against its TypeScript reference on KVS's ACK forms and 300 variants: the same answer and fields", () => {
  const board = boardAckScan()?.readAck;
  const next = rng(0x0ac4_5ead);
  let taken = 0;
  for (const text of plainAcks(next)) {
    const bytes = encodeUtf8(text);
    const scratch = new Uint8Array(1024);
    scratch.set(bytes);
    const expected = new Float64Array(5).fill(-7);
    const r = referenceReadAck(scratch, bytes.length, expected);
    taken += r;
    if (!board) continue;
    const got = new Float64Array(5).fill(-7);
    assert.is(board(scratch, bytes.length, got), r, text);
    assert.equal(Array.from(got), Array.from(expected), text);
  }
  assert.ok(taken >= 6 + 100, `objects the fast read takes: ${taken}`);
  assert.is(referenceReadAck(encodeUtf8('{"EventType":"IDLE"}'), 20, new Float64Array(5)), 1);
});

test('AckParser with the fast read gives what JSON.parse and AckObjectReader give, every object, cut anywhere', () => {
  const port: AckScanPort = boardAckScan() ?? { followAck, readAck: referenceReadAck };
  const taken = { n: 0 };
  const counting: AckScanPort = {
    followAck: port.followAck,
    readAck: (scratch, length, out) => {
      const r = port.readAck!(scratch, length, out);
      taken.n += r;
      return r;
    },
  };
  const next = rng(0xfa57_acc5);
  const texts = plainAcks(next);
  for (let k = 0; k < texts.length; k += 3) {
    const stream = `${texts[k]}\n${texts[k + 1] ?? ''} ${texts[k + 2] ?? ''}`;
    const cuts: number[] = [];
    for (let at = 1 + (next() % 40); at < stream.length; at += 1 + (next() % 40)) cuts.push(at);
    assert.equal(parse(stream, cuts, counting), parse(stream, cuts, null), stream);
  }
  assert.ok(taken.n >= 100, `ACKs read by the fast path: ${taken.n}`);
});

test.run();
