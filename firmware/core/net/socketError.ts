import { FieldcamError } from '../errors.ts';

/** `error.code` of a certificate verification failure, on every board (firmware/io/Socket.ts). */
export const TLS_VERIFY_CODE = 'TLS_VERIFY';

/**
 * A socket's close error as the upload error it means: a certificate that cannot be verified is a
 * misconfiguration (UPLOAD_TLS_VERIFY, not retried: retrying cannot fix it and would hide it), anything else
 * a network failure that backoff may outlast.
 */
export function socketError(error: Error & { code?: string }, where: string): FieldcamError {
  return error.code === TLS_VERIFY_CODE
    ? new FieldcamError('UPLOAD_TLS_VERIFY', `${where}: ${error.message}`)
    : new FieldcamError('UPLOAD_NETWORK', `${where}: ${error.message}`);
}
