// The KVS data plane of the local cloud: PutMedia ingest with ACKs, durable fragment storage, and reading
// fragments back (ListFragments, GetMediaForFragmentList, GetMedia), playback (HLS, GetClip: ../archived) and
// the viewer page (../../viewer).
// Pass `mediaRoutes` to startCloud.
import type { Route } from '../../types.ts';
import { archivedMediaRoutes } from './archivedMediaRoutes.ts';
import { playbackRoutes } from '../archived/index.ts';
import { viewerRoutes } from '../../viewer/viewerRoutes.ts';
import { putMediaRoute } from './putMediaRoute.ts';

export const mediaRoutes: readonly Route[] = Object.freeze([putMediaRoute, ...archivedMediaRoutes, ...playbackRoutes, ...viewerRoutes]);

export { ACK_ERROR, formatAck, type Ack, type AckEventType } from './Ack.ts';
export { FragmentStore, compareNumbers, type FragmentRecord } from './FragmentStore.ts';
export { fragmentStoreFor } from './fragmentStoreFor.ts';
export { PutMediaIngest, type IngestedFragment, type PutMediaIngestOptions } from './PutMediaIngest.ts';
export { putMediaConnections, type PutMediaConnection } from './putMediaRoute.ts';
