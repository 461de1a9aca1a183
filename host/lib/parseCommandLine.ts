import { parseArgs } from 'node:util';
import { FieldcamError } from '../shared/hostErrors.ts';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly value?: string;
  readonly help: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Trailing help text; a function when it reads the disk (e.g. the list of boards). */
  readonly details?: string | (() => string);
}

export interface ParsedCommandLine {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
}

/** Parses argv strictly against a command's spec; unknown or malformed flags are CLI_USAGE errors. */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): ParsedCommandLine {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(spec.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as ParsedCommandLine['values'], positionals };
  } catch (err) {
    throw new FieldcamError('CLI_USAGE', `${spec.name}: ${(err as Error).message.replace(/\. To specify.*$/s, '')}`);
  }
}

/**
 * The start of every command's run(): parses argv, prints --help (then undefined: the command returns EXIT.OK)
 * and, with `positionals: 'none'`, refuses any positional argument ("<name>: unexpected argument 'x'" + hint).
 */
export function readCommandLine(
  spec: CommandSpec,
  argv: readonly string[],
  rules: { readonly positionals?: 'none' | 'any'; readonly hint?: string } = {},
): ParsedCommandLine | undefined {
  const parsed = parseCommandLine(spec, argv);
  if (parsed.values.help) {
    process.stdout.write(formatHelp(spec));
    return undefined;
  }
  const [extra] = parsed.positionals;
  if (rules.positionals === 'none' && extra !== undefined) {
    throw new FieldcamError('CLI_USAGE', `${spec.name}: unexpected argument '${extra}'${rules.hint ?? ''}`);
  }
  return parsed;
}

/** The --help text of a command, generated from its spec so it never drifts from the parser. */
export function formatHelp(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`;
    return [flag, o.help + (o.multiple ? ' (repeatable)' : '')] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  const lines = [`usage: fieldcam ${spec.usage}`, '', spec.summary, '', 'options:'];
  for (const [flag, help] of rows) lines.push(`  ${flag.padEnd(width)}${help}`);
  if (spec.details) lines.push('', typeof spec.details === 'function' ? spec.details() : spec.details);
  return lines.join('\n') + '\n';
}

/** A positive number flag (e.g. --fragment-ms 1000), with a usage error naming the flag. */
export function numberFlag(spec: CommandSpec, name: string, raw: unknown, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new FieldcamError('CLI_USAGE', `${spec.name}: --${name} must be a number from ${min} to ${max}, got '${String(raw)}'`);
  }
  return n;
}
