// Issue 11 item 10: no client can knock the local cloud over. Connections are reset (TCP RST,
// socket.resetAndDestroy()) at every stage of every port — the KVS/IoT/IAM HTTPS port, the credentials
// provider's mTLS port, the MQTT port with its MQTT and its HTTP/WebSocket paths — and after each one the
// cloud, in a child process so that a crash is an exit we can see, still serves a real request. At the end a
// real device connects over MQTT, an operator over WSS, and the device fetches credentials over mTLS.
import { CreateStreamCommand, ListStreamsCommand } from '@aws-sdk/client-kinesis-video';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { assert, suite } from '../../harness/index.ts';
import { startCloudProcess, type CloudProcess } from './cloudProcess.ts';
import { fetchCredentials } from './iot/iotKit.ts';
import { muxFixture } from './kvs/media/mediaKit.ts';
import { signedHead, uploadBody } from './kvs/media/putMediaClient.ts';
import { connected, end, guard, operatorClient, presignedUrl, provisionDevice, type DeviceCertificate } from './mqtt/brokerKit.ts';
import { kvsClient, tempStateDir } from './support.ts';

const test = suite('local cloud: connection resets at every stage of every port');
const state = tempStateDir('fieldcam-cloud-resets-');
let cloud: CloudProcess | undefined;
test.after(async () => {
  await cloud?.stop();
  state.remove();
});

/** Lets the cloud read what was just sent before the RST discards it (scheduling, not a timing assertion). */
const settle = (): Promise<void> => new Promise((done) => setTimeout(done, 40));

function tcp(port: number): Promise<Socket> {
  return new Promise((done, fail) => {
    const socket = netConnect(port, '127.0.0.1');
    socket.once('connect', () => done(socket));
    socket.once('error', fail);
  });
}

/** The TLS ClientHello Node sends, captured from a handshake that goes nowhere. */
function clientHello(): Promise<Buffer> {
  return new Promise((done) => {
    const sink = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        done(Buffer.from(chunk));
        callback();
      },
    });
    const tls = tlsConnect({ socket: sink, rejectUnauthorized: false, servername: 'localhost' });
    tls.on('error', () => {});
    setImmediate(() => tls.destroy());
  });
}

/** A TLS connection over a TCP socket we can reset; resolves after the handshake. */
async function secure(port: number, ca: string, cert?: DeviceCertificate): Promise<{ raw: Socket; tls: TLSSocket }> {
  const raw = await tcp(port);
  const tls = tlsConnect({ socket: raw, ca, host: '127.0.0.1', ...(cert ? { cert: cert.certificatePem, key: cert.privateKeyPem } : {}) });
  tls.on('error', () => {});
  await guard(
    new Promise<void>((done, fail) => {
      tls.once('secureConnect', () => done());
      tls.once('error', fail);
    }),
    `TLS handshake on port ${port}`,
    10_000,
  );
  return { raw, tls };
}

/** Resolves on the first bytes the server sends (or the end of the connection). */
function firstBytes(socket: Duplex): Promise<Buffer | undefined> {
  return guard(
    new Promise((done) => {
      socket.once('data', (chunk: Buffer) => done(chunk));
      socket.once('close', () => done(undefined));
    }),
    'an answer',
    10_000,
  );
}

/** MQTT 3.1.1 CONNECT (§3.1): clean session, keep-alive 60 s. */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
  const payload = Buffer.concat([Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  const rest = variable.length + payload.length;
  return Buffer.concat([Buffer.from([0x10, rest]), variable, payload]);
}

/** One masked binary WebSocket frame (RFC 6455 §5.2) carrying `payload` (< 126 bytes). */
function wsFrame(payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, masked]);
}

function upgradeRequest(pathAndQuery: string, host: string): string {
  return (
    `GET ${pathAndQuery} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n'
  );
}

test('every stage of every port: RST, then the cloud still serves', async () => {
  cloud = await startCloudProcess(state.dir);
  const view = cloud.view;
  const ca = view.caPem;
  const httpsPort = Number(new URL(view.endpoint).port);
  const credentialsPort = Number(new URL(view.credentialsEndpoint).port);
  const mqttPort = view.mqtt.port;
  const kvs = kvsClient(view);
  const thing = 'reset-cam';
  const cert = await provisionDevice(view, thing);
  const hello = await clientHello();
  const signedPath = presignedUrl(view.mqtt.endpoint, view.ctx.config.region).replace(/^wss:\/\/[^/]+/, '');

  const listStreams = 'POST /listStreams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
  const credentialsGet = `GET /role-aliases/fieldcam-camera-role-alias/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nx-amzn-iot-thingname: ${thing}\r\n\r\n`;

  /** Stages of an HTTP exchange over an established TLS connection, for the HTTPS port and the credentials port. */
  const httpStages = (label: string, port: number, request: string, withCert?: DeviceCertificate): [string, () => Promise<void>][] => [
    [
      `${label}: after the handshake`,
      async () => {
        const c = await secure(port, ca, withCert);
        await settle();
        c.raw.resetAndDestroy();
      },
    ],
    [
      `${label}: mid request line`,
      async () => {
        const c = await secure(port, ca, withCert);
        c.tls.write(request.slice(0, 7));
        await settle();
        c.raw.resetAndDestroy();
      },
    ],
    [
      `${label}: mid request head`,
      async () => {
        const c = await secure(port, ca, withCert);
        c.tls.write(request.slice(0, request.indexOf('\r\n') + 8));
        await settle();
        c.raw.resetAndDestroy();
      },
    ],
    [
      `${label}: mid body`,
      async () => {
        const c = await secure(port, ca, withCert);
        c.tls.write('POST /listStreams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Max');
        await settle();
        c.raw.resetAndDestroy();
      },
    ],
    [
      `${label}: request sent, before the answer`,
      async () => {
        const c = await secure(port, ca, withCert);
        c.tls.write(request);
        c.raw.resetAndDestroy();
      },
    ],
    [
      `${label}: after the answer`,
      async () => {
        const c = await secure(port, ca, withCert);
        c.tls.write(request);
        await firstBytes(c.tls);
        c.raw.resetAndDestroy();
      },
    ],
    [
      `${label}: Upgrade request`,
      async () => {
        const c = await secure(port, ca, withCert);
        c.tls.write(upgradeRequest('/mqtt', '127.0.0.1'));
        c.raw.resetAndDestroy();
      },
    ],
    [
      `${label}: Upgrade request, after the answer`,
      async () => {
        const c = await secure(port, ca, withCert);
        c.tls.write(upgradeRequest('/mqtt', '127.0.0.1'));
        await firstBytes(c.tls);
        c.raw.resetAndDestroy();
      },
    ],
  ];

  /** Stages before and during the TLS handshake, for every port. */
  const tlsStages = (label: string, port: number): [string, () => Promise<void>][] => [
    [
      `${label}: TCP open, nothing sent`,
      async () => {
        const s = await tcp(port);
        s.resetAndDestroy();
      },
    ],
    [
      `${label}: TCP open, after a pause`,
      async () => {
        const s = await tcp(port);
        await settle();
        s.resetAndDestroy();
      },
    ],
    [
      `${label}: mid ClientHello`,
      async () => {
        const s = await tcp(port);
        s.write(hello.subarray(0, hello.length >> 1));
        await settle();
        s.resetAndDestroy();
      },
    ],
    [
      `${label}: after ClientHello`,
      async () => {
        const s = await tcp(port);
        s.write(hello);
        s.resetAndDestroy();
      },
    ],
    [
      `${label}: after ServerHello (mid handshake)`,
      async () => {
        const s = await tcp(port);
        s.write(hello);
        await firstBytes(s);
        s.resetAndDestroy();
      },
    ],
    [
      `${label}: not TLS at all`,
      async () => {
        const s = await tcp(port);
        s.write(listStreams);
        await settle();
        s.resetAndDestroy();
      },
    ],
  ];

  // PutMedia: a streaming request with a streaming answer (ACKs), signed, on a stream of its own.
  const stream = 'reset-stream';
  await kvs.send(new CreateStreamCommand({ StreamName: stream, DataRetentionInHours: 24 }));
  const T0 = Date.now() - 3600_000;
  let putMedias = 0;
  const chunk = (bytes: Uint8Array): Buffer => Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
  const putMedia = async (): Promise<{ raw: Socket; tls: TLSSocket; body: Uint8Array }> => {
    const c = await secure(httpsPort, ca);
    c.tls.write(await signedHead(view.endpoint, { stream }));
    return { ...c, body: muxFixture({ startTimecode: T0 + 20_000 * putMedias++ }) };
  };
  const putMediaStages: [string, () => Promise<void>][] = [
    [
      'https PutMedia: head sent, before the 200',
      async () => {
        const c = await putMedia();
        c.raw.resetAndDestroy();
      },
    ],
    [
      'https PutMedia: mid body',
      async () => {
        const c = await putMedia();
        await firstBytes(c.tls);
        c.tls.write(chunk(c.body.subarray(0, c.body.length >> 1)));
        await settle();
        c.raw.resetAndDestroy();
      },
    ],
    [
      'https PutMedia: after PERSISTED ACKs, mid body',
      async () => {
        const c = await putMedia();
        let answer = '';
        c.tls.on('data', (d: Buffer) => (answer += d.toString('latin1')));
        c.tls.write(chunk(c.body));
        await guard(
          (async () => {
            while (!answer.includes('PERSISTED') && !c.tls.destroyed) await new Promise((r) => setTimeout(r, 10));
          })(),
          'a PERSISTED ACK',
          10_000,
        );
        c.raw.resetAndDestroy();
      },
    ],
  ];

  const stages: [string, () => Promise<void>][] = [
    ...tlsStages('https', httpsPort),
    ...httpStages('https', httpsPort, listStreams),
    ...putMediaStages,
    ...tlsStages('credentials', credentialsPort),
    ...httpStages('credentials', credentialsPort, credentialsGet, cert),
    ...tlsStages('mqtt', mqttPort),
    [
      `mqtt: after the handshake, no certificate`,
      async () => {
        const c = await secure(mqttPort, ca);
        await settle();
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt: CONNECT without a certificate`,
      async () => {
        const c = await secure(mqttPort, ca);
        c.tls.write(connectPacket(thing));
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt: mid CONNECT`,
      async () => {
        const c = await secure(mqttPort, ca, cert);
        c.tls.write(connectPacket(thing).subarray(0, 9));
        await settle();
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt: CONNECT sent, before CONNACK`,
      async () => {
        const c = await secure(mqttPort, ca, cert);
        c.tls.write(connectPacket(thing));
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt: after CONNACK`,
      async () => {
        const c = await secure(mqttPort, ca, cert);
        c.tls.write(connectPacket(thing));
        await firstBytes(c.tls);
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt: after CONNACK, mid PUBLISH`,
      async () => {
        const c = await secure(mqttPort, ca, cert);
        c.tls.write(connectPacket(thing));
        await firstBytes(c.tls);
        c.tls.write(Buffer.from([0x30, 0x40, 0x00, 0x10]));
        await settle();
        c.raw.resetAndDestroy();
      },
    ],
    ...httpStages('mqtt http', mqttPort, 'GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'),
    [
      `mqtt http: Upgrade to an unknown path`,
      async () => {
        const c = await secure(mqttPort, ca);
        c.tls.write(upgradeRequest('/nope', '127.0.0.1'));
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt http: Upgrade to an unknown path, after the 404`,
      async () => {
        const c = await secure(mqttPort, ca);
        c.tls.write(upgradeRequest('/nope', '127.0.0.1'));
        await firstBytes(c.tls);
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt http: Upgrade with a bad signature, after the 403`,
      async () => {
        const c = await secure(mqttPort, ca);
        c.tls.write(upgradeRequest(signedPath.replace(/Signature=[0-9a-f]{4}/, 'Signature=0000'), view.mqtt.endpoint));
        await firstBytes(c.tls);
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt http: signed Upgrade, before the 101`,
      async () => {
        const c = await secure(mqttPort, ca);
        c.tls.write(upgradeRequest(signedPath, view.mqtt.endpoint));
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt http: signed Upgrade, after the 101`,
      async () => {
        const c = await secure(mqttPort, ca);
        c.tls.write(upgradeRequest(signedPath, view.mqtt.endpoint));
        await firstBytes(c.tls);
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt websocket: mid CONNECT frame`,
      async () => {
        const c = await secure(mqttPort, ca);
        c.tls.write(upgradeRequest(signedPath, view.mqtt.endpoint));
        await firstBytes(c.tls);
        c.tls.write(wsFrame(connectPacket('operator-reset')).subarray(0, 12));
        await settle();
        c.raw.resetAndDestroy();
      },
    ],
    [
      `mqtt websocket: CONNECT sent, before CONNACK`,
      async () => {
        const c = await secure(mqttPort, ca);
        c.tls.write(upgradeRequest(signedPath, view.mqtt.endpoint));
        await firstBytes(c.tls);
        c.tls.write(wsFrame(connectPacket('operator-reset')));
        c.raw.resetAndDestroy();
      },
    ],
  ];

  for (const [name, run] of stages) {
    try {
      await guard(run(), name, 15_000);
    } catch (err) {
      throw new Error(`stage "${name}": ${(err as Error).message}`);
    }
    await settle();
    assert.is(cloud.exited(), undefined, `the cloud exited after "${name}"; stderr:\n${cloud.stderr()}`);
    const out = await guard(kvs.send(new ListStreamsCommand({})), `ListStreams after "${name}"`).catch((err: Error) => {
      throw new Error(
        `ListStreams after "${name}": ${err.message}; the cloud ${cloud!.exited() === undefined ? 'runs' : `exited (${cloud!.exited()})`}; stderr:\n${cloud!.stderr()}`,
      );
    });
    assert.equal(
      out.StreamInfoList?.map((info) => info.StreamName),
      [stream],
      `ListStreams after "${name}"`,
    );
  }

  // Every port still serves real clients, PutMedia on the stream whose connections were reset included.
  const upload = await guard(uploadBody(view.endpoint, ca, stream, muxFixture({ startTimecode: T0 + 20_000 * putMedias++ })), 'a whole PutMedia');
  assert.is(upload.status, 200, upload.body);
  assert.is(upload.acks.filter((a) => a.EventType === 'PERSISTED').length, 10, JSON.stringify(upload.trace()));
  const device = await guard(connected(view, cert, { clientId: thing }), 'a device MQTT connection');
  await end(device);
  const operator = await guard(operatorClient(view), 'an operator WSS connection');
  await end(operator);
  const answer = await guard(fetchCredentials(view, { cert, thingName: thing, roleAlias: 'no-such-alias' }), 'a credentials provider answer');
  // An answer over mTLS (no role alias of that name exists, so no IoT policy allows it: 403 as on AWS).
  assert.is(answer.errorType, 'AccessDeniedException', JSON.stringify(answer));
  kvs.destroy();
  assert.is(cloud.exited(), undefined, cloud.stderr());
  assert.ok(!/Error|uncaught/i.test(cloud.stderr()), `the cloud wrote to stderr:\n${cloud.stderr()}`);
});

test.run();
