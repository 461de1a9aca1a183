// IotCredentialsClient over a scripted network, hand-driven timers and a settable clock: the request it sends
// (mTLS target, path, thing-name header), refresh ahead of expiry, jittered backoff while the provider is down,
// credentials never handed out when expired or within the safety margin, fatal refusals reported once.
import { IotCredentialsClient, refreshDelayMs, type IotCredentialsEvent } from '../../../../firmware/core/iot/IotCredentialsClient.ts';
import { ServerClock } from '../../../../firmware/core/net/ServerClock.ts';
import { assert, suite } from '../../../harness/index.ts';
import { answer, credentialsBody, flush } from './iotKit.ts';
import { FakeNet, FakeTime } from '../../../harness/support.ts';

const test = suite('iot: IotCredentialsClient (fake network, timers and clock)');

const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
const MIN = 60_000;
const TLS = { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' };

function setup(options: { wall?: number; margin?: number } = {}) {
  const clock = new FakeTime(options.wall ?? T0);
  const timers = clock; // one hand-driven time: the timers move the clocks
  const net = new FakeNet();
  const events: IotCredentialsEvent[] = [];
  const client = new IotCredentialsClient({
    sockets: net.sockets,
    timers,
    clock: new ServerClock(clock),
    target: { host: 'abc.credentials.iot.us-east-1.amazonaws.com', port: 443, tls: TLS },
    roleAlias: 'KvsCameraIoTRoleAlias',
    thingName: 'cam-1',
    userAgent: 'fieldcam/test',
    random: () => 0.5,
    ...(options.margin !== undefined ? { safetyMarginMs: options.margin } : {}),
    onEvent: (e) => events.push(e),
  });
  return { clock, timers, net, events, client };
}

const dateHeader = (ms: number) => `date: ${new Date(ms).toUTCString()}`;

test('the request: mTLS to the provider, GET /role-aliases/<alias>/credentials with x-amzn-iot-thingname', async () => {
  const { net, client, clock } = setup();
  assert.is(client.current(), undefined, 'nothing before the first answer');
  client.start();
  assert.is(net.connections.length, 1);
  const c = net.last;
  assert.is(c.options.host, 'abc.credentials.iot.us-east-1.amazonaws.com');
  assert.is(c.options.port, 443);
  assert.equal(c.options.tls, TLS);
  answer(c, { status: 200, body: credentialsBody(clock.wall, 60 * MIN), headers: [dateHeader(clock.wall)] });
  await flush();
  const head = c.text().split('\r\n');
  assert.is(head[0], 'GET /role-aliases/KvsCameraIoTRoleAlias/credentials HTTP/1.1');
  assert.ok(head.includes('host: abc.credentials.iot.us-east-1.amazonaws.com'), c.text());
  assert.ok(head.includes('x-amzn-iot-thingname: cam-1'), c.text());
  const keys = client.current();
  assert.equal(keys, {
    accessKeyId: 'ASIAEXAMPLEKEY000001',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN',
  });
  assert.is(client.expirationMs, T0 + 60 * MIN);
  assert.is(client.fetches, 1);
});

test('refresh timing: 80% of the lifetime or 5 minutes before expiry, whichever is first', () => {
  assert.is(refreshDelayMs(60 * MIN), 48 * MIN);
  assert.is(refreshDelayMs(15 * MIN), 10 * MIN);
  assert.is(refreshDelayMs(4 * MIN), 2 * MIN, 'short-lived: never before half the lifetime');
});

test('credentials are refreshed ahead of expiry and replaced; the old ones are never used past the margin', async () => {
  const { net, client, clock, timers, events } = setup();
  client.start();
  answer(net.last, { status: 200, body: credentialsBody(clock.wall, 15 * MIN, 'ASIAFIRSTKEY00000001') });
  await flush();
  assert.equal(timers.delays(), [10 * MIN]);
  assert.equal(events[0], { type: 'credentials', expirationMs: T0 + 15 * MIN, refreshInMs: 10 * MIN });
  timers.advance(10 * MIN - 1);
  assert.is(net.connections.length, 1);
  timers.advance(1);
  assert.is(net.connections.length, 2, 'refresh started 5 minutes before expiry');
  assert.is(client.current()?.accessKeyId, 'ASIAFIRSTKEY00000001', 'the old ones are still valid meanwhile');
  answer(net.last, { status: 200, body: credentialsBody(clock.wall, 15 * MIN, 'ASIASECONDKEY0000002') });
  await flush();
  assert.is(client.current()?.accessKeyId, 'ASIASECONDKEY0000002');
  assert.is(client.fetches, 2);
});

test('provider down: jittered exponential backoff, undefined once the held credentials reach the margin, then recovery', async () => {
  const { net, client, clock, timers, events } = setup();
  client.start();
  answer(net.last, { status: 200, body: credentialsBody(clock.wall, 15 * MIN) });
  await flush();
  timers.advance(10 * MIN);
  const delays: number[] = [];
  // 5 minutes left; every refresh attempt fails (503, reset, timeout-like close).
  for (let i = 0; i < 6; i++) {
    const answers = [{ status: 503, body: '{"message":"Service Unavailable"}' }, { error: 'ECONNRESET' }] as const;
    answer(net.last, answers[i % 2]!);
    await flush();
    const retry = events[events.length - 1]!;
    assert.is(retry.type, 'retry');
    if (retry.type === 'retry') {
      assert.is(retry.code, 'IOT_PROVIDER_UNAVAILABLE');
      delays.push(retry.delayMs);
    }
    timers.advance(delays[delays.length - 1]!);
  }
  // random() = 0.5: 3/4 of 1, 2, 4, 8, 16, 32 s
  assert.equal(delays, [750, 1500, 3000, 6000, 12000, 24000]);
  const left = T0 + 15 * MIN - clock.wall;
  assert.ok(left > 60_000, `${left} ms left`);
  assert.ok(client.current() !== undefined, 'still valid outside the margin');
  clock.wall = T0 + 15 * MIN - 60_000; // exactly at the margin
  assert.is(client.current(), undefined, 'never within the safety margin');
  clock.wall = T0 + 15 * MIN + 1000;
  assert.is(client.current(), undefined, 'never expired');
  answer(net.last, { status: 200, body: credentialsBody(clock.wall, 15 * MIN, 'ASIARECOVEREDKEY0003') });
  await flush();
  assert.is(client.current()?.accessKeyId, 'ASIARECOVEREDKEY0003');
  answer(net.last, { error: 'late' }); // a stale connection's close does nothing
  assert.equal(timers.delays(), [10 * MIN], 'backoff reset: next is the regular refresh');
});

test('a clock jump past a pending refresh: current() returns undefined and fetches at once', async () => {
  const { net, client, clock } = setup();
  client.start();
  answer(net.last, { status: 200, body: credentialsBody(clock.wall, 60 * MIN) });
  await flush();
  clock.wall += 2 * 60 * MIN;
  assert.is(client.current(), undefined);
  assert.is(net.connections.length, 2);
  answer(net.last, { status: 200, body: credentialsBody(clock.wall, 60 * MIN, 'ASIAAFTERJUMPKEY0004') });
  await flush();
  assert.is(client.current()?.accessKeyId, 'ASIAAFTERJUMPKEY0004');
});

test('a board clock at 1970: the provider Date header sets it before expiry is judged', async () => {
  const { net, client } = setup({ wall: 0 });
  client.start();
  answer(net.last, { status: 200, body: credentialsBody(T0, 60 * MIN), headers: [dateHeader(T0)] });
  await flush();
  assert.ok(client.current() !== undefined, 'valid in server time');
});

test('credentials already within the margin on arrival are refused and retried (clock or provider wrong)', async () => {
  const { net, client, clock, events } = setup();
  client.start();
  answer(net.last, { status: 200, body: credentialsBody(clock.wall, 30_000) });
  await flush();
  assert.is(client.current(), undefined);
  assert.is(events[0]!.type, 'retry');
  if (events[0]!.type === 'retry') assert.is(events[0]!.code, 'IOT_BAD_RESPONSE');
});

test('fatal refusals end the client once: revoked certificate, wrong thing, no policy, unknown alias, TLS verify', async () => {
  const cases: [{ status: number; body: string } | { error: string; code: string }, string][] = [
    [{ status: 403, body: '{"message":"Certificate is invalid on this endpoint"}' }, 'IOT_CERTIFICATE_REFUSED'],
    [{ status: 403, body: '{"message":"Invalid thing name passed"}' }, 'IOT_THING_REFUSED'],
    [{ status: 403, body: '{"message":"Access Denied"}' }, 'IOT_ACCESS_DENIED'],
    [{ status: 404, body: '{"message":"Role alias does not exist"}' }, 'IOT_ROLE_ALIAS_NOT_FOUND'],
    [{ error: 'certificate verify failed', code: 'TLS_VERIFY' }, 'IOT_TLS_VERIFY'],
  ];
  for (const [reply, code] of cases) {
    const { net, client, timers, events } = setup();
    client.start();
    answer(net.last, reply);
    await flush();
    assert.equal(
      events.map((e) => e.type),
      ['failed'],
      code,
    );
    assert.is(client.error?.code, code);
    assert.equal(timers.delays(), [], 'no retry scheduled');
    assert.is(client.current(), undefined);
    assert.is(net.connections.length, 1, 'current() does not retry a fatal refusal');
  }
});

test('close(): nothing runs after it; bad names are programmer errors', async () => {
  const { net, client, timers, events } = setup();
  client.start();
  client.close();
  answer(net.last, { status: 200, body: credentialsBody(T0, 60 * MIN) });
  await flush();
  assert.equal(events, []);
  assert.equal(timers.delays(), []);
  assert.throws(() => client.start(), /closed/);
  const base = {
    sockets: net.sockets,
    timers,
    clock: new ServerClock(new FakeTime(T0)),
    target: { host: 'h', port: 1, tls: TLS },
    userAgent: 'u',
    random: () => 0,
  };
  assert.throws(() => new IotCredentialsClient({ ...base, roleAlias: 'a', thingName: 'bad thing' }), /thingName/);
  assert.throws(() => new IotCredentialsClient({ ...base, roleAlias: 'a/b', thingName: 't' }), /roleAlias/);
});

test.run();
