// Playback from the local KVS (issue 16): HLS and DASH streaming sessions, GetClip and GetImages, remuxed from the stored
// Matroska fragments. Served with the media routes (../media/index.ts).
import type { Route } from '../../types.ts';
import { dashRoutes } from './dashRoutes.ts';
import { getClipRoute } from './getClipRoute.ts';
import { getImagesRoute } from './getImagesRoute.ts';
import { hlsRoutes } from './hlsRoutes.ts';

export const playbackRoutes: readonly Route[] = Object.freeze([...hlsRoutes, ...dashRoutes, getClipRoute, getImagesRoute]);

export { CLIP_LIMITS } from './getClipRoute.ts';
export { HLS_PATHS } from './hlsPlaylists.ts';
