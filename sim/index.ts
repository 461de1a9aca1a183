// The simulator's public face: what the host CLI (fieldcam sim, cloud, profile) may use. Everything else under
// sim/ is internal to the simulator and free to change; toolchain/checks/deps.mjs keeps host/ on this file.
export { bootBoard, type BootedBoard } from './board/bootBoard.ts';
export { writeDeviceConfig } from './board/writeDeviceConfig.ts';
export { controlPlaneRoutes } from './cloud/kvs/controlPlane.ts';
export { mediaRoutes } from './cloud/kvs/media/index.ts';
export { viewerUrl } from './cloud/viewer/viewerRoutes.ts';
export { DEFAULT_CONFIG, EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY, startCloud } from './cloud/startCloud.ts';
export type { Route } from './cloud/types.ts';
export { runProfile, type BudgetOverrides } from './profile/runProfile.ts';
