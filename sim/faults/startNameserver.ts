import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/**
 * A DNS server on a loopback address, port 53 (the only port /etc/resolv.conf can name), for the resolver
 * faults a deployed camera meets: `blackhole()` reads every query and answers none (a nameserver behind a
 * dead link or a firewall that drops UDP); `answer(records)` answers A queries from the table (RFC 1035 §4.1),
 * NXDOMAIN for other names, no records (NOERROR, empty answer) for other types of a known name, so glibc's
 * parallel A + AAAA lookup ends at once. Queries are counted by name either way.
 */
export interface Nameserver {
  /** 127.0.0.x: put `nameserver <address>` in the resolv.conf of the namespace (sim/faults/namespaceCommand.ts). */
  readonly address: string;
  /** Every question name received, in order (lower case, no trailing dot). */
  readonly queries: readonly string[];
  blackhole(): void;
  /** Name → IPv4 address; the answers carry `ttlSeconds` (default 60). */
  answer(records: Readonly<Record<string, string>>, ttlSeconds?: number): void;
  close(): Promise<void>;
}

const HEADER_BYTES = 12;
const TYPE_A = 1;
const CLASS_IN = 1;
/** RFC 1035 §2.3.4: names are at most 255 bytes, labels at most 63. */
const MAX_NAME_BYTES = 255;
const MAX_LABEL_BYTES = 63;

interface Question {
  readonly id: number;
  readonly flags: number;
  readonly name: string;
  readonly type: number;
  /** Offset just past the question (QTYPE and QCLASS included). */
  readonly end: number;
}

/** The first question of a query, or undefined when the message is not one we can answer (bounded parse). */
function parseQuestion(message: Buffer): Question | undefined {
  if (message.length < HEADER_BYTES + 5) return undefined;
  const flags = message.readUInt16BE(2);
  if (flags & 0x8000 || message.readUInt16BE(4) < 1) return undefined; // a response, or no question
  const labels: string[] = [];
  let offset = HEADER_BYTES;
  let nameBytes = 0;
  for (;;) {
    if (offset >= message.length) return undefined;
    const length = message[offset]!;
    offset++;
    if (length === 0) break;
    if (length > MAX_LABEL_BYTES) return undefined; // a compression pointer has no place in a question
    nameBytes += length + 1;
    if (nameBytes > MAX_NAME_BYTES || offset + length > message.length) return undefined;
    labels.push(message.toString('latin1', offset, offset + length).toLowerCase());
    offset += length;
  }
  if (offset + 4 > message.length) return undefined;
  return { id: message.readUInt16BE(0), flags, name: labels.join('.'), type: message.readUInt16BE(offset), end: offset + 4 };
}

function reply(query: Buffer, q: Question, address: string | undefined, known: boolean, ttl: number): Buffer {
  const question = query.subarray(HEADER_BYTES, q.end);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(q.id, 0);
  // QR, opcode 0, AA, RD copied, RA; RCODE 3 (NXDOMAIN) for a name we do not know.
  header.writeUInt16BE(0x8400 | (q.flags & 0x0100) | 0x0080 | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(address ? 1 : 0, 6);
  if (!address) return Buffer.concat([header, question]);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc000 | HEADER_BYTES, 0); // the question's name (RFC 1035 §4.1.4)
  record.writeUInt16BE(TYPE_A, 2);
  record.writeUInt16BE(CLASS_IN, 4);
  record.writeUInt32BE(ttl, 6);
  record.writeUInt16BE(4, 10);
  address.split('.').forEach((part, i) => {
    record.writeUInt8(Number(part), 12 + i);
  });
  return Buffer.concat([header, question, record]);
}

function bind(socket: Socket, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    socket.once('error', failed);
    socket.bind(53, address, () => {
      socket.off('error', failed);
      resolve();
    });
  });
}

/**
 * Starts a nameserver, black-holed, on the first free 127.0.0.x (x from 100 on, so that parallel suites
 * do not meet). Needs the right to bind port 53 (root, as the fault suites run).
 */
export async function startNameserver(): Promise<Nameserver> {
  let socket: Socket | undefined;
  let address = '';
  for (let x = 100 + Math.floor(Math.random() * 100), tries = 0; !socket && tries < 100; tries++, x = 100 + ((x - 99) % 150)) {
    const candidate = createSocket('udp4');
    try {
      await bind(candidate, `127.0.0.${x}`);
      socket = candidate;
      address = `127.0.0.${x}`;
    } catch {
      candidate.close();
    }
  }
  if (!socket) throw new Error('startNameserver: no free 127.0.0.x:53 (is another nameserver on every address, or is this not root?)');
  const queries: string[] = [];
  let records: Readonly<Record<string, string>> | undefined;
  let ttl = 60;
  const server = socket;
  server.on('message', (message: Buffer, from: RemoteInfo) => {
    const q = parseQuestion(message);
    if (!q) return;
    queries.push(q.name);
    if (!records) return; // the black hole: read, never answer
    const known = Object.hasOwn(records, q.name);
    server.send(reply(message, q, known && q.type === TYPE_A ? records[q.name] : undefined, known, ttl), from.port, from.address);
  });
  server.on('error', () => undefined); // a vanished querier: nothing to do
  return {
    address,
    queries,
    blackhole: () => {
      records = undefined;
    },
    answer: (table, ttlSeconds = 60) => {
      records = Object.freeze(Object.fromEntries(Object.entries(table).map(([name, ip]) => [name.toLowerCase().replace(/\.$/, ''), ip])));
      ttl = ttlSeconds;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
