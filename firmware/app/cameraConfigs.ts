import type { DeviceConfig } from './DeviceConfig.ts';

/**
 * One configuration per camera of the device, in order: the device's own for a single camera; otherwise the
 * device's with each camera's `camera` map, stream (`<thing>-<camera>`), pool budget, name, and spool folder
 * (`<spoolDir>/<camera>`, an equal share of the cap). Each becomes one
 * CameraUploader; what the cameras share (credentials, control channel, timers) runDevice builds once.
 */
export function cameraConfigs(config: DeviceConfig): readonly DeviceConfig[] {
  const cameras = config.cameras;
  if (!cameras) return [config];
  return cameras.map((spec) =>
    Object.freeze({
      ...config,
      board: Object.freeze({ ...config.board, pool: spec.pool }),
      stream: Object.freeze({ ...config.stream, name: spec.streamName }),
      camera: spec.camera,
      cameraName: spec.name,
      // One spool per camera (docs/spool.md): a folder each, and an equal share of the board's cap.
      ...(config.spoolDir !== undefined ? { spoolDir: `${config.spoolDir}/${spec.name}` } : {}),
      ...(config.board.spool
        ? {
            board: Object.freeze({
              ...config.board,
              pool: spec.pool,
              spool: Object.freeze({ ...config.board.spool, maxBytes: Math.floor(config.board.spool.maxBytes / cameras.length) }),
            }),
          }
        : {}),
    }),
  );
}
