// The media path's natives as the XS board hands them to the core: the host's functions themselves (scan.c,
// accessunits.c, records.c, block.c and release.c read only their arguments, never `this`). The media path calls
// them once or twice per camera read or frame, and a wrapper would add two JS calls each time. xsBoard uses these;
// so do the XS test harness and the media benches, so that what they measure is what the device runs.
import type { Board } from '../../io/Board.ts';
import { host } from './native.ts';

/** The byte scans (ByteScanPort). */
export function xsByteScan(): NonNullable<Board['byteScan']> {
  const native = host();
  // The steady-state read's native first: XS finds a property by walking the object's in order.
  return Object.freeze({
    readAccessUnits: native.readAccessUnits,
    pushAccessUnits: native.pushAccessUnits,
    indexOfByte: native.indexOfByte,
    findStartCodes: native.findStartCodes,
    classifyNals: native.classifyNals,
    closeAccessUnit: native.closeAccessUnit,
    copyNalTable: native.copyNalTable,
    fillFrameRecord: native.fillFrameRecord,
    scanJpeg: native.scanJpeg,
    pushJpeg: native.pushJpeg,
    readJpeg: native.readJpeg,
  });
}

/** A frame stamped and queued (FrameQueuePort). */
export function xsFrameQueue(): NonNullable<Board['frameQueue']> {
  return Object.freeze({ queueFrame: host().queueFrame });
}

/** The SimpleBlock writers (MkvBlockPort). */
export function xsMkvBlock(): NonNullable<Board['mkvBlock']> {
  return Object.freeze({ pushBlock: host().mkvBlock, writeBlock: host().mkvWriteBlock, writeBlockAlone: host().mkvWriteBlockAlone });
}

/** The frame release (FrameReleasePort). */
export function xsFrameRelease(): NonNullable<Board['frameRelease']> {
  return Object.freeze({ releaseHead: host().releaseHead });
}
