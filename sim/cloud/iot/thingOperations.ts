// Thing types, things and thing principals (AWS IoT API reference: CreateThingType, CreateThing,
// DescribeThing, ListThings, AttachThingPrincipal, ListThingPrincipals).
import { randomUUID } from 'node:crypto';
import { InputValidator } from '../kvs/InputValidator.ts';
import type { ThingRecord, ThingTypeRecord } from './IotRegistry.ts';
import { alreadyExists, invalidRequest, IOT_PATTERNS, iotArn, notFound, page, queryNumber, type IotOperation, type IotRequest } from './IotOperation.ts';

/** Attributes of a thing without a thing type: "up to three name/value pairs" (CreateThing attributePayload). */
const MAX_UNTYPED_ATTRIBUTES = 3;
/** With a thing type a thing may have up to 50 attributes (AWS IoT quotas, "Thing attributes"). */
const MAX_TYPED_ATTRIBUTES = 50;
/** ListThings maxResults range is 1-250; the default page size is not documented, 50 is ours. */
const LIST_DEFAULT = 50;
const LIST_MAX = 250;

function thingName(v: InputValidator): string {
  return v.string('thingName', { required: true, min: 1, max: 128, pattern: IOT_PATTERNS.thingName })!;
}

function sameStrings(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = [...(a ?? [])].sort();
  const y = [...(b ?? [])].sort();
  return x.length === y.length && x.every((s, i) => s === y[i]);
}

function sameAttributes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function readAttributes(v: InputValidator, payload: unknown): Record<string, string> {
  if (payload === undefined || payload === null) return {};
  if (typeof payload !== 'object' || Array.isArray(payload)) throw invalidRequest('attributePayload must be an object.');
  const raw = (payload as Record<string, unknown>).attributes;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidRequest('attributePayload.attributes must map names to values.');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    v.string(name, { min: 1, max: 128, pattern: IOT_PATTERNS.attributeName }, `attributePayload.attributes.${name}.member.key`, name);
    if (typeof value !== 'string') throw invalidRequest(`attribute ${name} must be a string.`);
    v.string(name, { min: 0, max: 800, pattern: IOT_PATTERNS.attributeValue }, `attributePayload.attributes.${name}.member.value`, value);
    out[name] = value;
  }
  return out;
}

/** CreateThingType: the same name with the same properties succeeds again with the same ids. */
function createThingType(r: IotRequest): unknown {
  const props = (r.body.thingTypeProperties ?? {}) as Record<string, unknown>;
  if (typeof props !== 'object' || props === null || Array.isArray(props)) throw invalidRequest('thingTypeProperties must be an object.');
  const v = new InputValidator({ thingTypeName: r.params[0], ...props });
  const name = v.string('thingTypeName', { required: true, min: 1, max: 128, pattern: IOT_PATTERNS.thingTypeName })!;
  const description = v.string('thingTypeDescription', { max: 2028, pattern: IOT_PATTERNS.thingTypeDescription });
  const searchable = props.searchableAttributes;
  if (searchable !== undefined && (!Array.isArray(searchable) || searchable.some((a) => typeof a !== 'string'))) {
    throw invalidRequest('searchableAttributes must be a list of attribute names.');
  }
  if (Array.isArray(searchable) && searchable.length > 3)
    v.fail('thingTypeProperties.searchableAttributes', searchable, 'Member must have length less than or equal to 3');
  v.done();
  r.ctx.authorize(r.req, 'iot:CreateThingType', iotArn(r.ctx, 'thingtype', name));
  const existing = r.ctx.iot.get('thingTypes', name);
  if (existing) {
    if (existing.thingTypeDescription !== description || !sameStrings(existing.searchableAttributes, searchable as string[] | undefined)) {
      throw alreadyExists(`Thing Type ${name} already exists with different properties`, existing.thingTypeId, existing.thingTypeArn);
    }
  } else {
    const record: ThingTypeRecord = {
      thingTypeName: name,
      thingTypeId: randomUUID(),
      thingTypeArn: iotArn(r.ctx, 'thingtype', name),
      ...(description !== undefined ? { thingTypeDescription: description } : {}),
      ...(searchable !== undefined ? { searchableAttributes: [...(searchable as string[])] } : {}),
      creationDate: r.ctx.now(),
    };
    r.ctx.iot.put('thingTypes', record);
  }
  const t = r.ctx.iot.get('thingTypes', name)!;
  return { thingTypeName: t.thingTypeName, thingTypeArn: t.thingTypeArn, thingTypeId: t.thingTypeId };
}

/**
 * CreateThing: "If this call is made multiple times using the same thing name and configuration, the call
 * will succeed. If this call is made with the same thing name but different configuration a
 * ResourceAlreadyExistsException is thrown." (AWS IoT API reference, CreateThing).
 */
function createThing(r: IotRequest): unknown {
  const v = new InputValidator({ thingName: r.params[0], ...r.body });
  const name = thingName(v);
  const typeName = v.string('thingTypeName', { min: 1, max: 128, pattern: IOT_PATTERNS.thingTypeName });
  const billingGroupName = v.string('billingGroupName', { min: 1, max: 128, pattern: IOT_PATTERNS.thingName });
  const attributes = readAttributes(v, r.body.attributePayload);
  v.done();
  r.ctx.authorize(r.req, 'iot:CreateThing', iotArn(r.ctx, 'thing', name));
  const count = Object.keys(attributes).length;
  const limit = typeName === undefined ? MAX_UNTYPED_ATTRIBUTES : MAX_TYPED_ATTRIBUTES;
  if (count > limit)
    throw invalidRequest(`A thing ${typeName === undefined ? 'without a thing type ' : ''}can have at most ${limit} attributes; got ${count}.`);
  if (typeName !== undefined && !r.ctx.iot.get('thingTypes', typeName)) throw notFound(`Thing Type ${typeName} does not exist`);
  if (billingGroupName !== undefined) throw invalidRequest('Billing groups are not emulated by the local cloud.');
  const existing = r.ctx.iot.get('things', name);
  if (existing) {
    if (existing.thingTypeName !== typeName || !sameAttributes(existing.attributes, attributes)) {
      throw alreadyExists(`Thing ${name} already exists in account with different attributes`, existing.thingId, existing.thingArn);
    }
    return { thingName: existing.thingName, thingArn: existing.thingArn, thingId: existing.thingId };
  }
  const record: ThingRecord = {
    thingName: name,
    thingId: randomUUID(),
    thingArn: iotArn(r.ctx, 'thing', name),
    ...(typeName !== undefined ? { thingTypeName: typeName } : {}),
    attributes,
    version: 1,
  };
  r.ctx.iot.put('things', record);
  r.ctx.log('iot-thing-created', { thing: name });
  return { thingName: name, thingArn: record.thingArn, thingId: record.thingId };
}

function findThing(r: IotRequest, action: string): ThingRecord {
  const v = new InputValidator({ thingName: r.params[0] });
  const name = thingName(v);
  v.done();
  r.ctx.authorize(r.req, action, iotArn(r.ctx, 'thing', name));
  const thing = r.ctx.iot.get('things', name);
  if (!thing) throw notFound(`Thing ${name} cannot be found.`);
  return thing;
}

function describeThing(r: IotRequest): unknown {
  const t = findThing(r, 'iot:DescribeThing');
  return {
    defaultClientId: t.thingName,
    thingName: t.thingName,
    thingId: t.thingId,
    thingArn: t.thingArn,
    thingTypeName: t.thingTypeName,
    attributes: { ...t.attributes },
    version: t.version,
  };
}

function listThings(r: IotRequest): unknown {
  const q = r.query;
  const v = new InputValidator({
    maxResults: queryNumber(q, 'maxResults'),
    nextToken: q.get('nextToken') ?? undefined,
    thingTypeName: q.get('thingTypeName') ?? undefined,
    attributeName: q.get('attributeName') ?? undefined,
    attributeValue: q.get('attributeValue') ?? undefined,
  });
  const max = v.integer('maxResults', { min: 1, max: LIST_MAX }) ?? LIST_DEFAULT;
  const token = v.string('nextToken', { pattern: IOT_PATTERNS.nextToken });
  const typeName = v.string('thingTypeName', { min: 1, max: 128, pattern: IOT_PATTERNS.thingTypeName });
  const attribute = v.string('attributeName', { max: 128, pattern: IOT_PATTERNS.attributeName });
  const value = v.string('attributeValue', { max: 800, pattern: IOT_PATTERNS.attributeValue });
  v.done();
  r.ctx.authorize(r.req, 'iot:ListThings', '*');
  if ((attribute === undefined) !== (value === undefined)) throw invalidRequest('attributeName and attributeValue must be given together.');
  const prefix = q.get('usePrefixAttributeValue') === 'true';
  const things = r.ctx.iot
    .list('things')
    .filter((t) => typeName === undefined || t.thingTypeName === typeName)
    .filter((t) => attribute === undefined || (prefix ? (t.attributes[attribute] ?? '\u0000').startsWith(value!) : t.attributes[attribute] === value))
    .sort((a, b) => (a.thingName < b.thingName ? -1 : 1));
  const result = page(things, (t) => t.thingName, max, token);
  return {
    things: result.items.map((t) => ({
      thingName: t.thingName,
      thingTypeName: t.thingTypeName,
      thingArn: t.thingArn,
      attributes: { ...t.attributes },
      version: t.version,
    })),
    ...(result.nextToken ? { nextToken: result.nextToken } : {}),
  };
}

/** AttachThingPrincipal: the principal (x-amzn-principal) is a certificate ARN; attaching again is a no-op. */
function attachThingPrincipal(r: IotRequest): unknown {
  const principal = r.req.headers['x-amzn-principal'];
  const type = r.query.get('thingPrincipalType') ?? undefined;
  const v = new InputValidator({ thingPrincipalType: type });
  v.oneOf('thingPrincipalType', ['EXCLUSIVE_THING', 'NON_EXCLUSIVE_THING'], false);
  if (typeof principal !== 'string' || principal === '') v.fail('principal', principal ?? null, 'Member must not be null');
  v.done();
  const thing = findThing(r, 'iot:AttachThingPrincipal');
  const cert = r.ctx.iot.list('certificates').find((c) => c.certificateArn === principal);
  if (!cert) throw notFound(`The principal ${String(principal)} does not exist.`);
  r.ctx.iot.attachThingPrincipal(thing.thingName, cert.certificateArn);
  return {};
}

function listThingPrincipals(r: IotRequest): unknown {
  const v = new InputValidator({ maxResults: queryNumber(r.query, 'maxResults'), nextToken: r.query.get('nextToken') ?? undefined });
  const max = v.integer('maxResults', { min: 1, max: LIST_MAX }) ?? LIST_DEFAULT;
  const token = v.string('nextToken', { pattern: IOT_PATTERNS.nextToken });
  v.done();
  const thing = findThing(r, 'iot:ListThingPrincipals');
  const result = page(r.ctx.iot.principalsOf(thing.thingName).sort(), (p) => p, max, token);
  return { principals: result.items, ...(result.nextToken ? { nextToken: result.nextToken } : {}) };
}

export const thingOperations: readonly IotOperation[] = Object.freeze([
  { name: 'CreateThingType', method: 'POST', path: /^\/thing-types\/([^/]+)$/, run: createThingType },
  { name: 'CreateThing', method: 'POST', path: /^\/things\/([^/]+)$/, run: createThing },
  { name: 'DescribeThing', method: 'GET', path: /^\/things\/([^/]+)$/, run: describeThing },
  { name: 'ListThings', method: 'GET', path: /^\/things$/, run: listThings },
  { name: 'AttachThingPrincipal', method: 'PUT', path: /^\/things\/([^/]+)\/principals$/, run: attachThingPrincipal },
  { name: 'ListThingPrincipals', method: 'GET', path: /^\/things\/([^/]+)\/principals$/, run: listThingPrincipals },
] as const);
