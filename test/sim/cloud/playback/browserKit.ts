// Headless Chromium (Debian's /usr/bin/chromium, installed by toolchain/setup) driven by playwright-core, for
// the playback proofs: a fresh profile per launch, no network services of its own, the cloud's private CA
// accepted for this context only.
import { chromium, type BrowserContext } from 'playwright-core';
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
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
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
}
