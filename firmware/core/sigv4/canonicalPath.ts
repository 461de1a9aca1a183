import { uriEncode } from './uriEncode.ts';

/**
 * The CanonicalURI of SigV4 for every service but S3 (AWS SigV4 "Create a canonical request"):
 * - the path is normalised as RFC 3986 §5.2.4 intends: empty segments (`//`), `.` and `..` are removed,
 *   a trailing slash is kept when any segment remains;
 * - each segment of the path *as sent on the wire* (already percent-encoded by the caller) is URI-encoded
 *   again, so `%2F` becomes `%252F` and a raw space `%20` ("double encoding"; S3 alone encodes once).
 * `@smithy/signature-v4` with `uriEscapePath: true` (its default) canonicalises exactly so, and the real
 * service follows the same rules (the AWS SigV4 test suite: get-slashes, get-space, get-relative).
 * TypeError unless `path` starts with "/".
 */
export function canonicalPath(path: string): string {
  if (typeof path !== 'string' || path.charCodeAt(0) !== 0x2f) {
    throw new TypeError(`request.path must start with "/", got ${JSON.stringify(path)}`);
  }
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEncode(segment));
  }
  const trailing = segments.length > 0 && path.charCodeAt(path.length - 1) === 0x2f ? '/' : '';
  return '/' + segments.join('/') + trailing;
}
