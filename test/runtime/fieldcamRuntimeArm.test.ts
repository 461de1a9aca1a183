// fieldcam-runtime built for the boards' ARM cores and run under qemu-arm / qemu-aarch64 (qemu-user: the guest's sockets
// are the host's, so node:tls peers in this process serve it). The key natives, with the same scripts and
// the same expectations as on x86_64: timers, SHA-256/HMAC against node:crypto, TCP through localhost and
// TLS handshakes verified by IP SAN and by DNS name, which also proves numeric hosts and "localhost" resolve
// without glibc's NSS in the static binaries.
import { QEMU_USER } from '../../toolchain/xs/build.mjs';
import { assert, suite } from '../harness/index.ts';
import { hashExpected, HASH_SCRIPT, QEMU_CPU, runScript, testPki, TIMERS_EXPECTED, TIMERS_SCRIPT, TLS_CLIENT_SCRIPT, tlsServer, type Arch } from './support.ts';

for (const arch of ['armv6', 'armv7', 'aarch64'] as const satisfies readonly Arch[]) {
  const test = suite(`fieldcam-runtime under ${QEMU_USER[arch]} -cpu ${QEMU_CPU[arch]} (${arch})`);
  const timeoutMs = 60_000;

  test('timers: due order, ties in creation order, clearTimer, jobs drained per dispatch, exit 0', async () => {
    const r = await runScript(TIMERS_SCRIPT, { arch, timeoutMs });
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.lines, [TIMERS_EXPECTED]);
  });

  test('sha256 and hmacSha256 match node:crypto', async () => {
    const r = await runScript(HASH_SCRIPT, { arch, timeoutMs });
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.lines, hashExpected());
  });

  test('TLS to a loopback server: verified by IP SAN for 127.0.0.1 and by name (with SNI) for localhost; a wrong CA is TLS_VERIFY', async () => {
    const p = await testPki();
    const server = await tlsServer(p, false);
    try {
      const cases: [string, object, string][] = [
        ['127.0.0.1', { ca: p.ca }, 'connect|pong sni=- client=-'],
        ['localhost', { ca: p.ca }, 'connect|pong sni=localhost client=-'],
        ['127.0.0.1', { ca: p.otherCa }, 'close TLS_VERIFY'],
      ];
      for (const [host, options, expected] of cases) {
        const r = await runScript(TLS_CLIENT_SCRIPT, { arch, timeoutMs, args: [host, String(server.port), JSON.stringify(options)] });
        assert.is(r.status, 0, r.stderr);
        assert.is(r.lines.map((l) => l.split(':')[0]).join('|'), expected, r.stdout);
      }
    } finally {
      await server.close();
    }
  });

  test.run();
}
