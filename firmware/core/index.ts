// The public surface of the platform-free core, for host tools and tests. The firmware bundle is built from
// firmware/app/main.ts and holds only what the device imports (host-only readers and tools live in host/).
export { ERRORS, FieldcamError, isFieldcamError, type ErrorCode } from './errors.ts';
export { derivePoolSizing, type PoolBudget } from './config/derivePoolSizing.ts';
export { FramePool, DROP_REASONS, type PoolSizing, type DropReason } from './pool/FramePool.ts';
export { FragmentQueue } from './pool/FragmentQueue.ts';
export { Frame, MAX_NALS_PER_FRAME } from './media/Frame.ts';
export { ViewList } from './media/ViewList.ts';
export { StreamCursor, PREPARE, type PrepareResult } from './media/StreamCursor.ts';
export { FrameInput, DEFAULT_FRAME_RATE, type Codec, type FrameRate, type FrameInputOptions } from './media/FrameInput.ts';
export { H264Reader } from './h264/H264Reader.ts';
export { parseSps } from './h264/parseSps.ts';
export { buildAvcDecoderConfig } from './h264/buildAvcDecoderConfig.ts';
export { MjpegReader } from './mjpeg/MjpegReader.ts';
export { MkvWriter } from './mkv/MkvWriter.ts';
export { FragmentMetadata } from './mkv/FragmentMetadata.ts';
export { encodeCbor, CBOR_ENCODE_MAX_DEPTH } from './cbor/encodeCbor.ts';
export { decodeCbor, CBOR_DECODE_LIMITS, type CborDecodeLimits } from './cbor/decodeCbor.ts';
export { PACKET_TYPE, CONNACK_RETURN, SUBACK_FAILURE, type PacketType, type QoS } from './mqtt/mqttConstants.ts';
export { MqttDecoder, MQTT_DECODER_DEFAULTS, type MqttDecoderOptions } from './mqtt/MqttDecoder.ts';
export type { MqttInbound, ConnackRecord, PublishRecord, AckRecord, SubackRecord, PingrespRecord } from './mqtt/MqttInbound.ts';
export { writeConnect, type ConnectFields, type WillFields } from './mqtt/writeConnect.ts';
export { writePublish, writePublishHead, type PublishFields } from './mqtt/writePublish.ts';
export { writePuback } from './mqtt/writePuback.ts';
export { writeSubscribe, type Subscription } from './mqtt/writeSubscribe.ts';
export { writePingreq } from './mqtt/writePingreq.ts';
export { writeDisconnect } from './mqtt/writeDisconnect.ts';
export { checkTopicName, checkTopicFilter } from './mqtt/checkTopic.ts';
