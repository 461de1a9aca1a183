// The PutMedia ACK stream parser (kvs-reference.md §4.4-4.5): events, tolerance, every error code, resync.
import { FieldcamError } from '../../../../firmware/core/errors.ts';
import { AckParser, ACK_LIMITS } from '../../../../firmware/core/kvs/AckParser.ts';
import { assert, stride, suite } from '../../../harness/index.ts';
import { ack, bytesOf, err, parse, parseBytewise, recorder } from './ackKit.ts';

const test = suite('AckParser');

const FRAGMENT_47 = '91343852333181432392682062622220590765191907586'; // 47 digits, as in [003 L5648]
const STREAM = [
  `{"EventType":"BUFFERING","FragmentTimecode":1711124585823,"FragmentNumber":"${FRAGMENT_47}"}`,
  '{"EventType":"RECEIVED","FragmentTimecode":1711124585823,"FragmentNumber":"1234567890123456789"}\n',
  '\r\n  {"EventType":"PERSISTED","FragmentTimecode":1711124585823,"FragmentNumber":"1234567890123456789"}',
  '{"EventType":"IDLE"}',
  '\t{"EventType":"ERROR","FragmentTimecode":1711124587823,"FragmentNumber":"1234567890123456790","ErrorId":4004}\n',
].join('');
const EXPECTED = [
  ack('BUFFERING', 1711124585823, FRAGMENT_47),
  ack('RECEIVED', 1711124585823, '1234567890123456789'),
  ack('PERSISTED', 1711124585823, '1234567890123456789'),
  ack('IDLE'),
  ack('ERROR', 1711124587823, '1234567890123456790', 4004),
];

test('parses the documented ACK and a multi-ACK stream', () => {
  assert.equal(parse('{"EventType":"PERSISTED","FragmentTimecode":1711124585823,"FragmentNumber":"1234567890123456789"}'), [
    ack('PERSISTED', 1711124585823, '1234567890123456789'),
  ]);
  assert.equal(parse(STREAM), EXPECTED);
});

test('every split of the stream into two and three pieces, and byte by byte, gives the same events', () => {
  const bytes = bytesOf(STREAM);
  for (let a = 0; a <= bytes.length; a++) assert.equal(parse(bytes, [a]), EXPECTED, `cut at ${a}`);
  for (let a = 0; a <= bytes.length; a += 7 * stride()) {
    for (let b = a; b <= bytes.length; b += 5) assert.equal(parse(bytes, [a, b]), EXPECTED, `cuts at ${a}, ${b}`);
  }
  assert.equal(parseBytewise(bytes), EXPECTED);
});

test('reads only the range pushed: each piece at the start of a 4 KiB read buffer whose stale rest is quotes, backslashes, braces', () => {
  // As PutMediaConnection hands over its 4 KiB read scratch: what lies past the read is a previous read's bytes.
  const bytes = bytesOf(STREAM);
  const stale = bytesOf('"\\}{"\\"');
  const buffer = new Uint8Array(4 * 1024);
  for (let a = 0; a <= bytes.length; a += 3 * stride()) {
    const r = recorder();
    for (const [from, to] of [
      [0, a],
      [a, bytes.length],
    ] as const) {
      for (let i = 0; i < buffer.length; i++) buffer[i] = stale[i % stale.length]!;
      buffer.set(bytes.subarray(from, to));
      r.parser.push(buffer, 0, to - from);
    }
    assert.equal(r.outcomes, EXPECTED, `cut at ${a}`);
  }
});

test('tolerates whitespace anywhere JSON allows it, and any key order', () => {
  assert.equal(parse(' \n\t\r{ \n"FragmentNumber" :\t"7" ,\r\n "ErrorId"\n:\n"4002" , "EventType" : "ERROR" }\n\n'), [ack('ERROR', -1, '7', 4002)]);
  assert.equal(parse('{"FragmentTimecode":0,"EventType":"RECEIVED"}'), [ack('RECEIVED', 0)]);
});

test('skips unknown keys with any JSON value, escapes and nesting included', () => {
  const unknowns = [
    '"Note":"a \\"quoted\\" }{ string with \\\\ and \\u00e9 and \\n"',
    '"N1":-12.5e+3',
    '"N2":0',
    '"N3":1E9',
    '"T":true',
    '"F":false',
    '"Z":null',
    '"O":{"a":[1,{"b":"}"},[]],"c":{}}',
    '"A":[[[[[[[["deep"]]]]]]]]',
    '"E":{}',
    '"L":[]',
    '"Ünïcödé ключ":"値"',
    '"EventTypeX":"IGNORED"',
    '"eventtype":"lowercase is another key"',
  ];
  const input = `{${unknowns.join(',')},"EventType":"PERSISTED","FragmentTimecode":42,"FragmentNumber":"9"}`;
  assert.equal(parse(input), [ack('PERSISTED', 42, '9')]);
  assert.equal(parseBytewise(input), [ack('PERSISTED', 42, '9')]);
});

test('decodes escapes in keys and known string values', () => {
  assert.equal(parse('{"\\u0045ventType":"\\u0049DLE"}'), [ack('IDLE')]);
  assert.equal(parse('{"EventType":"ERROR","ErrorId":"\\u00345\\u0030\\u0030"}'), [ack('ERROR', -1, '', 4500)]);
  assert.equal(parse('{"EventType":"RECEIVED","FragmentTimecode":1,"FragmentNumber":"\\u0031\\u0032"}'), [ack('RECEIVED', 1, '12')]);
});

test('ErrorId as a number or a digit string; IDLE and ERROR need no FragmentTimecode', () => {
  assert.equal(parse('{"EventType":"ERROR","ErrorId":5000}{"EventType":"ERROR","ErrorId":"4001"}'), [ack('ERROR', -1, '', 5000), ack('ERROR', -1, '', 4001)]);
  assert.equal(parse('{"EventType":"IDLE","FragmentTimecode":5}'), [ack('IDLE', 5)]);
  assert.equal(parse('{"EventType":"PERSISTED","FragmentTimecode":5,"ErrorId":1}'), [ack('PERSISTED', 5, '', 1)]);
});

test('integers up to 2^53 and FragmentNumbers up to 128 digits', () => {
  assert.equal(parse('{"EventType":"BUFFERING","FragmentTimecode":9007199254740992}'), [ack('BUFFERING', 2 ** 53)]);
  assert.equal(parse('{"EventType":"BUFFERING","FragmentTimecode":0009007199254740992}'), [ack('BUFFERING', 2 ** 53)]);
  assert.equal(parse('{"EventType":"BUFFERING","FragmentTimecode":9007199254740993}'), [err('ACK_VALUE_INVALID')]);
  assert.equal(parse('{"EventType":"BUFFERING","FragmentTimecode":90071992547409920}'), [err('ACK_VALUE_INVALID')]);
  const max = '9'.repeat(ACK_LIMITS.maxFragmentNumberChars);
  assert.equal(parse(`{"EventType":"RECEIVED","FragmentTimecode":1,"FragmentNumber":"${max}"}`), [ack('RECEIVED', 1, max)]);
  assert.equal(parse(`{"EventType":"RECEIVED","FragmentTimecode":1,"FragmentNumber":"${max}0"}`), [err('ACK_FRAGMENT_NUMBER_TOO_LONG')]);
});

test('hands out one reused event object', () => {
  const r = recorder();
  const bytes = bytesOf(STREAM);
  r.parser.push(bytes, 0, bytes.length);
  assert.is(r.objects.length, 5);
  for (const o of r.objects) assert.is(o, r.objects[0]);
  assert.equal(r.parser.counters, { acks: 5, errors: 0 });
});

const OK = '{"EventType":"IDLE"}';

test('reports each malformation with its own code and resumes at the next ACK', () => {
  const cases: readonly (readonly [string, string])[] = [
    // outside any object
    ['x', 'ACK_OUTSIDE_OBJECT'],
    ['[', 'ACK_OUTSIDE_OBJECT'],
    ['}', 'ACK_OUTSIDE_OBJECT'],
    [',', 'ACK_OUTSIDE_OBJECT'],
    // a key must start (PIC 0x5200004d)
    ['{EventType:"IDLE"}', 'ACK_KEY_INVALID'],
    ['{"EventType":"IDLE",}', 'ACK_KEY_INVALID'],
    ['{,"EventType":"IDLE"}', 'ACK_KEY_INVALID'],
    ['{"EventType" "IDLE"}', 'ACK_KEY_INVALID'],
    ['{"Event\u0001Type":"IDLE"}', 'ACK_KEY_INVALID'],
    ['{"Event\\xType":"IDLE"}', 'ACK_KEY_INVALID'],
    // repeated key (PIC 0x5200004e)
    ['{"EventType":"IDLE","EventType":"IDLE"}', 'ACK_DUPLICATE_KEY'],
    ['{"EventType":"ERROR","ErrorId":1,"\\u0045rrorId":2}', 'ACK_DUPLICATE_KEY'],
    // value start / type (PIC 0x5200004f)
    ['{"EventType":IDLE}', 'ACK_VALUE_INVALID'],
    ['{"EventType":1}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"PERSISTED","FragmentTimecode":"1"}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"PERSISTED","FragmentTimecode":-1}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"PERSISTED","FragmentTimecode":1.5}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"PERSISTED","FragmentTimecode":1e3}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"PERSISTED","FragmentTimecode":1,"FragmentNumber":12}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"PERSISTED","FragmentTimecode":1,"FragmentNumber":"12a"}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"PERSISTED","FragmentTimecode":1,"FragmentNumber":""}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"ERROR","ErrorId":"40x"}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"ERROR","ErrorId":""}', 'ACK_VALUE_INVALID'],
    ['{"EventType":"ERROR","ErrorId":true}', 'ACK_VALUE_INVALID'],
    ['{"X":tru,"EventType":"IDLE"}', 'ACK_VALUE_INVALID'],
    ['{"X":nope}', 'ACK_VALUE_INVALID'],
    ['{"X":[1}}', 'ACK_VALUE_INVALID'], // "}" cannot close "[": the tracker still counts it, so one more closes the ACK
    ['{"X":"bad \\q escape"}', 'ACK_VALUE_INVALID'],
    ['{"X":"\\q"}', 'ACK_VALUE_INVALID'], // the quote right after the bad escape still closes the string
    ['{"X":"bad \\u12G4"}', 'ACK_VALUE_INVALID'],
    ['{"X":"raw\ttab"}', 'ACK_VALUE_INVALID'],
    [`{"X":${'['.repeat(ACK_LIMITS.maxNesting + 1)}${']'.repeat(ACK_LIMITS.maxNesting + 1)}}`, 'ACK_VALUE_INVALID'],
    // value end (PIC 0x52000050)
    ['{"EventType":"IDLE" "X":1}', 'ACK_VALUE_END_INVALID'],
    ['{"EventType":"IDLE"]', 'ACK_VALUE_END_INVALID'],
    ['{"X":1x}', 'ACK_VALUE_END_INVALID'],
    // event type (PIC 0x52000051)
    ['{"EventType":"PERSISTING"}', 'ACK_EVENT_TYPE_UNKNOWN'],
    ['{"EventType":"idle"}', 'ACK_EVENT_TYPE_UNKNOWN'],
    ['{"EventType":""}', 'ACK_EVENT_TYPE_UNKNOWN'],
    ['{"EventType":"PERSISTEDPERSISTED"}', 'ACK_EVENT_TYPE_UNKNOWN'],
    ['{}', 'ACK_EVENT_TYPE_MISSING'],
    ['{"FragmentTimecode":1,"FragmentNumber":"1"}', 'ACK_EVENT_TYPE_MISSING'],
    // missing fragment information (PIC 0x52000070)
    ['{"EventType":"ERROR","FragmentTimecode":1}', 'ACK_ERROR_ID_MISSING'],
    ['{"EventType":"BUFFERING"}', 'ACK_TIMECODE_MISSING'],
    ['{"EventType":"RECEIVED","FragmentNumber":"1"}', 'ACK_TIMECODE_MISSING'],
    ['{"EventType":"PERSISTED"}', 'ACK_TIMECODE_MISSING'],
    // segment length (PIC 0x52000071)
    [`{"EventType":"IDLE","Pad":"${'x'.repeat(ACK_LIMITS.maxSegmentChars)}"}`, 'ACK_SEGMENT_TOO_LONG'],
  ];
  for (const [input, code] of cases) {
    const expected = [err(code), ack('IDLE')];
    assert.equal(parse(input + '\n' + OK), expected, input);
    assert.equal(parseBytewise(input + '\n' + OK), expected, `${input} (byte by byte)`);
  }
});

test('the segment limit counts the whole object, braces included', () => {
  const pad = (n: number) => `{"EventType":"IDLE","P":"${'x'.repeat(n)}"}`;
  const exact = ACK_LIMITS.maxSegmentChars - pad(0).length;
  assert.is(pad(exact).length, ACK_LIMITS.maxSegmentChars);
  assert.equal(parse(pad(exact)), [ack('IDLE')]);
  assert.equal(parse(pad(exact + 1) + OK), [err('ACK_SEGMENT_TOO_LONG'), ack('IDLE')]);
  // Whitespace between objects is not part of either.
  assert.equal(parse(' '.repeat(5000) + pad(exact) + ' '.repeat(5000) + OK), [ack('IDLE'), ack('IDLE')]);
});

test('after an error, skips the rest of the object through its strings and nesting, then resumes at depth 0', () => {
  // The rejected object still holds "{" and "}" inside strings and nested values: none of them may start
  // or end an ACK.
  const rejected = '{"EventType":"BOGUS","X":{"y":"} {\\"EventType\\":\\"IDLE\\"}"},"Z":[{"EventType":"IDLE"}]}';
  assert.equal(parse(rejected + OK), [err('ACK_EVENT_TYPE_UNKNOWN'), ack('IDLE')]);
  assert.equal(parse('{"EventType":"IDLE","X":{"a":1} {"EventType":"IDLE"} }' + OK), [err('ACK_VALUE_END_INVALID'), ack('IDLE')]);
  // Junk between objects is one error per run, however long.
  assert.equal(parse(OK + 'garbage, more garbage ]]]' + OK + 'x' + OK), [
    ack('IDLE'),
    err('ACK_OUTSIDE_OBJECT'),
    ack('IDLE'),
    err('ACK_OUTSIDE_OBJECT'),
    ack('IDLE'),
  ]);
  // A stray "}" after an object is junk.
  assert.equal(parse(OK + '}' + OK), [ack('IDLE'), err('ACK_OUTSIDE_OBJECT'), ack('IDLE')]);
});

test('an object whose end cannot be found is abandoned after another 1,024 bytes', () => {
  // An unterminated string swallows the next ACK; the tracker gives up and takes the next "{".
  const broken = '{"EventType":"BOGUS" "unterminated';
  const filler = ' '.repeat(ACK_LIMITS.maxSegmentChars);
  assert.equal(parse(broken + OK + filler + OK), [err('ACK_EVENT_TYPE_UNKNOWN'), ack('IDLE')]);
  // Whatever state the parser is in, 2,048 bytes later it takes the next "{".
  for (const prefix of ['{', '{"', '{"EventType":"', '{"X":[[', '{"X":"\\', '{"X":"\\u00', 'junk', '{"X":tr']) {
    const outcomes = parse(prefix + ' '.repeat(2 * ACK_LIMITS.maxSegmentChars) + OK);
    assert.equal(outcomes[outcomes.length - 1], ack('IDLE'), prefix);
  }
});

test('pending and reset: a cut-off ACK is visible and can be dropped at a new connection', () => {
  const r = recorder();
  const part = bytesOf('{"EventType":"PERS');
  r.parser.push(part, 0, part.length);
  assert.is(r.parser.pending, true);
  r.parser.reset();
  assert.is(r.parser.pending, false);
  const rest = bytesOf(OK);
  r.parser.push(rest, 0, rest.length);
  assert.equal(r.outcomes, [ack('IDLE')]);
});

test('argument errors, re-entry and a throwing callback', () => {
  const r = recorder();
  const bytes = bytesOf(OK);
  assert.throws(() => r.parser.push(bytes, 1, bytes.length), /outside/);
  assert.throws(() => r.parser.push(bytes, -1, 1), /outside/);
  assert.throws(() => r.parser.push(bytes, 0.5, 1), /outside/);
  assert.throws(() => r.parser.push([1, 2] as unknown as Uint8Array, 0, 1), /Uint8Array/);
  assert.throws(() => new AckParser({ onAck: undefined as never, onError: () => {} }), /onAck/);

  let reentered: unknown;
  const inner: AckParser = new AckParser({
    onAck: () => {
      try {
        inner.push(bytes, 0, bytes.length);
      } catch (e) {
        reentered = e;
      }
    },
    onError: () => {},
  });
  inner.push(bytes, 0, bytes.length);
  assert.ok(reentered instanceof FieldcamError && reentered.code === 'ACK_CALL_ORDER' && /re-entered/.test(reentered.message));

  let calls = 0;
  const throwing = new AckParser({
    onAck: () => {
      calls++;
      if (calls === 1) throw new Error('consumer bug');
    },
    onError: () => {},
  });
  const two = bytesOf(OK + OK);
  assert.throws(() => throwing.push(two, 0, two.length), /consumer bug/);
  assert.is(throwing.pending, false);
  throwing.push(bytes, 0, bytes.length); // still usable
  assert.is(calls, 2);
});

test.run();
