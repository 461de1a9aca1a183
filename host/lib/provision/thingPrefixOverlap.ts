// The caveat of the role policy's `stream/${credentials-iot:ThingName}-*` (issue 18): a `-` may appear in a thing
// name, so the certificate of thing `a` also matches every stream that begins with `a-` — the stream of a thing
// `a-b` and its cameras' `a-b-<camera>`. Nothing in IAM can tell `a` + `-b-x` from `a-b` + `-x`; provision and
// doctor name such pairs so they can be renamed (docs/cli.md, "Several cameras per device").
import { ListThingsCommand, type IoTClient } from '@aws-sdk/client-iot';
import { THING_TYPE } from './provisionNames.ts';

export interface PrefixOverlap {
  /** Other things whose certificates reach this thing's streams: this name begins with `<other>-`. */
  readonly reachedBy: readonly string[];
  /** Other things whose streams this thing's certificate reaches: their names begin with `<thing>-`. */
  readonly reaches: readonly string[];
}

/**
 * An index of thing names answering, for any thing, which others overlap it: the names ending at each `-` of
 * the thing, looked up in a set, and the run of names beginning with `<thing>-` in the sorted list (names with
 * one prefix sort together), so a fleet of thousands costs a binary search per thing.
 */
export function prefixOverlaps(things: Iterable<string>): (thing: string) => PrefixOverlap {
  const names = [...new Set(things)].sort();
  const set = new Set(names);
  return (thing) => {
    const reachedBy: string[] = [];
    for (let i = thing.indexOf('-', 1); i > 0; i = thing.indexOf('-', i + 1)) {
      if (set.has(thing.slice(0, i))) reachedBy.push(thing.slice(0, i));
    }
    const prefix = `${thing}-`;
    let lo = 0;
    let hi = names.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (names[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const reaches: string[] = [];
    for (let i = lo; i < names.length && names[i]!.startsWith(prefix); i++) reaches.push(names[i]!);
    return { reachedBy, reaches };
  };
}

/** The overlap in words, one clause per pair of things, or undefined when there is none. */
export function describePrefixOverlap(thing: string, o: PrefixOverlap): string | undefined {
  const pairs = [...o.reachedBy.map((holder) => [holder, thing]), ...o.reaches.map((owner) => [thing, owner])];
  if (pairs.length === 0) return undefined;
  return pairs
    .map(([holder, owner]) => `the certificate of '${holder}' can also use the streams of '${owner}' ('${owner}' begins with '${holder}-')`)
    .join('; ');
}

/** How to end an overlap. */
export const PREFIX_OVERLAP_FIX =
  "rename one of the things so that no fieldcam thing name is another's name followed by '-' (e.g. yard-001 and yard-002, not yard and yard-1), and delete the thing it replaces";

/** The names of the account's fieldcam things (the type provision creates), every page. */
export async function listFieldcamThings(iot: IoTClient): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await iot.send(new ListThingsCommand({ thingTypeName: THING_TYPE, maxResults: 250, ...(nextToken ? { nextToken } : {}) }));
    for (const t of page.things ?? []) if (t.thingName) names.push(t.thingName);
    nextToken = page.nextToken;
  } while (nextToken);
  return names;
}
