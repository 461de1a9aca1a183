// Network and clock settings of a flashed image: the Wi-Fi connection as Bookworm's NetworkManager reads it
// (a keyfile in /etc/NetworkManager/system-connections, mode 0600 root — NetworkManager ignores a keyfile
// others may read: nm-settings-keyfile(5)), the regulatory country (the kernel's cfg80211.ieee80211_regdom on
// cmdline.txt, as raspi-config sets it on NetworkManager systems) and the hostname made of the thing name.
// Every input is bounded and checked before the image is touched: FLASH_WIFI_INVALID otherwise.
import { createHash } from 'node:crypto';
import { openSync, closeSync, readSync, fstatSync } from 'node:fs';
import { FieldcamError } from '../../shared/hostErrors.ts';

export const WIFI_CONNECTION = 'etc/NetworkManager/system-connections/fieldcam-wifi.nmconnection';
export const REGDOM = 'cfg80211.ieee80211_regdom';

export interface WifiSettings {
  readonly ssid: string;
  /** The WPA passphrase (8-63 printable ASCII) or the 64-hex-digit PSK (IEEE 802.11i-2004 H.4). Never printed. */
  readonly psk: string;
  readonly country: string;
}

const fail = (why: string) => new FieldcamError('FLASH_WIFI_INVALID', `flash: ${why} (nothing was written)`);

/** Reads --wifi-psk-file: at most 256 bytes, one line (a trailing newline is dropped). */
export function readWifiSettings(o: { ssid?: string; pskFile?: string; country?: string }): WifiSettings | undefined {
  if (o.ssid === undefined && o.pskFile === undefined && o.country === undefined) return undefined;
  if (o.ssid === undefined || o.pskFile === undefined || o.country === undefined) {
    throw fail('--wifi-ssid, --wifi-psk-file and --wifi-country go together (the passphrase is read from a file, never the command line)');
  }
  const ssidBytes = Buffer.byteLength(o.ssid, 'utf8');
  if (ssidBytes < 1 || ssidBytes > 32 || /[\x00-\x1f\x7f]/.test(o.ssid))
    throw fail(`--wifi-ssid must be 1-32 bytes without control characters (it is ${ssidBytes})`);
  const country = o.country.toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) throw fail(`--wifi-country ${JSON.stringify(o.country)} is not a two-letter ISO 3166-1 code`);
  let raw: Buffer;
  try {
    const fd = openSync(o.pskFile, 'r');
    try {
      if (!fstatSync(fd).isFile()) throw new Error('not a regular file');
      raw = Buffer.alloc(257);
      raw = raw.subarray(0, readSync(fd, raw, 0, 257, 0));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw fail(`--wifi-psk-file ${o.pskFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (raw.length > 256) throw fail(`--wifi-psk-file ${o.pskFile} is longer than a passphrase`);
  const psk = raw.toString('latin1').replace(/\r?\n$/, '');
  const passphrase = /^[\x20-\x7e]{8,63}$/.test(psk);
  const hex = /^[0-9a-fA-F]{64}$/.test(psk);
  if (!passphrase && !hex)
    throw fail(`--wifi-psk-file ${o.pskFile} does not hold a WPA passphrase (8-63 printable ASCII characters, one line) or 64 hex digits`);
  return { ssid: o.ssid, psk, country };
}

/** GKeyFile string escaping (\\, leading/trailing space as \s, no newlines can occur: checked above). */
function keyfileString(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/^ /, '\\s').replace(/ $/, '\\s');
}

/** The keyfile. Stable bytes for the same inputs: the connection UUID is derived from the SSID. */
export function renderWifiConnection(w: WifiSettings): string {
  const h = createHash('sha256').update(`fieldcam-wifi\0${w.ssid}`).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  // An SSID with ';' would read as a byte list in a keyfile: write it as one (nm-settings-keyfile(5)).
  const ssid = w.ssid.includes(';') ? [...Buffer.from(w.ssid, 'utf8')].join(';') + ';' : keyfileString(w.ssid);
  return `# Written by \`fieldcam flash\`: the camera's Wi-Fi (NetworkManager keyfile, mode 0600).
[connection]
id=fieldcam-wifi
uuid=${uuid}
type=wifi
autoconnect=true

[wifi]
mode=infrastructure
ssid=${ssid}

[wifi-security]
key-mgmt=wpa-psk
psk=${keyfileString(w.psk)}

[ipv4]
method=auto

[ipv6]
addr-gen-mode=default
method=auto
`;
}

/** cmdline.txt (one line) with the regulatory domain set to `country`, replacing any earlier one. */
export function withCountry(cmdline: string, country: string): string {
  const words = cmdline
    .replace(/\s+$/, '')
    .split(/\s+/)
    .filter((w) => w !== '' && !w.startsWith(`${REGDOM}=`));
  return [...words, `${REGDOM}=${country}`].join(' ') + '\n';
}

/** A hostname (RFC 1123 label: a-z, 0-9, '-', at most 63) made of a thing name ([a-zA-Z0-9:_-], up to 128). */
export function hostnameFor(thingName: string): string {
  const h = thingName
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return h === '' ? 'fieldcam' : h;
}

/** /etc/hosts with Debian's 127.0.1.1 line naming `hostname` (added when missing). */
export function withHostname(hosts: string, hostname: string): string {
  const lines = hosts.replace(/\n$/, '').split('\n');
  const i = lines.findIndex((l) => /^127\.0\.1\.1\s/.test(l));
  const line = `127.0.1.1\t${hostname}`;
  if (i >= 0) lines[i] = line;
  else lines.push(line);
  return lines.join('\n') + '\n';
}
