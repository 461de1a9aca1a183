import { FieldcamError } from '../../shared/hostErrors.ts';

/** At most this many `name=value` arguments: the whole settings table fits, and a command stays < 1024 bytes. */
export const MAX_ASSIGNMENTS = 16;

/**
 * `name=value` command-line arguments as an ordered list of pairs. A missing '=', an empty name or a name
 * given twice is a usage error naming the argument (a repeated setting would otherwise silently win).
 */
export function parseAssignments(where: string, args: readonly string[]): Array<readonly [string, string]> {
  if (args.length > MAX_ASSIGNMENTS) throw new FieldcamError('CLI_USAGE', `${where}: at most ${MAX_ASSIGNMENTS} name=value arguments`);
  const seen = new Set<string>();
  const pairs: Array<readonly [string, string]> = [];
  for (const arg of args) {
    const cut = arg.indexOf('=');
    if (cut <= 0) throw new FieldcamError('CLI_USAGE', `${where}: argument '${arg}' is not name=value`);
    const name = arg.slice(0, cut);
    if (seen.has(name)) throw new FieldcamError('CLI_USAGE', `${where}: '${name}' is given twice`);
    seen.add(name);
    pairs.push([name, arg.slice(cut + 1)]);
  }
  return pairs;
}
