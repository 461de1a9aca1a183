import type { HttpTarget } from './httpExchange.ts';

/** The Host header for `target` (RFC 9110 §7.2): the port only when it is not the scheme's default. */
export function hostHeader(target: HttpTarget): string {
  const defaultPort = target.tls ? 443 : 80;
  return target.port === defaultPort ? target.host : `${target.host}:${target.port}`;
}
