// Headless Chromium (Debian's /usr/bin/chromium, installed by toolchain/setup) driven by playwright-core, for
// the playback proofs: a fresh profile per launch, no network services of its own, the cloud's private CA
// accepted for this context only.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'fieldcam-chromium-'));
  // playwright passes the profile as --user-data-dir (launchPersistentContext); the rest keep Chromium quiet
  // and offline: no GPU, QUIC, first-run UI, background fetches, component updates or sync.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What the page-side player reports (see PLAYER_SCRIPT). */
export interface PlayerState {
  readonly currentTime: number;
  readonly frames: number;
  readonly dropped: number;
  readonly ended: boolean;
  readonly errors: string[];
  /** Non-fatal bufferStalledError events (the page starved of decoded video for a moment). */
  readonly stalls: number;
}

/**
 * Page-side player (plain JavaScript: the page's own globals): an hls.js instance on a fresh muted <video>
 * (any player the viewer runs is stopped first), recording every hls.js ERROR event, fatal or not.
 */
export const PLAYER = `(src, playbackRate) => {
  window.fieldcamViewer?.state.hls?.destroy();
  const video = document.createElement('video');
  video.muted = true;
  document.body.append(video);
  const errors = [];
  const hls = new Hls();
  // Every hls.js error counts except a non-fatal bufferStalledError: that one says the page ran out of
  // decoded video for a moment (a CPU-starved browser beside QEMU on a 2-core machine, at 4x speed), not that
  // a playlist or a fragment was wrong; it is kept apart in stalls.
  const stalls = [];
  hls.on(Hls.Events.ERROR, (_e, d) => (!d.fatal && d.details === 'bufferStalledError' ? stalls : errors).push(d.type + '/' + d.details + (d.fatal ? ' (fatal)' : '')));
  hls.loadSource(src);
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => { video.playbackRate = playbackRate; video.play(); });
  window.probe = () => {
    const q = video.getVideoPlaybackQuality();
    return { currentTime: video.currentTime, frames: q.totalVideoFrames, dropped: q.droppedVideoFrames, ended: video.ended, errors, stalls: stalls.length };
  };
}`;

/** Starts PLAYER on `url` in `page` (a page of the cloud's origin: the viewer, which serves hls.js). */
export async function startPlayer(page: Page, url: string, rate = 1): Promise<void> {
  await page.evaluate(`(${PLAYER})(${JSON.stringify(url)}, ${rate})`);
}

export const probe = (page: Page): Promise<PlayerState> => page.evaluate('window.probe()') as Promise<PlayerState>;

/**
 * Polls the player until `done` holds, an error `stops` it (default: one hls.js marks fatal) or 25 s pass; returns the
 * last state.
 */
export async function until(page: Page, done: (s: PlayerState) => boolean, stops = (error: string) => error.endsWith('(fatal)')): Promise<PlayerState> {
  let s = await probe(page);
  for (let i = 0; i < 250 && !done(s) && !s.errors.some(stops); i++) {
    await page.waitForTimeout(100);
    s = await probe(page);
  }
  return s;
}
