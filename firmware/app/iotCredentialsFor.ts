import { IotCredentialsClient, type IotCredentialsEvent } from '../core/iot/IotCredentialsClient.ts';
import type { ServerClock } from '../core/net/ServerClock.ts';
import type { Board } from '../io/Board.ts';
import type { DeviceConfig } from './DeviceConfig.ts';

/** The User-Agent of every request the device makes (KVS, the credentials provider). */
export function deviceUserAgent(board: Board, config: DeviceConfig): string {
  return `fieldcam/0.1 (${board.runtime}; ${config.board.name})`;
}

/**
 * The IoT credentials provider client of a device configured from a bundle (mTLS with the device certificate),
 * or undefined with static keys. A camera builds its own; a device with several cameras builds one for all.
 * Not started: the owner starts and closes it.
 */
export function iotCredentialsFor(
  board: Board,
  config: DeviceConfig,
  clock: ServerClock,
  onEvent: (event: IotCredentialsEvent) => void,
): IotCredentialsClient | undefined {
  const c = config.credentials;
  if (!('iot' in c)) return undefined;
  return new IotCredentialsClient({
    sockets: board.sockets,
    timers: board.timers,
    clock,
    random: board.random,
    userAgent: deviceUserAgent(board, config),
    target: {
      host: c.iot.host,
      port: c.iot.port,
      tls: { ca: board.readText(config.endpoint.caFile), cert: board.readText(c.iot.certFile), key: board.readText(c.iot.keyFile) },
    },
    roleAlias: c.iot.roleAlias,
    thingName: c.iot.thingName,
    ...(config.board.net ? { deadlines: config.board.net } : {}),
    onEvent,
  });
}
