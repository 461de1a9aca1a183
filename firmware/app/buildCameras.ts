import { FieldcamError } from '../core/errors.ts';
import type { IotCredentialsClient, IotCredentialsEvent } from '../core/iot/IotCredentialsClient.ts';
import type { SessionEvent } from '../core/kvs/PutMediaSession.ts';
import { ServerClock } from '../core/net/ServerClock.ts';
import type { Board } from '../io/Board.ts';
import { CameraUploader } from './CameraUploader.ts';
import { spoolReadBytes } from './cameraSpool.ts';
import { cameraConfigs } from './cameraConfigs.ts';
import type { DeviceConfig } from './DeviceConfig.ts';
import { iotCredentialsFor } from './iotCredentialsFor.ts';
import { planHeap, type HeapPlan } from './heapBudget.ts';
import { planPools, type PoolPlan } from './poolBudget.ts';

/**
 * A camera's share of one event-loop turn when the device has several: a pipe's capacity (64 KiB on Linux). Each
 * camera pumps from its own timer, so between two turns of a camera that floods its pipe every other camera reads
 * its share and every socket (PutMedia ACKs included) runs: no camera waits for another's backlog.
 */
export const CAMERA_TURN_BYTES = 64 * 1024;

/** The device's cameras: one CameraUploader each, and what they share. */
export interface DeviceCameras {
  readonly uploaders: readonly CameraUploader[];
  /** The one credentials client of a multi-camera device from a bundle (the device starts and closes it). */
  readonly iot?: IotCredentialsClient;
  /** The pools of a multi-camera device, checked against the board's budget (absent with one camera). */
  readonly plan?: PoolPlan;
  /** The JS heap estimate of a multi-camera device, checked against the runtime's limit (absent with one camera or no limit). */
  readonly heap?: HeapPlan;
}

/**
 * Builds the device's cameras. One camera: its CameraUploader as always (it owns its credentials client and pool).
 * Several (`cameras`): the memory budget is checked first (planPools and planHeap: CONFIG_INVALID naming the numbers,
 * before anything is allocated), then one arena holds every pool, one IoT credentials client signs for all (its refusal
 * ends every camera), one TLS configuration serves every connection, and each camera reads its fair share per turn. Throws FieldcamError (CONFIG_INVALID, …).
 */
export function buildCameras(
  board: Board,
  config: DeviceConfig,
  onEvent: (camera: DeviceConfig, event: SessionEvent) => void,
  onCredentials: (event: IotCredentialsEvent) => void,
): DeviceCameras {
  if (!config.cameras) return { uploaders: [new CameraUploader(board, config, (e) => onEvent(config, e), onCredentials)] };
  const cameras = cameraConfigs(config);
  const plan = planPools(config.board, cameras);
  // The JS heap too, before the first camera is built: past the limit the engine would stop the device later, mid-stream.
  const heap = planHeap(
    board.memory(),
    board.slotSize,
    cameras,
    plan.pools.map((p) => p.sizing),
  );
  // Each camera's spool read buffer follows the pools in the same memory (outside the JS heap where the board has it).
  const readBytes = cameras.map(spoolReadBytes);
  const arena = board.framePoolMemory?.(plan.totalBytes + readBytes.reduce((a, b) => a + b, 0));
  let readAt = plan.totalBytes;
  const uploaders: CameraUploader[] = [];
  const tls = Object.freeze({ ca: board.readText(config.endpoint.caFile) });
  const iot = iotCredentialsFor(board, config, new ServerClock(board.clock), (e) => {
    if (e.type === 'failed') for (const u of uploaders) u.fail(new FieldcamError(e.code, e.message));
    onCredentials(e);
  });
  cameras.forEach((camera, i) => {
    const pool = plan.pools[i]!;
    const bytes = readBytes[i]!;
    const spoolBuffer = arena && bytes > 0 ? new Uint8Array(arena, readAt, bytes) : undefined;
    readAt += bytes;
    uploaders.push(
      new CameraUploader(board, camera, (e) => onEvent(camera, e), onCredentials, {
        ...(iot ? { iot } : {}),
        tls,
        pool: { sizing: pool.sizing, ...(arena ? { arena } : {}), offset: pool.offset },
        ...(spoolBuffer ? { spoolBuffer } : {}),
        turnBytes: CAMERA_TURN_BYTES,
      }),
    );
  });
  return { uploaders, ...(iot ? { iot } : {}), plan, ...(heap ? { heap } : {}) };
}
