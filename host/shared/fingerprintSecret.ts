// How fieldcam shows a secret (a secret access key, a session token) when it must refer to one: never the
// value, only enough to tell two apart and to check a value one holds — the first 4 characters of a long
// secret (AWS prints the last 4 of a key in `aws configure list`; a token's first 4 are a constant prefix)
// and 8 hex digits of its SHA-256. One rule for the CLI, the cloud's log and its banner.
import { createHash } from 'node:crypto';

/** Secrets shorter than this show no characters at all: 4 of 12 would give away a third of it. */
const SHOW_PREFIX_FROM = 16;

/** `wJal…sha256:1a2b3c4d` (or `…sha256:1a2b3c4d` for a short secret). */
export function fingerprintSecret(secret: string): string {
  const digest = createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
  return `${secret.length >= SHOW_PREFIX_FROM ? secret.slice(0, 4) : ''}…sha256:${digest}`;
}
