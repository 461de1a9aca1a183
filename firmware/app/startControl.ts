import { ControlChannel, type ControlEvent } from '../core/control/ControlChannel.ts';
import type { StateStore } from '../core/control/ControlPorts.ts';
import { MqttClient } from '../core/mqtt/MqttClient.ts';
import type { Board } from '../io/Board.ts';
import type { CameraUploader } from './CameraUploader.ts';
import { CONTROL_BOARD_DEFAULTS } from './BoardDocument.ts';
import type { ControlConfig, DeviceConfig } from './DeviceConfig.ts';
import { deviceControls } from './deviceControls.ts';

/** The state file over the board: a missing file is "no state yet", anything else unreadable is reported by the channel. */
function stateStore(board: Board, path: string): StateStore {
  return {
    read: () => {
      try {
        return board.readBytes(path);
      } catch (err) {
        if (/^ENOENT\b/.test((err as Error).message)) return undefined;
        throw err;
      }
    },
    write: (bytes) => board.writeBytesAtomic(path, bytes),
  };
}

/**
 * Builds the control channel of a device: the state file is read and applied to the pipeline now, before
 * anything connects (so a camera told to stop stays stopped across restarts); `channel.start()` then opens
 * the MQTT connection (TLS with the device certificate, client id = thing name). Nothing here can stop the
 * device: connection failures and refusals arrive as `error` events and streaming goes on.
 */
export function startControl(
  board: Board,
  config: DeviceConfig,
  control: ControlConfig,
  uploaders: readonly CameraUploader[],
  restart: () => void,
  onEvent: (event: ControlEvent) => void,
): ControlChannel {
  const tls = { ca: board.readText(control.caFile), cert: board.readText(control.certFile), key: board.readText(control.keyFile) };
  // The MQTT client's buffers are fixed at start and sized by the board (manifest `control`; 4 KiB × 8 by default).
  // The state buffer and the bound on waiting results too (CONTROL_BUSY past it): smaller where memory is tight.
  const { maxPacketBytes, maxQueued, stateBytes, pendingResults } = config.board.control ?? CONTROL_BOARD_DEFAULTS;
  return new ControlChannel({
    thing: control.thingName,
    device: deviceControls(board, config, uploaders, restart),
    state: stateStore(board, control.stateFile),
    timers: board.timers,
    clock: board.clock,
    onEvent,
    ...(stateBytes !== undefined ? { stateBytes } : {}),
    ...(pendingResults !== undefined ? { pendingResults } : {}),
    mqtt: (callbacks) =>
      new MqttClient({
        sockets: board.sockets,
        timers: board.timers,
        clock: board.clock,
        random: board.random,
        host: control.host,
        port: control.port,
        tls,
        clientId: control.thingName,
        keepAliveSeconds: control.keepAliveSeconds,
        will: callbacks.will,
        maxPacketBytes,
        maxQueued,
        ...(config.board.net ? { deadlines: config.board.net } : {}),
        onMessage: callbacks.onMessage,
        onConnectionChange: callbacks.onConnectionChange,
        onQueueSpace: callbacks.onQueueSpace,
        onOversize: callbacks.onOversize,
        onError: callbacks.onError,
      }),
  });
}
