// Sample responses for the parser suites, each with the events it must produce. The chunked ones mirror
// a PutMedia response (kvs-reference.md §4.4): 200 first, then one JSON ACK per chunk.
import { bytes } from './httpKit.ts';

export interface Sample {
  readonly name: string;
  readonly input: Uint8Array;
  /** Whether the connection closes after the input (end() is called). */
  readonly close: boolean;
  readonly events: readonly string[];
}

const ACKS = [
  '{"EventType":"BUFFERING","FragmentTimecode":1711124585823,"FragmentNumber":"91343852333181432392682062607743920146264860301"}\n',
  '{"EventType":"RECEIVED","FragmentTimecode":1711124585823,"FragmentNumber":"91343852333181432392682062607743920146264860301"}\n',
  '{"EventType":"PERSISTED","FragmentTimecode":1711124585823,"FragmentNumber":"91343852333181432392682062607743920146264860301"}\n',
  '{"EventType":"IDLE"}\n',
];

function chunk(data: string, sizeText = data.length.toString(16), ext = ''): string {
  return `${sizeText}${ext}\r\n${data}\r\n`;
}

function head(status: string, headers: [string, string][]): string {
  return `head ${status} ${JSON.stringify(headers)}`;
}

const kvsHead = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nX-Amzn-RequestId: f00d\r\n\r\n';
const kvsHeaders: [string, string][] = [
  ['content-type', 'application/json'],
  ['transfer-encoding', 'chunked'],
  ['x-amzn-requestid', 'f00d'],
];

export const SAMPLES: readonly Sample[] = [
  {
    name: 'chunked ACKs with extensions, upper-case and zero-padded sizes, and trailers',
    input: bytes(
      kvsHead +
        chunk(ACKS[0]!, undefined, ';ack=1') +
        chunk(ACKS[1]!, `00${ACKS[1]!.length.toString(16).toUpperCase()}`, ' ; a = "quoted; value" ;b') +
        chunk(ACKS[2]!) +
        chunk(ACKS[3]!, undefined, '\t;idle') +
        '000;final\r\nX-Checksum: 1234\r\nServer-Timing: total;dur=1\r\n\r\n',
    ),
    close: false,
    events: [head('200 OK', kvsHeaders), `body ${ACKS.join('')}`, 'end'],
  },
  {
    name: 'Content-Length error response (403) with repeated identical lengths',
    input: bytes(
      'HTTP/1.1 403 Forbidden\r\nx-amz-ErrorType: NotAuthorizedException:\r\nContent-Length: 32\r\ncontent-length: 32, 32\r\n\r\n' +
        '{"message":"Signature expired"}\n',
    ),
    close: true,
    events: [
      head('403 Forbidden', [
        ['x-amz-errortype', 'NotAuthorizedException:'],
        ['content-length', '32'],
        ['content-length', '32, 32'],
      ]),
      'body {"message":"Signature expired"}\n',
      'end',
    ],
  },
  {
    name: 'close-delimited HTTP/1.0 body, bare-LF lines, obs-fold and an empty reason',
    input: bytes('HTTP/1.0 200\nServer: legacy\nX-Folded: one\n  two\r\n\tthree\nX-Empty:\n\nbody until the peer closes\r\n\r\n'),
    close: true,
    events: [
      head('200 ', [
        ['server', 'legacy'],
        ['x-folded', 'one two three'],
        ['x-empty', ''],
      ]),
      'body body until the peer closes\r\n\r\n',
      'end',
    ],
  },
  {
    name: '100 Continue (and a 103 with fields) before a chunked 200',
    input: bytes('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n' + kvsHead + chunk(ACKS[0]!) + chunk(ACKS[1]!) + '0\r\n\r\n'),
    close: false,
    events: [head('200 OK', kvsHeaders), `body ${ACKS[0]}${ACKS[1]}`, 'end'],
  },
  {
    name: 'keep-alive: 204 (its Content-Length ignored), a stray CRLF, Content-Length 0, then a 304 and a gzip body until close',
    input: bytes(
      'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' +
        'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b\x08\x00',
    ),
    close: true,
    events: [
      head('204 No Content', [['content-length', '10']]),
      'end',
      head('200 OK', [['content-length', '0']]),
      'end',
      head('304 Not Modified', [['transfer-encoding', 'chunked']]),
      'end',
      head('200 OK', [['transfer-encoding', 'gzip']]),
      'body \x1f\x8b\x08\x00',
      'end',
    ],
  },
  {
    name: 'obs-text and the chunked coding after another one',
    input: bytes('HTTP/1.1 200 \xc3\x89t\xe9\r\nX-Latin: caf\xe9\r\nTransfer-Encoding: gzip, Chunked;q=1\r\n\r\n3\r\n\x00\r\n\n0\r\n\r\n'),
    close: false,
    events: [
      head('200 \xc3\x89t\xe9', [
        ['x-latin', 'caf\xe9'],
        ['transfer-encoding', 'gzip, Chunked;q=1'],
      ]),
      'body \x00\r\n',
      'end',
    ],
  },
];
