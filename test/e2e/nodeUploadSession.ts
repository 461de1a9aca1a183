// PutMediaSession with its KvsControlClient on the Node board's ports, as the e2e suites and the upload bench build
// it by hand (the device composes its own in firmware/app/CameraUploader.ts): what they vary is the session's options.
import { nodeHash } from '../../firmware/boards/node/nodeHash.ts';
import { nodeSocket } from '../../firmware/boards/node/nodeSocket.ts';
import { nodeTimers } from '../../firmware/boards/node/nodeTime.ts';
import type { HttpTarget } from '../../firmware/core/net/httpExchange.ts';
import { KvsControlClient } from '../../firmware/core/kvs/KvsControlClient.ts';
import { PoolFragmentSource } from '../../firmware/core/kvs/PoolFragmentSource.ts';
import { PutMediaSession, type PutMediaSessionOptions } from '../../firmware/core/kvs/PutMediaSession.ts';
import type { FrameInput } from '../../firmware/core/media/FrameInput.ts';
import type { SocketFactory } from '../../firmware/io/Socket.ts';

type Wired = 'source' | 'control' | 'sockets' | 'timers' | 'hash' | 'region' | 'random';

export interface NodeUploadOptions extends Omit<PutMediaSessionOptions, Wired> {
  /** The KVS control plane (DescribeStream, GetDataEndpoint, CreateStream). */
  readonly target: HttpTarget;
  /** Default nodeSocket; a fault proxy's factory to cut or slow the link. */
  readonly sockets?: SocketFactory;
  /** Default Math.random (backoff jitter). */
  readonly random?: () => number;
}

/** A session over the pool of `input` to the stream at `target` in us-east-1; not started. */
export function nodeUploadSession(input: FrameInput, o: NodeUploadOptions): PutMediaSession {
  const { target, sockets = nodeSocket, random = Math.random, ...rest } = o;
  const ports = { sockets, timers: nodeTimers, hash: nodeHash, clock: o.clock, region: 'us-east-1' };
  const control = new KvsControlClient({ ...ports, target, credentials: o.credentials, userAgent: o.userAgent });
  return new PutMediaSession({ ...rest, ...ports, source: new PoolFragmentSource(input), control, random });
}
