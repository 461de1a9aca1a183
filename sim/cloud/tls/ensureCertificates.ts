// The local cloud's TLS identity: a CA generated once into the state directory (what clients trust, via
// AWS_CA_BUNDLE or a device's config bundle) and a server certificate for 127.0.0.1 / localhost that it signs
// (and for TEST_HOST_NAME, the name the resolver fault suites give the cloud through a nameserver of their own).
// Both are reused across restarts; the server certificate alone is re-issued when it nears expiry or stops
// matching the CA. Keys are PKCS#8 PEM, mode 0600.
import { webcrypto, X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../../firmware/core/errors.ts';
import { writeFileAtomic } from '../../../host/shared/writeFileAtomic.ts';

export interface CloudCertificates {
  readonly caPem: string;
  readonly caFile: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** RSA 2048 + SHA-256: what AWS endpoints present, so a device's TLS configuration that works here works there. */
const KEY_ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
/**
 * Certificates are valid from 2020 on, not from "now": boards without an RTC boot with a stale clock, and
 * mbedTLS checks validity against the device clock; a server clock moved by the clock-skew fault must not
 * make the cloud's own certificate "not yet valid" either.
 */
const NOT_BEFORE = new Date(Date.UTC(2020, 0, 1));
const CA_YEARS = 20;
const SERVER_DAYS = 825;
const RENEW_BEFORE_MS = 30 * 86400_000;

/**
 * A DNS name the certificate also carries, under .test (RFC 6761 §6.2: never a real name): the resolver
 * fault suites (sim/faults/startNameserver.ts) make it resolve to the cloud, so devices verify the cloud by
 * a name as they verify a real endpoint.
 */
export const TEST_HOST_NAME = 'kvs.fieldcam.test';

const FILES = Object.freeze({ ca: 'ca.pem', caKey: 'ca-key.pem', cert: 'server.pem', key: 'server-key.pem' } as const);

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

async function loadX509(): Promise<typeof import('@peculiar/x509')> {
  // @peculiar/x509 resolves its algorithms through tsyringe, which needs a Reflect metadata polyfill loaded
  // first. Loaded lazily: only the first start of a state directory (or a renewal) generates anything.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as never);
  return x509;
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

async function createCa(dir: string): Promise<{ caPem: string; caKeyPem: string }> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const notAfter = new Date(Date.now() + CA_YEARS * 365 * 86400_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: 'CN=fieldcam local cloud CA, O=fieldcam',
    notBefore: NOT_BEFORE,
    notAfter,
    keys,
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const caKeyPem = await exportKey(keys.privateKey);
  const caPem = cert.toString('pem') + '\n';
  writeFileAtomic(join(dir, FILES.caKey), caKeyPem, 0o600);
  writeFileAtomic(join(dir, FILES.ca), caPem);
  return { caPem, caKeyPem };
}

async function createServerCertificate(dir: string, caPem: string, caKeyPem: string): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const ca = new x509.X509Certificate(caPem);
  const caKeyDer = createPrivateKey(caKeyPem).export({ type: 'pkcs8', format: 'der' });
  const caKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, KEY_ALGORITHM, false, ['sign']);
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: 'CN=localhost, O=fieldcam',
    issuer: ca.subject,
    notBefore: NOT_BEFORE,
    notAfter: new Date(Date.now() + SERVER_DAYS * 86400_000),
    publicKey: keys.publicKey,
    signingKey: caKey as never,
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
        { type: 'dns', value: 'localhost' },
        { type: 'dns', value: TEST_HOST_NAME },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  const keyPem = await exportKey(keys.privateKey);
  const certPem = cert.toString('pem') + '\n';
  writeFileAtomic(join(dir, FILES.key), keyPem, 0o600);
  writeFileAtomic(join(dir, FILES.cert), certPem);
  return { certPem, keyPem };
}

/** True when the stored server certificate is signed by `caPem`, names 127.0.0.1, localhost and TEST_HOST_NAME, and is not near expiry. */
function serverCertificateUsable(certPem: string, keyPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    return (
      cert.verify(ca.publicKey) &&
      cert.checkPrivateKey(createPrivateKey(keyPem)) &&
      cert.checkIP('127.0.0.1') !== undefined &&
      cert.checkHost('localhost') !== undefined &&
      cert.checkHost(TEST_HOST_NAME) !== undefined &&
      Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS
    );
  } catch {
    return false;
  }
}

/** Loads the CA and server certificate from `dir`, creating or renewing what is missing or stale. */
export async function ensureCertificates(dir: string): Promise<CloudCertificates> {
  const caFile = join(dir, FILES.ca);
  const caKeyFile = join(dir, FILES.caKey);
  let caPem: string;
  let caKeyPem: string;
  if (existsSync(caFile) !== existsSync(caKeyFile)) {
    const missing = existsSync(caFile) ? caKeyFile : caFile;
    throw new FieldcamError(
      'CONFIG_INVALID',
      `the cloud CA in ${dir} is incomplete: ${missing} is missing; restore it, or delete ${FILES.ca} and ${FILES.caKey} to make a new CA (clients must then trust the new ${FILES.ca})`,
    );
  }
  if (existsSync(caFile)) {
    caPem = readFileSync(caFile, 'utf8');
    caKeyPem = readFileSync(caKeyFile, 'utf8');
    try {
      const ca = new X509Certificate(caPem);
      if (!ca.ca || !ca.checkPrivateKey(createPrivateKey(caKeyPem))) throw new Error('the key does not belong to the CA certificate');
    } catch (err) {
      throw new FieldcamError(
        'CONFIG_INVALID',
        `the cloud CA ${caFile} is unusable (${(err as Error).message}); delete ${FILES.ca} and ${FILES.caKey} to make a new one`,
      );
    }
  } else {
    ({ caPem, caKeyPem } = await createCa(dir));
  }
  const certFile = join(dir, FILES.cert);
  const keyFile = join(dir, FILES.key);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const keyPem = readFileSync(keyFile, 'utf8');
    if (serverCertificateUsable(certPem, keyPem, caPem)) return { caPem, caFile, certPem, keyPem };
  }
  const { certPem, keyPem } = await createServerCertificate(dir, caPem, caKeyPem);
  return { caPem, caFile, certPem, keyPem };
}
