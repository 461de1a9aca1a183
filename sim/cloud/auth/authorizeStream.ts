import type { IncomingMessage } from 'node:http';
import type { CloudContext } from '../types.ts';

/**
 * Authorizes `kinesisvideo:<api>` on the stream a KVS request names, before the stream is looked up (IAM
 * decides at the front door, so a caller without access to a missing stream learns nothing about it). The
 * resource is the stream's ARN, or for a stream that does not exist (yet) the ARN it would get
 * (`stream/<name>/<creation ms>`), which `stream/<name>/*` patterns match. No stream named: `*`, the
 * resource of account-wide actions such as ListStreams.
 */
export function authorizeStream(ctx: CloudContext, req: IncomingMessage, api: string, named: { name?: string | undefined; arn?: string | undefined }): void {
  const action = `kinesisvideo:${api}`;
  if (named.name === undefined && named.arn === undefined) {
    ctx.authorize(req, action, '*');
    return;
  }
  const existing = named.arn !== undefined ? ctx.streams.getByArn(named.arn) : ctx.streams.get(named.name!);
  const { region, accountId } = ctx.config;
  const arn = existing?.StreamARN ?? named.arn ?? `arn:aws:kinesisvideo:${region}:${accountId}:stream/${named.name}/${Math.trunc(ctx.now())}`;
  ctx.authorize(req, action, arn, named.name ?? named.arn);
}
