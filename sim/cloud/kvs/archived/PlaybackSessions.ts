import { randomBytes } from 'node:crypto';
import { CloudError, type CloudContext } from '../../types.ts';
import type { TimestampSource } from './selectFragments.ts';

export type PlaybackMode = 'LIVE' | 'LIVE_REPLAY' | 'ON_DEMAND';
export type DiscontinuityMode = 'ALWAYS' | 'NEVER' | 'ON_DISCONTINUITY';

/** What GetHLSStreamingSessionURL (or GetDASHStreamingSessionURL) fixed for a session. */
export interface PlaybackSession {
  readonly protocol: 'HLS' | 'DASH';
  readonly streamArn: string;
  readonly streamName: string;
  readonly mode: PlaybackMode;
  readonly container: 'FRAGMENTED_MP4' | 'MPEG_TS';
  readonly source: TimestampSource;
  readonly startMs?: number;
  readonly endMs?: number;
  readonly discontinuity: DiscontinuityMode;
  readonly displayTimestamp: boolean;
  /** DASH DisplayFragmentNumber ALWAYS. */
  readonly displayNumber?: boolean;
  readonly maxResults: number;
  /** ctx.now() when the session was created: LIVE_REPLAY adds fragments as time passes from here. */
  readonly createdMs: number;
  /** ctx.now() after which every request of the session is refused (Expires). */
  readonly expiresMs: number;
}

/**
 * Live sessions are bounded: creating a session first drops the expired ones, and past this many live
 * sessions the request is throttled as KVS throttles (ClientLimitExceededException).
 */
const MAX_SESSIONS = 1000;

const registries = new WeakMap<CloudContext, Map<string, PlaybackSession>>();

function sessionsOf(ctx: CloudContext): Map<string, PlaybackSession> {
  let map = registries.get(ctx);
  if (!map) registries.set(ctx, (map = new Map()));
  return map;
}

/**
 * Streaming sessions of the running cloud, by their token. The token is opaque and unguessable (256 random
 * bits), like KVS's; it is the only authorization of the playlist and fragment requests, which a player
 * makes without AWS credentials. Sessions live in memory: a cloud restart ends them (players ask again).
 */
export function createSession(ctx: CloudContext, session: PlaybackSession): string {
  const sessions = sessionsOf(ctx);
  const now = ctx.now();
  for (const [token, s] of sessions) if (s.expiresMs <= now) sessions.delete(token);
  if (sessions.size >= MAX_SESSIONS) throw new CloudError(400, 'ClientLimitExceededException', 'Too many streaming sessions are open; try again later.');
  const token = randomBytes(32).toString('base64url');
  sessions.set(token, Object.freeze({ ...session }));
  return token;
}

/** The session of a playlist or fragment request; 403 NotAuthorizedException once it expired (Expires). */
export function sessionFor(ctx: CloudContext, token: string | null): PlaybackSession {
  if (!token) throw new CloudError(400, 'InvalidArgumentException', 'The SessionToken parameter is required.');
  const session = sessionsOf(ctx).get(token);
  if (!session) throw new CloudError(400, 'InvalidArgumentException', 'The SessionToken is not valid.');
  if (session.expiresMs <= ctx.now()) throw new CloudError(403, 'NotAuthorizedException', 'The streaming session has expired.');
  return session;
}
