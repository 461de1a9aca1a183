// A small, independent EBML reader for the tests: it parses the writer's bytes back into a tree so the
// suites check structure and values rather than the writer's own templates. It knows only which IDs are
// masters and which children may appear inside an unknown-size master (RFC 8794 §6.2: an unknown-size
// element ends at the first element that cannot be its child).

export interface EbmlNode {
  readonly id: number;
  readonly start: number;
  readonly dataStart: number;
  readonly end: number;
  readonly unknownSize: boolean;
  readonly children: EbmlNode[];
}

const MASTERS = new Set([
  0x1a45dfa3, // EBML
  0x18538067, // Segment
  0x1549a966, // Info
  0x1654ae6b, // Tracks
  0xae, // TrackEntry
  0xe0, // Video
  0x1f43b675, // Cluster
  0x1254c367, // Tags
  0x7373, // Tag
  0x63c0, // Targets
  0x67c8, // SimpleTag
]);

/** Children allowed in the masters we write with an unknown size. */
const UNKNOWN_SIZE_CHILDREN = new Map<number, Set<number>>([
  [0x18538067, new Set([0x114d9b74, 0x1549a966, 0x1f43b675, 0x1654ae6b, 0x1c53bb6b, 0x1941a469, 0x1043a770, 0x1254c367, 0xec])],
  [0x1f43b675, new Set([0xe7, 0xa7, 0xab, 0xa3, 0xa0, 0xec])],
]);

export function readVint(bytes: Uint8Array, pos: number): { value: number; width: number; unknown: boolean } {
  const first = bytes[pos];
  if (first === undefined || first === 0) throw new Error(`no VINT at ${pos}`);
  let width = 1;
  while ((first & (0x80 >> (width - 1))) === 0) width++;
  if (pos + width > bytes.length) throw new Error(`VINT at ${pos} runs past the end`);
  let value = first & (0xff >> width);
  let allOnes = value === 0xff >> width;
  for (let i = 1; i < width; i++) {
    const b = bytes[pos + i]!;
    value = value * 256 + b;
    if (b !== 0xff) allOnes = false;
  }
  return { value, width, unknown: allOnes };
}

function readId(bytes: Uint8Array, pos: number): { id: number; width: number } {
  const { width } = readVint(bytes, pos);
  let id = 0;
  for (let i = 0; i < width; i++) id = id * 256 + bytes[pos + i]!;
  return { id, width };
}

function parseLevel(bytes: Uint8Array, pos: number, end: number, parent: number | undefined, nodes: EbmlNode[]): number {
  const allowed = parent === undefined ? undefined : UNKNOWN_SIZE_CHILDREN.get(parent);
  while (pos < end) {
    const { id, width: idWidth } = readId(bytes, pos);
    if (allowed && !allowed.has(id)) return pos; // ends the unknown-size parent
    const size = readVint(bytes, pos + idWidth);
    const dataStart = pos + idWidth + size.width;
    const children: EbmlNode[] = [];
    let elementEnd: number;
    if (size.unknown) {
      if (!UNKNOWN_SIZE_CHILDREN.has(id)) throw new Error(`element 0x${id.toString(16)} at ${pos} has an unknown size`);
      elementEnd = parseLevel(bytes, dataStart, end, id, children);
    } else {
      elementEnd = dataStart + size.value;
      if (elementEnd > end) throw new Error(`element 0x${id.toString(16)} at ${pos} ends at ${elementEnd}, past ${end}`);
      if (MASTERS.has(id)) {
        const stop = parseLevel(bytes, dataStart, elementEnd, undefined, children);
        if (stop !== elementEnd) throw new Error(`master 0x${id.toString(16)} content ends at ${stop}, not ${elementEnd}`);
      }
    }
    nodes.push({ id, start: pos, dataStart, end: elementEnd, unknownSize: size.unknown, children });
    pos = elementEnd;
  }
  return pos;
}

/** Parses a whole EBML document; throws on any truncated or malformed element. */
export function walk(bytes: Uint8Array): EbmlNode[] {
  const nodes: EbmlNode[] = [];
  const stop = parseLevel(bytes, 0, bytes.length, undefined, nodes);
  if (stop !== bytes.length) throw new Error(`trailing bytes at ${stop}`);
  return nodes;
}

export function childrenWithId(node: EbmlNode, id: number): EbmlNode[] {
  return node.children.filter((c) => c.id === id);
}

/** The one child with `id`; throws when there is none or several. */
export function child(node: EbmlNode, id: number): EbmlNode {
  const found = childrenWithId(node, id);
  if (found.length !== 1) throw new Error(`expected one 0x${id.toString(16)} in 0x${node.id.toString(16)}, found ${found.length}`);
  return found[0]!;
}

export function data(bytes: Uint8Array, node: EbmlNode): Uint8Array {
  return bytes.subarray(node.dataStart, node.end);
}

export function uintValue(bytes: Uint8Array, node: EbmlNode): number {
  let v = 0;
  for (const b of data(bytes, node)) v = v * 256 + b;
  return v;
}

/** ASCII text of an element (the tests compare non-ASCII strings as bytes). */
export function asciiValue(bytes: Uint8Array, node: EbmlNode): string {
  return String.fromCharCode(...data(bytes, node));
}
