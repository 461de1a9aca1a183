// Every phase of a connection attempt is bounded (issue 11 item 1): the PhaseDeadline itself, then each client
// that uses it over a socket that stays silent at that phase — PutMedia (TCP, TLS, head, first ACK), a
// control-plane exchange (TCP, TLS, head) and the IoT credentials fetch. Hand-driven time, no sleeps.
import type { FieldcamError } from '../../../../firmware/core/errors.ts';
import { IotCredentialsClient, type IotCredentialsEvent } from '../../../../firmware/core/iot/IotCredentialsClient.ts';
import type { AckEvent } from '../../../../firmware/core/kvs/AckParser.ts';
import { PutMediaConnection } from '../../../../firmware/core/kvs/PutMediaConnection.ts';
import { ViewList } from '../../../../firmware/core/media/ViewList.ts';
import { httpExchange } from '../../../../firmware/core/net/httpExchange.ts';
import { NET_DEADLINE_DEFAULTS, PhaseDeadline } from '../../../../firmware/core/net/PhaseDeadline.ts';
import { ServerClock } from '../../../../firmware/core/net/ServerClock.ts';
import { encodeUtf8 } from '../../../../firmware/core/text/utf8.ts';
import { assert, suite } from '../../../harness/index.ts';
import { FakeNet, FakeTime } from '../../../harness/support.ts';

const test = suite('net: every connection phase has a deadline (PhaseDeadline, PutMedia, httpExchange, IoT)');

const DEADLINES = Object.freeze({ connectMs: 1000, tlsMs: 2000, headMs: 3000, firstAckMs: 4000, connackMs: 5000 });
const TLS = { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' };

test('PhaseDeadline: one timer moved from phase to phase; TCP+TLS as one phase when the board cannot tell', () => {
  const time = new FakeTime();
  const expired: string[] = [];
  const d = new PhaseDeadline(time, DEADLINES, 'x', (e) => expired.push(`${e.code} ${e.message}`));
  d.enterConnect(true);
  assert.equal(time.delays(), [3000], 'TLS socket: connect + handshake until TCP is reported');
  d.enter('tls');
  assert.equal(time.delays(), [2000]);
  d.enter('head');
  assert.equal(time.delays(), [3000], 'one timer, re-armed');
  assert.is(d.current, 'head');
  d.clear();
  assert.equal(time.delays(), []);
  assert.is(d.current, undefined);
  d.enterConnect(false);
  assert.equal(time.delays(), [1000], 'plain TCP');
  time.advance(1000);
  assert.equal(expired, ['NET_CONNECT_TIMEOUT x: no TCP connection within 1000 ms']);
  d.enter('firstAck');
  assert.ok(d.expire(1500), 'an outer bound names the phase');
  assert.is(expired[1], "UPLOAD_FIRST_ACK_TIMEOUT x: no first acknowledgement within the exchange's 1500 ms");
  assert.equal(time.delays(), []);
  assert.not(d.expire(1500), 'nothing timed');
  assert.throws(() => new PhaseDeadline(time, { ...DEADLINES, headMs: 0 }, 'x', () => {}), /headMs/);
  assert.ok(Object.isFrozen(NET_DEADLINE_DEFAULTS));
});

function putMedia(net: FakeNet, time: FakeTime) {
  const closed: (string | undefined)[] = [];
  const acks: AckEvent[] = [];
  const conn = new PutMediaConnection(
    { sockets: net.sockets, timers: time, deadlines: DEADLINES },
    { host: 'kvs.local', port: 443, tls: { ca: 'CA' } },
    [['host', 'kvs.local']],
    {
      onReady() {},
      onAck: (ack) => acks.push(ack),
      onAckError() {},
      onRefused() {},
      onClosed: (err: FieldcamError | undefined) => closed.push(err?.code),
      onWritable() {},
    },
  );
  return { conn, closed, acks };
}

test('PutMedia: a silent path costs one deadline per phase — TCP, TLS, response head, first ACK — then the attempt is torn down', () => {
  const time = new FakeTime();
  const net = new FakeNet();
  const a = putMedia(net, time);
  assert.is(net.connections.length, 0, 'the constructor connects nothing');
  a.conn.start();
  time.advance(2999);
  assert.equal(a.closed, []);
  time.advance(1);
  assert.equal(a.closed, ['NET_CONNECT_TIMEOUT'], 'no TCP (nor handshake) within connect + TLS');
  assert.ok(net.last.closed, 'the socket is closed');
  assert.throws(() => a.conn.start(), /closed/);

  const b = putMedia(net, time);
  b.conn.start();
  net.last.options.onTransportConnect?.();
  time.advance(2000);
  assert.equal(b.closed, ['NET_TLS_TIMEOUT'], 'TCP up, handshake silent');

  const c = putMedia(net, time);
  c.conn.start();
  net.last.options.onConnect();
  assert.ok(net.last.writes.length > 0, 'the signed head went out');
  time.advance(3000);
  assert.equal(c.closed, ['HTTP_HEAD_TIMEOUT'], 'request sent, no response head');

  const d = putMedia(net, time);
  d.conn.start();
  net.last.options.onConnect();
  net.last.deliver(encodeUtf8('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'));
  assert.ok(d.conn.ready);
  time.advance(60_000);
  assert.equal(d.closed, [], 'nothing sent yet: no ACK is owed (the camera may not have started)');
  d.conn.fragmentSent();
  time.advance(4000);
  assert.equal(d.closed, ['UPLOAD_FIRST_ACK_TIMEOUT'], 'the path carries the head but not the body');
  assert.equal(time.delays(), [], 'nothing left running');
  assert.throws(() => d.conn.writeChunk(new ViewList(1)), /after close/);

  const e = putMedia(net, time);
  e.conn.start();
  net.last.options.onConnect();
  net.last.deliver(encodeUtf8('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'));
  e.conn.fragmentSent();
  time.advance(3999);
  const ack = '{"EventType":"BUFFERING","FragmentTimecode":1700000000000,"FragmentNumber":"1"}';
  net.last.deliver(encodeUtf8(`${ack.length.toString(16)}\r\n${ack}\r\n`));
  assert.is(e.acks.length, 1);
  assert.equal(time.delays(), [], 'the first ACK ends the deadlines: staleness watches the rest');
  time.advance(60_000);
  assert.equal(e.closed, []);
  e.conn.close();
  net.last.options.onClose(new Error('late'));
  assert.equal(e.closed, [], 'nothing runs after close');
});

test('httpExchange: each phase named on expiry; the exchange bound names the phase it cut', async () => {
  const time = new FakeTime();
  const net = new FakeNet();
  const target = { host: 'kvs.local', port: 443, tls: { ca: 'CA' } };
  const request = { method: 'POST', path: '/describeStream', headers: [['host', 'kvs.local']] as const };
  const codes: string[] = [];
  const run = (timeoutMs: number) =>
    httpExchange({ sockets: net.sockets, timers: time, deadlines: DEADLINES }, target, request, new Uint8Array(0), timeoutMs).then(
      () => codes.push('ok'),
      (err: FieldcamError) => codes.push(err.code),
    );
  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  void run(60_000);
  time.advance(3000);
  await settle();
  void run(60_000);
  net.last.options.onTransportConnect?.();
  time.advance(2000);
  await settle();
  void run(60_000);
  net.last.options.onConnect();
  time.advance(3000);
  await settle();
  void run(1500); // the whole exchange's bound is shorter than the phase: the phase is still named
  time.advance(1500);
  await settle();
  assert.equal(codes, ['NET_CONNECT_TIMEOUT', 'NET_TLS_TIMEOUT', 'HTTP_HEAD_TIMEOUT', 'NET_CONNECT_TIMEOUT']);
  assert.ok(
    net.connections.every((s) => s.closed),
    'every attempt torn down',
  );
  void run(60_000);
  net.last.options.onConnect();
  net.last.deliver(encodeUtf8('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}'));
  await settle();
  assert.is(codes[4], 'ok');
  assert.equal(time.delays(), []);
});

test('IoT credentials: a provider that accepts TCP and never handshakes is retried with backoff, with the phase named', async () => {
  const time = new FakeTime();
  const net = new FakeNet();
  const events: IotCredentialsEvent[] = [];
  const client = new IotCredentialsClient({
    sockets: net.sockets,
    timers: time,
    clock: new ServerClock(time),
    deadlines: DEADLINES,
    target: { host: 'creds.local', port: 443, tls: TLS },
    roleAlias: 'alias',
    thingName: 'cam-1',
    userAgent: 'test',
    random: () => 0,
    backoff: { initialMs: 1000, maxMs: 8000 },
    onEvent: (e) => events.push(e),
  });
  client.start();
  net.last.options.onTransportConnect?.();
  time.advance(2000);
  for (let i = 0; i < 10; i++) await Promise.resolve();
  assert.equal(
    events.map((e) => (e.type === 'retry' ? `${e.code} ${e.delayMs}` : e.type)),
    ['NET_TLS_TIMEOUT 500'],
  );
  assert.ok(net.last.closed);
  time.advance(500);
  assert.is(net.connections.length, 2, 'the next attempt after the backoff');
  client.close();
});

test.run();
