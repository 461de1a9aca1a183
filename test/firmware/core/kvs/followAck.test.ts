// The ACK framing walk (AckScanPort.followAck): the board's (firmware/runtime/ack.c inside XS, natively and under
// qemu-arm) and the TypeScript one (followAck.ts, the Node board's) against a byte-at-a-time reference written from the
// contract, from thousands of random states over ACK text and noise, every range and budget: the same stop, the same
// state, the same scratch. Then AckParser with the walk against AckParser with the reference as its port, on mutated
// streams cut anywhere: the same events and errors.
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

test.run();
