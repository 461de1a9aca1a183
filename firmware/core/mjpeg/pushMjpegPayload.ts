import type { Frame } from '../media/Frame.ts';
import { pushFrameBytes } from '../media/pushFrameBytes.ts';
import type { ViewList } from '../media/ViewList.ts';

/**
 * Appends a JPEG frame's payload to `out` for a Matroska `V_MJPEG` block: the whole image from SOI to EOI,
 * unchanged (Matroska codec mapping: each block is one complete JPEG picture). One or two views, pointing
 * into the frame's slots; nothing is copied.
 */
export function pushMjpegPayload(frame: Frame, out: ViewList): void {
  pushFrameBytes(frame, out, 0, frame.size);
}
