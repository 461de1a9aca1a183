// Playback from the local KVS (issue 16): HLS streaming sessions, GetClip and GetImages, remuxed from the stored
// Matroska fragments. Served with the media routes (../media/index.ts).
import type { Route } from '../../types.ts';
import { getClipRoute } from './getClipRoute.ts';
import { getImagesRoute } from './getImagesRoute.ts';
import { hlsRoutes } from './hlsRoutes.ts';

export const playbackRoutes: readonly Route[] = Object.freeze([...hlsRoutes, getClipRoute, getImagesRoute]);

export { CLIP_LIMITS } from './getClipRoute.ts';
export { HLS_PATHS } from './hlsPlaylists.ts';
