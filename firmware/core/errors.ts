// The table of stable error codes the device can raise, grouped by area. Retry decisions and tests read `code`,
// never the message. Each entry carries the remedy a user should read next to the specific message.
// KVS/PIC status names are cited where an entry mirrors one (kvs-reference.md §8).
// Host tools add their own areas (cli, provision, flash, ebml) with `registerErrors` (host/shared/hostErrors.ts),
// so their remedy text stays out of the firmware bundle; FieldcamError takes both.

export interface ErrorSpec {
  readonly area: string;
  readonly retryable: boolean;
  readonly remedy: string;
}

/** One frozen table entry. */
export function errorEntry(area: string, retryable: boolean, remedy: string): ErrorSpec {
  return Object.freeze({ area, retryable, remedy });
}

const spec = errorEntry;

export const ERRORS = Object.freeze({
  // ── input ──
  INPUT_EMPTY: spec('input', false, 'the input has no bytes; check the capture command or file path'),
  INPUT_READ_FAILED: spec('input', true, 'the frame source could not be read; check the device or file permissions'),
  INPUT_NO_FRAMES: spec(
    'input',
    false,
    'the camera sends bytes but no frame of the configured codec came out of them; check the capture command (codec, raw elementary stream, not a container)',
  ),

  // ── H.264 (ITU-T H.264 Annex B, 7.3) ──
  H264_NOT_ANNEXB: spec(
    'h264',
    false,
    'the input is not an Annex-B H.264 elementary stream; extract one with `ffmpeg -i in.mp4 -c:v copy -bsf:v h264_mp4toannexb -f h264 out.h264`',
  ),
  H264_FORBIDDEN_BIT: spec('h264', false, 'a NAL unit has forbidden_zero_bit set: the stream is corrupt'),
  H264_TRUNCATED_NAL: spec('h264', false, 'a NAL unit ends before its syntax does (PIC 0x3200000d); the stream was cut or corrupted'),
  H264_NO_PARAMETER_SETS: spec(
    'h264',
    false,
    'a slice arrived before any SPS/PPS (PIC 0x3200002b/2c); make the encoder repeat SPS/PPS before every IDR (x264 repeat-headers, v4l2 repeat_sequence_header=1)',
  ),
  H264_SPS_INVALID: spec('h264', false, 'the sequence parameter set could not be parsed (PIC 0x32000015); the stream is corrupt'),
  H264_SPS_UNSUPPORTED: spec('h264', false, 'this SPS uses a feature fieldcam does not stream (interlaced or 4:4:4 separate planes); encode progressive 4:2:0'),
  H264_PPS_INVALID: spec('h264', false, 'the picture parameter set is malformed; the stream is corrupt'),
  H264_B_FRAMES_UNSUPPORTED: spec(
    'h264',
    false,
    'B-frames make PTS differ from DTS and KVS fragments need PTS == DTS at the start; encode with bframes=0 (ffmpeg -bf 0, x264enc bframes=0)',
  ),
  H264_TOO_MANY_NALS: spec('h264', false, 'an access unit has more NAL units than the frame record holds; use fewer slices per picture'),
  H264_SLICE_INVALID: spec('h264', false, 'a slice header has an impossible value or a picture lost its first slice; the stream is corrupt'),
  H264_PARAMETER_SETS_CHANGED: spec(
    'h264',
    false,
    'the SPS/PPS changed mid-stream (new resolution or profile); one Matroska segment has one CodecPrivate, so split the input there',
  ),
  H264_CALL_ORDER: spec(
    'h264',
    false,
    'the H.264 reader was used after end() or an error, or from inside its own callback (a bug in the caller): create a new reader',
  ),

  // ── H.265 / HEVC (ITU-T H.265 Annex B, 7.3) ──
  H265_NOT_ANNEXB: spec(
    'h265',
    false,
    'the input is not an Annex-B H.265 elementary stream; extract one with `ffmpeg -i in.mp4 -c:v copy -bsf:v hevc_mp4toannexb -f hevc out.h265`',
  ),
  H265_FORBIDDEN_BIT: spec('h265', false, 'a NAL unit has forbidden_zero_bit set: the stream is corrupt'),
  H265_TRUNCATED_NAL: spec('h265', false, 'a NAL unit ends before its syntax does (PIC 0x3200000d); the stream was cut or corrupted'),
  H265_NO_PARAMETER_SETS: spec(
    'h265',
    false,
    'a slice arrived before a VPS, SPS and PPS; make the encoder repeat them before every IRAP picture (x265 --repeat-headers, ffmpeg -x265-params repeat-headers=1)',
  ),
  H265_SPS_INVALID: spec('h265', false, 'the sequence parameter set could not be parsed (PIC 0x32000015); the stream is corrupt'),
  H265_SPS_UNSUPPORTED: spec(
    'h265',
    false,
    'this SPS uses a feature fieldcam does not stream (field-coded pictures, several layers); encode progressive single-layer H.265',
  ),
  H265_PPS_INVALID: spec('h265', false, 'the picture parameter set is malformed; the stream is corrupt'),
  H265_B_FRAMES_UNSUPPORTED: spec(
    'h265',
    false,
    'the SPS allows picture reordering (sps_max_num_reorder_pics > 0: B-frames), so PTS would differ from DTS and KVS fragments need PTS == DTS; encode with bframes=0 (x265 --bframes 0, ffmpeg -x265-params bframes=0)',
  ),
  H265_TOO_MANY_NALS: spec('h265', false, 'an access unit has more NAL units than the frame record holds; use fewer slices or tiles per picture'),
  H265_SLICE_INVALID: spec('h265', false, 'a slice segment header has an impossible value or a picture lost its first slice segment; the stream is corrupt'),
  H265_PARAMETER_SETS_CHANGED: spec(
    'h265',
    false,
    'the VPS/SPS/PPS changed mid-stream (new resolution or profile); one Matroska segment has one CodecPrivate, so split the input there',
  ),
  H265_CALL_ORDER: spec(
    'h265',
    false,
    'the H.265 reader was used after end() or an error, or from inside its own callback (a bug in the caller): create a new reader',
  ),

  // ── audio (ADTS: ISO/IEC 13818-7 6.2; G.711) ──
  AUDIO_ADTS_INVALID: spec(
    'input',
    false,
    'the audio is not a plain AAC ADTS stream (one raw block per frame, fixed profile/rate/channels); make one with `ffmpeg -i in -c:a aac -f adts out.aac`',
  ),
  AUDIO_FORMAT_MISMATCH: spec(
    'input',
    false,
    "the AAC stream's rate, channels or profile differ from camera.audio (the track declared at boot); set camera.audio.sampleRate/channels to what the encoder makes, or make it AAC-LC at those (ffmpeg -c:a aac -ar RATE -ac CHANNELS -f adts)",
  ),

  // ── MJPEG (ITU-T T.81 Annex B) ──
  MJPEG_NOT_JPEG: spec('mjpeg', false, 'the input is not a sequence of JPEG images (no SOI marker FFD8); check the camera format'),
  MJPEG_TRUNCATED: spec('mjpeg', false, 'a JPEG image ends before its EOI marker; the stream was cut or corrupted'),
  MJPEG_SEGMENT_INVALID: spec('mjpeg', false, 'a JPEG marker segment has an impossible length; the image is corrupt'),
  MJPEG_NO_FRAME_SIZE: spec('mjpeg', false, 'a JPEG image has no SOF header giving its width and height'),
  MJPEG_SIZE_CHANGED: spec('mjpeg', false, 'the image size changed mid-stream; one Matroska track has one size, so keep the camera resolution fixed'),
  MJPEG_CALL_ORDER: spec(
    'mjpeg',
    false,
    'the MJPEG reader was used after end() or an error, or from inside its own callback (a bug in the caller): create a new reader',
  ),

  // ── frame pool ──
  POOL_CONFIG_INVALID: spec('pool', false, 'pool.slotCount/slotBytes/maxFrames in the board manifest must be positive integers'),
  POOL_FRAME_TOO_LARGE: spec(
    'pool',
    false,
    'an access unit is larger than a pool slot; raise pool.slotBytes in the board manifest or lower the bitrate / resolution',
  ),
  POOL_EXHAUSTED: spec('pool', true, 'every slot holds frames awaiting acknowledgement; frames are dropped until one is released'),

  // ── Matroska / KVS fragment rules (kvs-reference.md §5.3, §6.2) ──
  MKV_BLOCK_TIMECODE_RANGE: spec('mkv', false, 'a frame is more than 32767 ms from its fragment start (int16 block timecode, PIC 0x3200000c); shorten the GOP'),
  MKV_FRAGMENT_NOT_MONOTONIC: spec('mkv', false, 'fragment timecodes must increase (KVS ACK 4004); check the source timestamps'),
  MKV_FRAME_NOT_MONOTONIC: spec('mkv', false, 'frame timestamps must satisfy DTS(n) >= DTS(n-1) + duration(n-1) (PIC 0x30000005); check the source timestamps'),
  MKV_FRAGMENT_START_NOT_KEY: spec('mkv', false, 'a fragment must start on a key frame'),
  MKV_FRAGMENT_START_PTS_DTS: spec('mkv', false, 'the key frame starting a fragment must have PTS == DTS (PIC 0x32000011)'),
  MKV_FRAGMENT_TOO_LONG: spec(
    'mkv',
    false,
    'key frames are further apart than the maximum fragment duration (KVS ACK 4002); set the encoder key-frame interval lower (ffmpeg -g, x264 keyint, v4l2 h264_i_frame_period)',
  ),
  MKV_FRAGMENT_TOO_LARGE: spec('mkv', false, 'a fragment exceeds 50 MB (KVS ACK 4001); lower the bitrate or the key-frame interval'),
  MKV_VIEW_LIST_FULL: spec('mkv', false, 'the output view list is too small for this frame; raise its capacity'),
  MKV_TOO_MANY_TRACKS: spec(
    'mkv',
    false,
    'KVS takes at most 3 tracks per stream (KVS ACK 4012, PIC MAXIMUM_TRACK_COUNT_EXCEEDED): one video and at most two audio tracks',
  ),
  MKV_TRACK_MISSING_IN_FRAGMENT: spec(
    'mkv',
    false,
    'every track must have a frame in every fragment (KVS ACK 4011): the audio input is shorter than the video or has a gap; trim the video or give audio for its whole length',
  ),
  MKV_CODEC_PRIVATE_INVALID: spec('mkv', false, 'codec private data is missing or longer than 1 MiB (PIC 0x32000008/9)'),
  MKV_CODEC_ID_INVALID: spec('mkv', false, 'the Matroska CodecID must be 1-32 printable ASCII characters (PIC STATUS_MKV_INVALID_CODEC_ID_LENGTH)'),
  MKV_TRACK_NAME_INVALID: spec('mkv', false, 'the track name must be 1-32 bytes of UTF-8 (PIC STATUS_MKV_INVALID_TRACK_NAME_LENGTH)'),
  MKV_CALL_ORDER: spec(
    'mkv',
    false,
    'the writer was called out of order: header() once per connection, startFragment() before block(), endFragment() only inside a fragment',
  ),

  // ── fragment metadata (kvs-reference.md §5.6) ──
  METADATA_TOO_MANY: spec('metadata', false, 'a fragment carries at most 10 metadata items (KVS ACK 4009); remove some'),
  METADATA_NAME_INVALID: spec('metadata', false, 'metadata names are 1-128 bytes of UTF-8'),
  METADATA_NAME_RESERVED: spec('metadata', false, 'names starting with "AWS" are reserved for KVS (PIC 0x52000077); rename the item'),
  METADATA_VALUE_TOO_LONG: spec('metadata', false, 'metadata values are at most 256 bytes of UTF-8'),

  // ── event recording (docs/events.md) ──
  EVENT_LINE_TOO_LONG: spec('event', false, 'a trigger line is at most 256 bytes with its newline; the line was skipped up to the next newline'),
  EVENT_LINE_INVALID: spec(
    'event',
    false,
    'a trigger line is name=value tokens separated by single spaces (docs/events.md, "Local trigger"), e.g. `pre=5s post=20s motion=front`',
  ),
  EVENT_DURATION_INVALID: spec(
    'event',
    false,
    'pre and post are whole numbers with a unit, ms, s or m (e.g. 500ms, 10s, 2m); pre at most the configured pre-roll, post at most 10 minutes',
  ),
  EVENT_TAG_INVALID: spec(
    'event',
    false,
    'an event carries at most 4 tags; names are 1-32 of A-Z a-z 0-9 _ . - (not starting with AWS or FIELDCAM_), values 1-64 printable ASCII characters without spaces',
  ),
  EVENT_MODE_OFF: spec('event', false, 'this device records continuously: set recording.mode to "event" in its configuration or bundle (docs/events.md)'),
  EVENT_NO_VIDEO: spec('event', true, 'no frame has come from the camera yet, so there is no pre-roll to keep; send the event again once the camera streams'),

  // ── upload: KVS control plane and PutMedia (kvs-reference.md §4, §7.7) ──
  UPLOAD_NETWORK: spec('upload', true, 'the endpoint could not be reached or the connection broke; fieldcam retries with backoff'),
  UPLOAD_TLS_VERIFY: spec(
    'upload',
    false,
    'the server certificate could not be verified with the configured CA bundle: check the endpoint and the CA file (a proxy or a wrong endpoint presents another certificate; a board clock far off makes certificates look expired)',
  ),
  UPLOAD_TIMEOUT: spec('upload', true, 'the endpoint did not answer in time; fieldcam retries with backoff'),

  // ── name resolution on the XS boards (firmware/runtime/resolver.c, docs/reliability.md) ──
  NET_DNS_TIMEOUT: spec(
    'net',
    true,
    'the nameserver did not answer the endpoint name in time (fieldcam-runtime --dns-timeout, default 5 s); the camera keeps being read and fieldcam retries with backoff: check the nameservers in /etc/resolv.conf and the network path to them',
  ),
  NET_DNS_FAILED: spec(
    'net',
    true,
    'the endpoint name could not be resolved (the resolver answered no such name or failed: EAI_* in the message); fieldcam retries with backoff: check the endpoint host in the configuration, /etc/hosts and /etc/resolv.conf',
  ),
  UPLOAD_BAD_RESPONSE: spec('upload', true, 'the service sent a response fieldcam cannot read; retried with backoff'),
  UPLOAD_AUTH_FAILED: spec(
    'upload',
    false,
    'the service refused the credentials (403); check the access key, secret and session token, the IAM policy, and that the stream name matches the IoT thing name',
  ),
  UPLOAD_CLOCK_SKEW: spec('upload', true, 'the request time was refused as skewed; fieldcam corrects its clock from the server Date header and retries'),
  UPLOAD_REGION_MISMATCH: spec('upload', false, 'the credentials were scoped to a different region than the endpoint; use the same region for both'),
  UPLOAD_STREAM_NOT_FOUND: spec('upload', false, 'the stream does not exist; create it (fieldcam stream creates it unless --no-create) or fix the name'),
  UPLOAD_STREAM_NOT_ACTIVE: spec('upload', false, 'the stream is being deleted or is not active (ACK 4008/4507)'),
  UPLOAD_THROTTLED: spec('upload', true, 'the service throttled the request (ClientLimitExceeded / ConnectionLimitExceeded); retried with backoff'),
  UPLOAD_SERVICE_ERROR: spec(
    'upload',
    true,
    'the service failed (5xx or ACK 4000/5000/5001); the connection is restarted and un-acknowledged fragments replayed',
  ),
  UPLOAD_FRAGMENT_REJECTED: spec('upload', false, 'KVS refused a fragment (ACK 4001/4002/4004/4006/4007/4009-4012); it is dropped, the stream continues'),
  UPLOAD_CONFIG: spec('upload', false, 'KVS refused the stream configuration (KMS key, tracks); fix the stream settings'),
  UPLOAD_STALE: spec('upload', true, 'no BUFFERING acknowledgement within the connection-staleness window; the connection is reset'),
  UPLOAD_LAST_ACK_MISSING: spec('upload', true, 'stopped before the last fragment was PERSISTED (PIC 0x52000088); those fragments may be lost'),
  UPLOAD_NO_CREDENTIALS: spec('upload', true, 'no credentials are available yet; frames are buffered until they are'),
  UPLOAD_LATENCY_PRESSURE: spec(
    'upload',
    true,
    'the uplink cannot carry the camera: whole oldest un-sent fragments were dropped (reason latency) so the newest video keeps arriving; lower the camera bitrate or improve the link',
  ),
  UPLOAD_FIRST_ACK_TIMEOUT: spec(
    'upload',
    true,
    'PutMedia answered 200 but no acknowledgement followed the first fragment within the deadline (a path that carries the head but not the body); the connection is torn down and un-acknowledged fragments replayed after backoff',
  ),

  // ── network phases (core/net/PhaseDeadline.ts): every phase of a connection attempt has a deadline ──
  NET_CONNECT_TIMEOUT: spec(
    'net',
    true,
    'no TCP connection within the connect deadline (on boards that do not report TCP and TLS apart: connection and TLS handshake); the attempt is torn down and retried with backoff: check the route to the endpoint',
  ),
  NET_TLS_TIMEOUT: spec(
    'net',
    true,
    'TCP connected but the TLS handshake did not finish within its deadline (a path that accepts packets but forwards nothing); the attempt is torn down and retried with backoff',
  ),
  HTTP_HEAD_TIMEOUT: spec(
    'http',
    true,
    'the request was sent but no complete response head arrived within the deadline; the connection is torn down and the request retried with backoff',
  ),

  // ── HTTP/1.1 client (RFC 9112 message syntax, RFC 9110 semantics) ──
  HTTP_REQUEST_LINE_INVALID: spec(
    'http',
    false,
    'the request method must be a token and the target visible ASCII without spaces (RFC 9112 §3); check the path built from configuration',
  ),
  HTTP_HEADER_INVALID: spec(
    'http',
    false,
    'a header name is not a token or a value holds CR, LF, NUL or another control character (RFC 9110 §5.1, §5.5); check the configured values, or the peer sent a malformed field line',
  ),
  HTTP_HEAD_TOO_LARGE: spec(
    'http',
    false,
    'an HTTP head or trailer section exceeds its limit (request scratch, response bytes or field count); raise the limit or check what the peer sends',
  ),
  HTTP_STATUS_LINE_INVALID: spec(
    'http',
    true,
    'the response does not start with an HTTP/1.x status line (RFC 9112 §4); check that the endpoint and port speak HTTP/1.1 (and TLS where expected)',
  ),
  HTTP_FRAMING_INVALID: spec(
    'http',
    true,
    'the response Content-Length / Transfer-Encoding are invalid or conflict (RFC 9112 §6.3); the message length cannot be trusted, so the connection is dropped',
  ),
  HTTP_CHUNK_INVALID: spec('http', true, 'the chunked response body is malformed (RFC 9112 §7.1); the connection is dropped'),
  HTTP_TRUNCATED: spec('http', true, 'the connection closed before the response was complete; reconnect'),
  HTTP_CALL_ORDER: spec('http', false, 'the response parser was used after end() or after an error; reset() it for a new connection'),

  // ── SigV4 request signing (kvs-reference.md §10) ──
  SIGV4_CLOCK_NOT_SET: spec(
    'sigv4',
    true,
    'the board clock is before the signing floor date (no RTC, no time yet); frames stay buffered until the clock is set from NTP or a server Date header',
  ),

  // ── PutMedia ACK stream (kvs-reference.md §4.4); PIC treats these as self-correcting warnings ──
  ACK_SEGMENT_TOO_LONG: spec(
    'kvs',
    true,
    'an ACK object is longer than 1,024 characters (PIC 0x52000071 INVALID_ACK_SEGMENT_LEN); it is skipped and parsing resumes at the next ACK',
  ),
  ACK_OUTSIDE_OBJECT: spec('kvs', true, 'bytes other than whitespace arrived between ACK objects; they are skipped up to the next "{"'),
  ACK_KEY_INVALID: spec('kvs', true, 'an ACK object has no valid key where one must start (PIC 0x5200004d INVALID_ACK_KEY_START); the ACK is skipped'),
  ACK_DUPLICATE_KEY: spec('kvs', true, 'an ACK object repeats a key (PIC 0x5200004e INVALID_DUPLICATE_KEY_NAME); the ACK is skipped'),
  ACK_VALUE_INVALID: spec('kvs', true, 'an ACK value has the wrong type or is malformed (PIC 0x5200004f INVALID_ACK_INVALID_VALUE_START); the ACK is skipped'),
  ACK_VALUE_END_INVALID: spec('kvs', true, 'an ACK value is not followed by "," or "}" (PIC 0x52000050 INVALID_ACK_INVALID_VALUE_END); the ACK is skipped'),
  ACK_EVENT_TYPE_UNKNOWN: spec(
    'kvs',
    true,
    'the ACK EventType is not BUFFERING, RECEIVED, PERSISTED, ERROR or IDLE (PIC 0x52000051 INVALID_PARSED_ACK_TYPE); the ACK is skipped',
  ),
  ACK_EVENT_TYPE_MISSING: spec('kvs', true, 'an ACK object has no EventType (PIC 0x52000051 INVALID_PARSED_ACK_TYPE); the ACK is skipped'),
  ACK_ERROR_ID_MISSING: spec('kvs', true, 'an ERROR ACK has no ErrorId (PIC 0x52000070 MISSING_ERR_ACK_ID); the ACK is skipped'),
  ACK_TIMECODE_MISSING: spec(
    'kvs',
    true,
    'a BUFFERING, RECEIVED or PERSISTED ACK has no FragmentTimecode (PIC 0x52000070: parsed, but the fragment information is missing); the ACK is skipped',
  ),
  ACK_FRAGMENT_NUMBER_TOO_LONG: spec(
    'kvs',
    true,
    'an ACK FragmentNumber is longer than 128 characters (the producer SDK maximum sequence length); the ACK is skipped',
  ),
  ACK_CALL_ORDER: spec(
    'kvs',
    false,
    'the ACK parser was called from inside its own callback (a bug in the caller): copy the event and act after the callback returns',
  ),

  // ── CBOR codec (RFC 8949); control and configuration payloads ──
  CBOR_BUFFER_TOO_SMALL: spec('cbor', false, 'the encoded value does not fit the output buffer; raise the scratch size or send a smaller value'),
  CBOR_TRUNCATED: spec('cbor', false, 'the CBOR data ends inside a data item (RFC 8949 §3); the payload was cut or is not CBOR'),
  CBOR_TOO_DEEP: spec(
    'cbor',
    false,
    'arrays, maps and tags are nested deeper than the codec accepts (or the value is cyclic); flatten the document or raise maxDepth',
  ),
  CBOR_LIMIT: spec(
    'cbor',
    false,
    'the CBOR data exceeds a decoder limit (total bytes, data items or string length); send a smaller payload or raise the limit',
  ),
  CBOR_UNSUPPORTED: spec(
    'cbor',
    false,
    'the data uses a CBOR feature fieldcam does not accept (indefinite length, a tag other than 64, a simple value, an integer beyond 2^53) or the value has no CBOR mapping here (BigInt, Map, Date, a function); encode plain objects, arrays, strings, numbers, booleans, null and byte strings',
  ),
  CBOR_TRAILING_BYTES: spec('cbor', false, 'bytes follow the single top-level data item; a payload is exactly one CBOR item'),
  CBOR_INVALID_UTF8: spec(
    'cbor',
    false,
    'a text string is not valid UTF-8 (RFC 8949 §5.3.1), or a string to encode holds a lone surrogate, which has no UTF-8 form',
  ),
  CBOR_DUPLICATE_KEY: spec('cbor', false, 'a map repeats a key (RFC 8949 §5.6); each key may appear once'),
  CBOR_MAP_KEY_INVALID: spec('cbor', false, 'a map key is not a text string; fieldcam documents use string keys only'),
  CBOR_MALFORMED: spec(
    'cbor',
    false,
    'the data is not well-formed CBOR (reserved additional information 28-30, a stray break, a two-byte simple value below 32; RFC 8949 §3, Appendix F)',
  ),

  // ── MQTT 3.1.1 packet codec (OASIS mqtt-v3.1.1-os); the client drops the connection on decoder errors ──
  MQTT_MALFORMED: spec(
    'mqtt',
    true,
    'the broker sent a malformed packet (remaining length, reserved flags §2.2.2, lengths, UTF-8 §1.5.3); the connection is dropped and re-established with backoff',
  ),
  MQTT_PACKET_TOO_LARGE: spec(
    'mqtt',
    true,
    'a packet from the broker is larger than the client accepts (publish smaller messages to the device topics or raise maxPacketBytes; the connection is dropped), or one to send exceeds the 268,435,455-byte remaining length of §2.2.3',
  ),
  MQTT_PROTOCOL_VIOLATION: spec(
    'mqtt',
    true,
    'the broker sent a packet a client must not receive (a client-to-server type, QoS 2, packet identifier 0, a reserved return code, a wildcard in a topic name); the connection is dropped (§4.8)',
  ),
  MQTT_TOPIC_INVALID: spec(
    'mqtt',
    false,
    'a topic name or filter is invalid (§4.7): empty, longer than 65,535 bytes, holding U+0000, a wildcard in a name, or a misplaced + or #; check the thing name and topic configuration',
  ),
  MQTT_STRING_INVALID: spec(
    'mqtt',
    false,
    'a string field (client id, user name, will topic) holds U+0000 or a lone surrogate or is longer than 65,535 UTF-8 bytes (§1.5.3); fix the configured value',
  ),
  MQTT_BUFFER_TOO_SMALL: spec('mqtt', false, 'the packet does not fit the output buffer; raise the scratch size or send a smaller payload'),
  MQTT_CALL_ORDER: spec('mqtt', false, 'the decoder was used after an error or from inside its own callback; drop the connection and reset() it'),
  MQTT_CONNECT_REFUSED: spec(
    'mqtt',
    true,
    'the broker refused the connection (CONNACK return code 1-3, §3.2.2.3: protocol version, client identifier, server unavailable); the client retries with backoff',
  ),
  MQTT_NOT_AUTHORIZED: spec(
    'mqtt',
    false,
    'the broker refused the credentials (CONNACK return code 4 or 5, §3.2.2.3); the client stops retrying: check the device certificate, its IoT policy and the client id',
  ),
  MQTT_SUBSCRIBE_REFUSED: spec('mqtt', false, 'the broker refused a subscription (SUBACK 0x80, §3.9.3); check the IoT policy allows the topic filter'),
  MQTT_TLS_VERIFY: spec(
    'mqtt',
    false,
    'the broker certificate could not be verified with ca.pem: check endpoints.iotData (iot:Data-ATS) and the CA in the bundle; the client stops retrying',
  ),
  MQTT_CONNACK_TIMEOUT: spec(
    'mqtt',
    true,
    'the broker accepted the connection but sent no CONNACK within the deadline (§3.1.4); the client reconnects with backoff',
  ),
  MQTT_CONNECTION_LOST: spec(
    'mqtt',
    true,
    'the connection to the broker failed, closed, or missed a CONNACK or PINGRESP in time; the client reconnects with backoff and re-sends unacknowledged QoS 1 messages',
  ),

  // ── AWS IoT credentials provider (kvs-reference.md §9): mTLS GET /role-aliases/<alias>/credentials ──
  IOT_CERTIFICATE_REFUSED: spec(
    'iot',
    false,
    'the credentials provider refused the device certificate ("Certificate is invalid on this endpoint"): it is revoked, inactive or from another account/region; activate it or provision a new one (fieldcam provision)',
  ),
  IOT_THING_REFUSED: spec(
    'iot',
    false,
    'the credentials provider refused the thing name ("Invalid thing name passed"): the certificate is not attached to this thing; check thingName in device.cbor and attach-thing-principal',
  ),
  IOT_ACCESS_DENIED: spec(
    'iot',
    false,
    'the credentials provider denied access ("Access Denied"): the IoT policy on the certificate must allow iot:AssumeRoleWithCertificate on the role alias ARN',
  ),
  IOT_ROLE_ALIAS_NOT_FOUND: spec(
    'iot',
    false,
    'the role alias does not exist in this account and region; check roleAlias in device.cbor (aws iot describe-role-alias)',
  ),
  IOT_ROLE_REFUSED: spec(
    'iot',
    false,
    'the role alias points at a role the credentials provider cannot assume (missing role, trust policy without credentials.iot.amazonaws.com, or a duration above the role MaxSessionDuration)',
  ),
  IOT_TLS_VERIFY: spec(
    'iot',
    false,
    'the credentials provider certificate could not be verified with ca.pem: check endpoints.credentialProvider (iot:CredentialProvider, not iot:Data-ATS) and the CA in the bundle',
  ),
  IOT_PROVIDER_UNAVAILABLE: spec(
    'iot',
    true,
    'the credentials provider could not be reached or failed (network, timeout, 429, 5xx); fieldcam retries with backoff and buffers frames meanwhile',
  ),
  IOT_BAD_RESPONSE: spec('iot', true, 'the credentials provider sent an answer fieldcam cannot read (status, size or fields); retried with backoff'),

  // ── control channel (docs/control-channel.md): commands, desired configuration, the device's state file ──
  CONTROL_PAYLOAD_INVALID: spec(
    'control',
    false,
    'the command or desired document is not a CBOR map of at most 1024 bytes with the documented keys (id 1-64 chars, name text, args map; version uint, settings map): encode it with cbor-x as docs/control-channel.md shows',
  ),
  CONTROL_UNKNOWN_COMMAND: spec('control', false, 'the command name is not one of start, stop, set, tag, event, status, reload-credentials, restart'),
  CONTROL_ARGUMENT_INVALID: spec(
    'control',
    false,
    'an argument or setting is unknown, of the wrong type or out of range: see the tables in docs/control-channel.md',
  ),
  CONTROL_UNSUPPORTED: spec(
    'control',
    false,
    'this device cannot do that (e.g. fps or bitrateKbps on a camera adapter that cannot change them, reload-credentials with static keys)',
  ),
  CONTROL_STATE_INVALID: spec(
    'control',
    false,
    'the control state file is not a valid state document; the device starts from the defaults and rewrites it at the next change (delete the file to silence this)',
  ),
  CONTROL_STATE_WRITE_FAILED: spec(
    'control',
    true,
    'the control state file could not be written (read-only or full file system); the setting applies until the next restart only: check the state directory',
  ),
  CONTROL_BUSY: spec(
    'control',
    true,
    "more commands arrived at once than the device keeps answers for (its manifest's control.pendingResults); this one was not run and gets no result: send commands one at a time and wait for each result (the same id may be sent again)",
  ),

  // ── storage (firmware/io/Storage.ts) and the spool on it (docs/reliability.md) ──
  STORAGE_NOT_FOUND: spec('storage', false, 'a file or folder the spool needs does not exist; check the spool directory in the bundle or board manifest'),
  STORAGE_DENIED: spec(
    'storage',
    false,
    'the spool directory is not writable by the device (permissions, or a read-only file system); fix its owner/mode or remount it read-write',
  ),
  STORAGE_FULL: spec('storage', true, 'the file system holding the spool is full; free space or lower the spool cap (spool.maxBytes) and free-space floor'),
  STORAGE_IO: spec('storage', true, 'the storage device reported an I/O error (a failing SD card?); check dmesg and replace the card'),
  STORAGE_NOT_DIRECTORY: spec('storage', false, 'the spool path names a file, not a folder; point spool.dir at a folder'),
  STORAGE_CORRUPT: spec(
    'storage',
    false,
    'a spool record failed its length or CRC-32 check; the spool keeps every record before it and cuts the rest (a torn write from a power cut)',
  ),

  STORAGE_VERSION: spec(
    'storage',
    false,
    'the spool holds records in a format this firmware does not read (a newer firmware wrote them); they are left untouched and the device streams from RAM alone: update the firmware, or move the spool folder aside',
  ),

  // ── configuration (the device bundle; host tools add their own codes, host/shared/hostErrors.ts) ──
  CONFIG_INVALID: spec('config', false, 'fix the named field in the configuration file'),
} as const);

/** The codes of the core table. */
export type CoreErrorCode = keyof typeof ERRORS;

/**
 * Codes another layer registers, declared by module augmentation next to its `registerErrors` call
 * (host/shared/hostErrors.ts); empty in the firmware.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by module augmentation
export interface RegisteredErrors {}

export type ErrorCode = CoreErrorCode | keyof RegisteredErrors;

/** Entries added by registerErrors; stays empty on the device. */
const registered = new Map<string, ErrorSpec>();

/**
 * Adds a layer's codes to the ones FieldcamError accepts. A code already in the core table or registered with a
 * different entry throws: one code, one meaning. Registering the same table again (a module loaded twice) is a no-op.
 */
export function registerErrors(table: Readonly<Record<string, ErrorSpec>>): void {
  for (const code of Object.keys(table)) {
    const entry = table[code]!;
    const known = (ERRORS as Readonly<Record<string, ErrorSpec>>)[code] ?? registered.get(code);
    if (known !== undefined && known !== entry) throw new Error(`error code ${code} is already defined`);
    registered.set(code, entry);
  }
}

/** The table entry of `code` (core or registered). Throws naming the code when no layer defined it. */
export function errorSpec(code: ErrorCode): ErrorSpec {
  const entry = (ERRORS as Readonly<Record<string, ErrorSpec>>)[code] ?? registered.get(code);
  if (entry === undefined) throw new Error(`error code ${code} is not in the core table and was not registered (host codes: import host/shared/hostErrors.ts)`);
  return entry;
}

/** The one error class of fieldcam: `code` is stable, `retryable` and `remedy` come from the table. */
export class FieldcamError extends Error {
  override name = 'FieldcamError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly remedy: string;

  constructor(code: ErrorCode, message: string) {
    super(message);
    const entry = errorSpec(code);
    this.code = code;
    this.retryable = entry.retryable;
    this.remedy = entry.remedy;
  }
}

export function isFieldcamError(err: unknown, code?: ErrorCode): err is FieldcamError {
  return err instanceof FieldcamError && (code === undefined || err.code === code);
}
