import { FieldcamError } from '../errors.ts';

/** `error.code` of a certificate verification failure, on every board (firmware/io/Socket.ts). */
export const TLS_VERIFY_CODE = 'TLS_VERIFY';

/**
 * A socket's close error as the upload error it means: a certificate that cannot be verified is a
 * misconfiguration (UPLOAD_TLS_VERIFY, not retried: retrying cannot fix it and would hide it), a name the
 * resolver did not answer in time or refused keeps its NET_DNS_* code (retried: the status says why),
 * anything else a network failure that backoff may outlast.
 */
export function socketError(error: Error & { code?: string }, where: string): FieldcamError {
  if (error.code === TLS_VERIFY_CODE) return new FieldcamError('UPLOAD_TLS_VERIFY', `${where}: ${error.message}`);
  // The XS host's resolver.c names these; the camera kept being read meanwhile (firmware/runtime/net.c).
  if (error.code === 'NET_DNS_TIMEOUT' || error.code === 'NET_DNS_FAILED') return new FieldcamError(error.code, `${where}: ${error.message}`);
  return new FieldcamError('UPLOAD_NETWORK', `${where}: ${error.message}`);
}
