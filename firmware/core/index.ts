// The public surface of the platform-free core, and the entry point the firmware bundle is built from.
export { ERRORS, FieldcamError, isFieldcamError, type ErrorCode } from './errors.ts';
export { derivePoolSizing, type PoolBudget } from './config/derivePoolSizing.ts';
export { FramePool, DROP_REASONS, type PoolSizing, type DropReason } from './pool/FramePool.ts';
export { FragmentQueue } from './pool/FragmentQueue.ts';
export { Frame, MAX_NALS_PER_FRAME } from './media/Frame.ts';
export { ViewList } from './media/ViewList.ts';
export { StreamCursor, PREPARE, type PrepareResult } from './media/StreamCursor.ts';
export { Muxer, type MuxerOptions, type MuxerStats } from './media/Muxer.ts';
export { FrameInput, DEFAULT_FRAME_RATE, type Codec, type FrameRate, type FrameInputOptions } from './media/FrameInput.ts';
export { H264Reader } from './h264/H264Reader.ts';
export { parseSps } from './h264/parseSps.ts';
export { buildAvcDecoderConfig } from './h264/buildAvcDecoderConfig.ts';
export { MjpegReader } from './mjpeg/MjpegReader.ts';
export { parseJpegSize } from './mjpeg/parseJpegSize.ts';
export { MkvWriter } from './mkv/MkvWriter.ts';
export { FragmentMetadata } from './mkv/FragmentMetadata.ts';
