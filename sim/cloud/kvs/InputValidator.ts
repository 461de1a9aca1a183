import { CloudError } from '../types.ts';

/** Constraints of the KVS API model (API reference, "Request Parameters"). */
export const PATTERNS = Object.freeze({
  streamName: /^[a-zA-Z0-9_.-]+$/,
  deviceName: /^[a-zA-Z0-9_.-]+$/,
  mediaType: /^[\w\-.+]+\/[\w\-.+]+(,[\w\-.+]+\/[\w\-.+]+)*$/,
  streamArn: /^arn:[a-z\d-]+:kinesisvideo:[a-z0-9-]+:[0-9]+:[a-z]+\/[a-zA-Z0-9_.-]+\/[0-9]+$/,
  version: /^[a-zA-Z0-9]+$/,
  nextToken: /^[a-zA-Z0-9+/=]*$/,
  tagKey: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
  tagValue: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
} as const);

interface StringRule {
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
}

interface IntegerRule {
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
}

/** `StreamName` → `streamName`: AWS validation messages name members in camelCase. */
function member(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Collects the problems of one request the way AWS reports model validation — all of them in one
 * InvalidArgumentException: "2 validation errors detected: Value 'a b' at 'streamName' failed to satisfy
 * constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; …".
 * A value of the wrong JSON type is a SerializationException, as the service's JSON parser reports it.
 */
export class InputValidator {
  private readonly problems: string[] = [];
  private readonly input: Record<string, unknown>;

  constructor(input: Record<string, unknown>) {
    this.input = input;
  }

  fail(at: string, value: unknown, constraint: string): void {
    this.problems.push(`Value '${shown(value)}' at '${at}' failed to satisfy constraint: ${constraint}`);
  }

  string(key: string, rule: StringRule, at = member(key), value: unknown = this.input[key]): string | undefined {
    if (value === undefined || value === null) {
      if (rule.required) this.problems.push(`Value null at '${at}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (typeof value !== 'string') throw new CloudError(400, 'SerializationException', `${key} must be a string`);
    const length = [...value].length;
    if (rule.min !== undefined && length < rule.min) this.fail(at, value, `Member must have length greater than or equal to ${rule.min}`);
    else if (rule.max !== undefined && length > rule.max) this.fail(at, value, `Member must have length less than or equal to ${rule.max}`);
    else if (rule.pattern && !rule.pattern.test(value)) {
      this.fail(at, value, `Member must satisfy regular expression pattern: ${rule.pattern.source.replace(/^\^|\$$/g, '')}`);
    }
    return value;
  }

  integer(key: string, rule: IntegerRule): number | undefined {
    const value = this.input[key];
    if (value === undefined || value === null) {
      if (rule.required) this.problems.push(`Value null at '${member(key)}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new CloudError(400, 'SerializationException', `${key} must be an integer`);
    if (rule.min !== undefined && value < rule.min) this.fail(member(key), value, `Member must have value greater than or equal to ${rule.min}`);
    else if (rule.max !== undefined && value > rule.max) this.fail(member(key), value, `Member must have value less than or equal to ${rule.max}`);
    return value;
  }

  oneOf<T extends string>(key: string, values: readonly T[], required: boolean): T | undefined {
    const value = this.string(key, { required });
    if (value !== undefined && !(values as readonly string[]).includes(value)) {
      this.fail(member(key), value, `Member must satisfy enum value set: [${values.join(', ')}]`);
      return undefined;
    }
    return value as T | undefined;
  }

  object(key: string): Record<string, unknown> | undefined {
    const value = this.input[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw new CloudError(400, 'SerializationException', `${key} must be an object`);
    return value as Record<string, unknown>;
  }

  /** A tag map (ResourceTags / TagStream Tags): keys 1-128, values 0-256, no reserved `aws:` prefix. */
  tags(key: string, required: boolean): Record<string, string> | undefined {
    const value = this.input[key];
    if (value === undefined || value === null) {
      if (required) this.problems.push(`Value null at '${member(key)}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    const map = this.object(key)!;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(map)) {
      this.string(k, { min: 1, max: 128, pattern: PATTERNS.tagKey }, `${member(key)}.${k}.member.key`, k);
      if (typeof v !== 'string') throw new CloudError(400, 'SerializationException', `${key}.${k} must be a string`);
      this.string(k, { min: 0, max: 256, pattern: PATTERNS.tagValue }, `${member(key)}.${k}.member.value`, v);
      if (k.toLowerCase().startsWith('aws:')) this.fail(`${member(key)}.${k}.member.key`, k, "Member must not begin with the reserved prefix 'aws:'");
      out[k] = v;
    }
    return out;
  }

  /** A list of tag keys (UntagStream TagKeyList): 1-50 items, each 1-128. */
  tagKeys(key: string): string[] | undefined {
    const value = this.input[key];
    if (value === undefined || value === null) {
      this.problems.push(`Value null at '${member(key)}' failed to satisfy constraint: Member must not be null`);
      return undefined;
    }
    if (!Array.isArray(value)) throw new CloudError(400, 'SerializationException', `${key} must be a list`);
    if (value.length < 1 || value.length > 50) {
      this.fail(member(key), value, `Member must have length ${value.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 50'}`);
    }
    return value.map((k, i) => this.string(key, { required: true, min: 1, max: 128, pattern: PATTERNS.tagKey }, `${member(key)}.${i + 1}.member`, k) ?? '');
  }

  /** Throws InvalidArgumentException listing every problem found so far. */
  done(): void {
    const n = this.problems.length;
    if (n === 0) return;
    throw new CloudError(400, 'InvalidArgumentException', `${n} validation error${n > 1 ? 's' : ''} detected: ${this.problems.join('; ')}`);
  }
}
