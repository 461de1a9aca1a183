// The `camera source` rows of `fieldcam doctor` for a bundle: one row for a one-camera device (the board's
// adapter), one per camera for a bundle with several (device.cbor `cameras`, each with its own `source` or the
// board's), or a FAIL naming the problem flash would refuse (two cameras on one source, a missing URL file).
import { isFieldcamError } from '../../shared/hostErrors.ts';
import type { BoardManifest } from '../../shared/loadBoardManifest.ts';
import { flashCameras } from '../flash/flashCameras.ts';
import { cameraToolsRow } from './cameraToolsRow.ts';
import type { CheckRow } from './runDoctor.ts';

export function cameraSourceRows(board: BoardManifest, bundle: string, find: (tool: string) => string | undefined, where: string): CheckRow[] {
  let cameras;
  try {
    cameras = flashCameras(board, bundle);
  } catch (err) {
    if (!isFieldcamError(err)) return [cameraToolsRow(board, find, where)]; // an unreadable device.cbor has its own row
    return [
      {
        check: 'camera source',
        status: 'FAIL',
        cause: `${err.code}: ${err.message.replace(/^flash: /, '')}`,
        fix: 'fix device.cbor cameras[i].source or the camera-url-<camera> file, then flash again',
      },
    ];
  }
  if (!cameras) return [cameraToolsRow(board, find, where)];
  return cameras.map((c) => {
    const row = cameraToolsRow({ camera: { source: c.source } }, find, where);
    return { ...row, check: `camera source ${c.name}` };
  });
}
