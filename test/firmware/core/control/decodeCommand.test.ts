// Command documents: the happy path, every documented refusal by name, and fuzzed/malformed CBOR that must come
// back as a named error — never an exception.
import { decodeCommand } from '../../../../firmware/core/control/decodeCommand.ts';
import { assert, scaled, suite } from '../../../harness/index.ts';
import { cbor } from './controlKit.ts';

const test = suite('control: decodeCommand');

function refusal(payload: Uint8Array): { id: string | undefined; code: string } {
  const d = decodeCommand(payload);
  if (d.ok) throw new Error('expected a refusal');
  return { id: d.id, code: d.error.code };
}

test('a command with and without args; unknown top-level keys are ignored', () => {
  const d = decodeCommand(cbor({ id: 'a1', name: 'tag', args: { name: 'event', value: 'door' }, extra: 1 }));
  assert.ok(d.ok);
  assert.equal(d.command, { id: 'a1', name: 'tag', args: { name: 'event', value: 'door' } });
  const s = decodeCommand(cbor({ id: 'x', name: 'status' }));
  assert.ok(s.ok && Object.keys(s.command.args).length === 0);
});

test('refusals are named and echo the id when it could be read', () => {
  assert.equal(refusal(cbor({ id: 'c1', name: 'reboot' })), { id: 'c1', code: 'CONTROL_UNKNOWN_COMMAND' });
  assert.equal(refusal(cbor({ id: 'c2', name: 'set', args: [1] })), { id: 'c2', code: 'CONTROL_ARGUMENT_INVALID' });
  assert.equal(refusal(cbor({ id: 'c3', name: 7 })), { id: 'c3', code: 'CONTROL_PAYLOAD_INVALID' });
  assert.equal(refusal(cbor({ id: '', name: 'status' })), { id: undefined, code: 'CONTROL_PAYLOAD_INVALID' });
  assert.equal(refusal(cbor({ id: 'x'.repeat(65), name: 'status' })), { id: undefined, code: 'CONTROL_PAYLOAD_INVALID' });
  assert.equal(refusal(cbor({ name: 'status' })), { id: undefined, code: 'CONTROL_PAYLOAD_INVALID' });
  assert.equal(refusal(cbor([1, 2])), { id: undefined, code: 'CONTROL_PAYLOAD_INVALID' });
  assert.equal(refusal(cbor('status')), { id: undefined, code: 'CONTROL_PAYLOAD_INVALID' });
  assert.equal(refusal(new Uint8Array(0)), { id: undefined, code: 'CONTROL_PAYLOAD_INVALID' });
  assert.equal(refusal(cbor({ id: 'big', name: 'tag', args: { name: 'n', value: 'v'.repeat(1100) } })), { id: undefined, code: 'CONTROL_PAYLOAD_INVALID' });
  assert.equal(refusal(new Uint8Array([0xa1, 0x62, 0x69, 0x64])), { id: undefined, code: 'CONTROL_PAYLOAD_INVALID' }, 'truncated');
  assert.equal(refusal(new Uint8Array([0xbf, 0x62, 0x69, 0x64, 0x61, 0x61, 0xff])), { id: undefined, code: 'CONTROL_PAYLOAD_INVALID' }, 'indefinite map');
});

test('fuzz: mutated and random payloads (3000 on Node, fewer when emulated) never throw and name their refusal', () => {
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const base = cbor({ id: 'fz', name: 'set', args: { fragmentMs: 2000, streaming: true } });
  const codes = ['CONTROL_PAYLOAD_INVALID', 'CONTROL_UNKNOWN_COMMAND', 'CONTROL_ARGUMENT_INVALID'];
  let refused = 0;
  for (let i = 0; i < scaled(3000); i++) {
    let payload: Uint8Array;
    if (i % 3 === 0) {
      payload = new Uint8Array(next() % 64);
      for (let k = 0; k < payload.length; k++) payload[k] = next() & 0xff;
    } else {
      payload = base.slice(0, i % 5 === 0 ? next() % base.length : base.length);
      for (let m = 0; m < 1 + (next() % 3); m++) if (payload.length) payload[next() % payload.length] = next() & 0xff;
    }
    const d = decodeCommand(payload);
    if (!d.ok) {
      refused++;
      assert.ok(codes.includes(d.error.code), d.error.code);
    }
  }
  assert.ok(refused > scaled(3000) / 2, `refused ${refused}`);
});

test.run();
