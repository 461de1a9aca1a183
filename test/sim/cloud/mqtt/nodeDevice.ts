// fieldcam's device-side MqttClient (firmware/core/mqtt) on the Node board's real sockets, timers and clock,
// with what the broker tests observe: messages received, error codes, connection count, and a network switch.
import type { FieldcamError } from '../../../../firmware/core/errors.ts';
import { MqttClient, type MqttClientOptions } from '../../../../firmware/core/mqtt/MqttClient.ts';
import { nodeSocket } from '../../../../firmware/boards/node/nodeSocket.ts';
import { nodeClock, nodeTimers } from '../../../../firmware/boards/node/nodeTime.ts';
import type { SocketFactory } from '../../../../firmware/io/Socket.ts';
import { freePort } from '../../../interop/mosquittoKit.ts';
import { guard } from './brokerKit.ts';

export interface NodeDevice {
  readonly client: MqttClient;
  /** `<topic> <payload as UTF-8>` per inbound PUBLISH. */
  readonly received: string[];
  /** Codes reported through onError, in order. */
  readonly errors: string[];
  readonly connected: () => boolean;
  readonly connections: () => number;
  /**
   * While set, connection attempts go to a port nothing listens on (a real ECONNREFUSED): the network is
   * down for the device, so it cannot reconnect before a test has queued what it must not lose.
   */
  offline: boolean;
  /** Resolves once `condition` holds after any client callback (bounded by guard's deadline). */
  when(condition: () => boolean, what: string): Promise<void>;
}

export type NodeDeviceOptions = Pick<MqttClientOptions, 'host' | 'port' | 'tls' | 'clientId' | 'will' | 'cleanSession'>;

export async function nodeDevice(options: NodeDeviceOptions): Promise<NodeDevice> {
  const refusing = await freePort();
  const waiters: { test: () => boolean; done: () => void }[] = [];
  const check = (): void => {
    for (const w of waiters.splice(0)) {
      if (w.test()) w.done();
      else waiters.push(w);
    }
  };
  let connected = false;
  let connections = 0;
  const state: NodeDevice = {
    offline: false,
    received: [],
    errors: [],
    connected: () => connected,
    connections: () => connections,
    when: (condition, what) => (condition() ? Promise.resolve() : guard(new Promise<void>((done) => waiters.push({ test: condition, done })), what)),
    client: undefined as unknown as MqttClient,
  };
  const sockets: SocketFactory = (o) => nodeSocket(state.offline ? { ...o, port: refusing } : o);
  (state as { client: MqttClient }).client = new MqttClient({
    sockets,
    timers: nodeTimers,
    clock: nodeClock,
    random: Math.random,
    keepAliveSeconds: 30,
    backoff: { initialMs: 20, maxMs: 200 },
    ...options,
    onMessage: (topic, payload) => {
      state.received.push(`${topic} ${new TextDecoder().decode(payload)}`);
      check();
    },
    onConnectionChange: (up) => {
      connected = up;
      if (up) connections++;
      check();
    },
    onError: (err: FieldcamError) => {
      state.errors.push(err.code);
      check();
    },
  });
  state.client.start();
  return state;
}
