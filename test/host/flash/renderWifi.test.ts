// The network settings flash writes: the passphrase read bounded from a file and checked (IEEE 802.11i: 8-63
// printable ASCII, or 64 hex digits), the NetworkManager keyfile's escaping (nm-settings-keyfile(5): a ';' in
// an SSID makes it a byte list; '\' doubled), the country on cmdline.txt, the hostname made of a thing name.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostnameFor, readWifiSettings, renderWifiConnection, withCountry, withHostname } from '../../../host/lib/flash/renderWifi.ts';
import { assert, suite } from '../../harness/index.ts';
import { tempDir } from '../provision/provisionKit.ts';

const test = suite('renderWifi: passphrase file, keyfile, country, hostname');
const work = tempDir('fieldcam-wifi-');
test.after(() => work.remove());
const file = (name: string, data: string | Buffer) => {
  const p = join(work.dir, name);
  writeFileSync(p, data);
  return p;
};
const why = (f: () => unknown) => {
  try {
    f();
    return 'accepted';
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`;
  }
};

test('the passphrase file: one line, 8-63 printable or 64 hex; everything else refused by name', () => {
  const ok = (psk: string) => readWifiSettings({ ssid: 'Net', pskFile: file('ok', psk), country: 'de' });
  assert.equal(ok('12345678\n'), { ssid: 'Net', psk: '12345678', country: 'DE' });
  assert.is(ok('a'.repeat(63))!.psk.length, 63);
  assert.is(ok('0123456789abcdef'.repeat(4))!.psk.length, 64);
  for (const bad of ['1234567', 'x'.repeat(64), 'two\nlines', 'tab\there1', 'é'.repeat(8)]) {
    assert.ok(/^FLASH_WIFI_INVALID: .* does not hold a WPA passphrase/.test(why(() => ok(bad))), bad);
  }
  assert.ok(/is longer than a passphrase/.test(why(() => ok('y'.repeat(300)))));
  assert.ok(/cannot be read: ENOENT/.test(why(() => readWifiSettings({ ssid: 'Net', pskFile: join(work.dir, 'none'), country: 'GB' }))));
  assert.ok(/cannot be read: EISDIR|not a regular file/.test(why(() => readWifiSettings({ ssid: 'Net', pskFile: work.dir, country: 'GB' }))));
  assert.ok(/not a two-letter ISO 3166-1 code/.test(why(() => readWifiSettings({ ssid: 'Net', pskFile: file('p', '12345678'), country: 'GBR' }))));
  assert.ok(/--wifi-ssid must be 1-32 bytes/.test(why(() => readWifiSettings({ ssid: 'n'.repeat(33), pskFile: file('p', '12345678'), country: 'GB' }))));
  assert.ok(/go together/.test(why(() => readWifiSettings({ ssid: 'Net' }))));
  assert.is(readWifiSettings({}), undefined);
});

test('the keyfile: stable bytes, escaping, a byte-list SSID when it has a semicolon', () => {
  const w = { ssid: 'Yard Net', psk: 'back\\slash ', country: 'GB' };
  const text = renderWifiConnection(w);
  assert.is(renderWifiConnection(w), text, 'same inputs, same bytes (uuid from the SSID)');
  assert.ok(/^uuid=[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/m.test(text), text);
  assert.ok(text.includes('\nssid=Yard Net\n') && text.includes('\npsk=back\\\\slash\\s\n'), text);
  assert.ok(renderWifiConnection({ ...w, ssid: 'a;b' }).includes('\nssid=97;59;98;\n'));
});

test('country on cmdline.txt, hostname from the thing name, /etc/hosts', () => {
  assert.is(
    withCountry('console=tty1 root=PARTUUID=x-02 rootwait cfg80211.ieee80211_regdom=US quiet\n', 'GB'),
    'console=tty1 root=PARTUUID=x-02 rootwait quiet cfg80211.ieee80211_regdom=GB\n',
  );
  assert.is(hostnameFor('Yard_Cam:1'), 'yard-cam-1');
  assert.is(hostnameFor('__'), 'fieldcam');
  assert.is(hostnameFor('x'.repeat(128)), 'x'.repeat(63));
  assert.is(hostnameFor(`${'a'.repeat(62)}_b`), 'a'.repeat(62));
  assert.is(withHostname('127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n', 'cam'), '127.0.0.1\tlocalhost\n127.0.1.1\tcam\n');
  assert.is(withHostname('127.0.0.1\tlocalhost\n', 'cam'), '127.0.0.1\tlocalhost\n127.0.1.1\tcam\n');
});

test.run();
