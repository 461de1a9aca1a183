// The device certificate of a camera (kvs-reference.md §9.1 step 6). AWS returns the private key once, from
// CreateKeysAndCertificate, so the certificate in the bundle is reused while the bundle still holds its key
// and AWS still has it ACTIVE; otherwise a new one is created and its key written to the bundle at once.
// With a CSR (`provision --csr`) the key stays on the device: CreateCertificateFromCsr certifies the CSR's
// public key, and an ACTIVE certificate of the thing with that same public key is reused instead.
import { CreateCertificateFromCsrCommand, CreateKeysAndCertificateCommand, DescribeCertificateCommand, ListThingPrincipalsCommand } from '@aws-sdk/client-iot';
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../shared/hostErrors.ts';
import { writeBundleFile, type BundleFile } from '../writeBundle.ts';
import { awsCall, lookup } from './awsCall.ts';
import type { ProvisionContext } from './ProvisionContext.ts';
import type { ProvisionSteps } from './ProvisionSteps.ts';

export interface DeviceCertificate {
  /** undefined only in a dry run that would create one */
  readonly certificateArn: string | undefined;
  readonly certificateId: string | undefined;
  readonly certificatePem: string | undefined;
  /** The key of a reused certificate, as read from the bundle (rewritten only to repair its mode). */
  readonly privateKeyPem: string | undefined;
  /** true when it was created by this run (its attachments are then new, not repairs) */
  readonly created: boolean;
  /** ACTIVE certificates of the thing that this bundle has no key for, left attached and ACTIVE */
  readonly orphaned: readonly string[];
  /** Bundle files written here, at once, by a run that created the certificate (the key's only copy). */
  readonly written: readonly BundleFile[];
}

/** A PKCS#10 request in PEM (RFC 2986), the input of `provision --csr`. */
export interface Csr {
  readonly pem: string;
  /** The request's subjectPKInfo, DER. */
  readonly publicKeyDer: Buffer;
}

/** One DER TLV at `at`: where its content starts and ends (RFC 2986 is DER, so definite lengths only). */
function tlv(der: Uint8Array, at: number): { tag: number; start: number; end: number } {
  if (at + 2 > der.length) throw new Error('truncated');
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > der.length) throw new Error('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new Error('truncated');
  return { tag, start, end: start + len };
}

/**
 * Reads a CSR's public key: CertificationRequest ::= SEQUENCE { certificationRequestInfo SEQUENCE { version
 * INTEGER, subject Name, subjectPKInfo SubjectPublicKeyInfo, attributes [0] }, signatureAlgorithm, signature }.
 * The signature is checked by AWS IoT (and the local cloud) when it certifies the request.
 */
export function parseCsr(pem: string): Csr {
  const m = /-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END (?:NEW )?CERTIFICATE REQUEST-----/.exec(pem);
  if (!m) throw new Error('no PEM "CERTIFICATE REQUEST" block');
  const der = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  const outer = tlv(der, 0);
  const info = tlv(der, outer.start);
  if (outer.tag !== 0x30 || info.tag !== 0x30) throw new Error('not a PKCS#10 request');
  const version = tlv(der, info.start);
  const subject = tlv(der, version.end);
  const spki = tlv(der, subject.end);
  if (version.tag !== 0x02 || subject.tag !== 0x30 || spki.tag !== 0x30) throw new Error('not a PKCS#10 request');
  const publicKeyDer = der.subarray(subject.end, spki.end);
  // Normalised through Node, so it compares equal to an X509Certificate's public key.
  const key: KeyObject = createPublicKey({ key: publicKeyDer, format: 'der', type: 'spki' });
  return { pem: `-----BEGIN CERTIFICATE REQUEST-----${m[1]!}-----END CERTIFICATE REQUEST-----\n`, publicKeyDer: key.export({ type: 'spki', format: 'der' }) };
}

/** Whether a PEM certificate certifies this public key (SPKI DER). */
function certifiesKey(certificatePem: string, publicKeyDer: Buffer): boolean {
  try {
    return Buffer.compare(new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' }), publicKeyDer) === 0;
  } catch {
    return false;
  }
}

/**
 * The certificate of a CSR: the bundle's certificate.pem when it certifies the CSR's key and is ACTIVE, else an
 * ACTIVE certificate attached to the thing that certifies that key (a re-run whose bundle was lost), else a new
 * one from CreateCertificateFromCsr. No private key is read or written: it never leaves the device.
 */
export async function ensureCertificateFromCsr(
  ctx: ProvisionContext,
  thingName: string,
  dir: string,
  csr: Csr,
  steps: ProvisionSteps,
): Promise<DeviceCertificate> {
  const { iot } = ctx.clients;
  const found = (arn: string | undefined, id: string, pem: string, detail: string): DeviceCertificate => {
    steps.exists('certificate', id.slice(0, 12), detail);
    return { certificateArn: arn, certificateId: id, certificatePem: pem, privateKeyPem: undefined, created: false, orphaned: [], written: [] };
  };
  let inBundle: string | undefined;
  try {
    inBundle = readFileSync(join(dir, 'certificate.pem'), 'utf8');
  } catch {
    inBundle = undefined;
  }
  let why = "no ACTIVE certificate of the thing certifies the CSR's public key";
  if (inBundle !== undefined && certifiesKey(inBundle, csr.publicKeyDer)) {
    const id = certificateId(inBundle);
    const d = await lookup('DescribeCertificate', () => iot.send(new DescribeCertificateCommand({ certificateId: id })));
    if (d?.certificateDescription?.status === 'ACTIVE') return found(d.certificateDescription.certificateArn, id, inBundle, 'ACTIVE, certifies the CSR key');
    why = d?.certificateDescription?.status
      ? `the bundle's certificate ${id.slice(0, 12)} is ${d.certificateDescription.status}`
      : `the bundle's certificate ${id.slice(0, 12)} is unknown to AWS IoT`;
  }
  const principals = await lookup('ListThingPrincipals', () => iot.send(new ListThingPrincipalsCommand({ thingName })));
  for (const arn of principals?.principals ?? []) {
    if (!arn.includes(':cert/')) continue;
    const id = arn.slice(arn.lastIndexOf('/') + 1);
    const d = (await lookup('DescribeCertificate', () => iot.send(new DescribeCertificateCommand({ certificateId: id }))))?.certificateDescription;
    if (d?.status === 'ACTIVE' && d.certificatePem && certifiesKey(d.certificatePem, csr.publicKeyDer)) {
      return found(d.certificateArn ?? arn, id, d.certificatePem, 'ACTIVE, attached, certifies the CSR key');
    }
  }
  if (ctx.dryRun) {
    steps.changed('certificate', 'new (from CSR)', false, why);
    return {
      certificateArn: undefined,
      certificateId: undefined,
      certificatePem: undefined,
      privateKeyPem: undefined,
      created: true,
      orphaned: [],
      written: ['certificate.pem'],
    };
  }
  const out = await awsCall('CreateCertificateFromCsr', () =>
    iot.send(new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr.pem, setAsActive: true })),
  );
  if (!out.certificateArn || !out.certificateId || !out.certificatePem)
    throw new FieldcamError('PROVISION_AWS_FAILED', 'CreateCertificateFromCsr returned no certificate');
  if (!certifiesKey(out.certificatePem, csr.publicKeyDer))
    throw new FieldcamError('PROVISION_AWS_FAILED', 'CreateCertificateFromCsr returned a certificate for another public key');
  steps.changed('certificate', out.certificateId.slice(0, 12), false, `${why}; from the CSR, the key stays on the device`);
  return {
    certificateArn: out.certificateArn,
    certificateId: out.certificateId,
    certificatePem: out.certificatePem,
    privateKeyPem: undefined,
    created: true,
    orphaned: [],
    written: [],
  };
}

/** AWS IoT's certificate id: the SHA-256 of the certificate's DER, in lower-case hex. */
export function certificateId(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/** Whether a PEM private key is the key of a PEM certificate (their public keys are equal). */
export function keyMatchesCertificate(certificatePem: string, privateKeyPem: string): boolean {
  const fromCert = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  const fromKey = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
  return Buffer.compare(fromCert, fromKey) === 0;
}

function readPair(dir: string): { certificatePem: string; privateKeyPem: string; id: string } | undefined {
  try {
    const certificatePem = readFileSync(join(dir, 'certificate.pem'), 'utf8');
    const key = readFileSync(join(dir, 'private.key'), 'utf8');
    return keyMatchesCertificate(certificatePem, key) ? { certificatePem, privateKeyPem: key, id: certificateId(certificatePem) } : undefined;
  } catch {
    return undefined;
  }
}

export async function ensureCertificate(ctx: ProvisionContext, thingName: string, dir: string, steps: ProvisionSteps): Promise<DeviceCertificate> {
  const { iot } = ctx.clients;
  const pair = readPair(dir);
  let why = 'the bundle holds no certificate and key';
  if (pair) {
    const described = await lookup('DescribeCertificate', () => iot.send(new DescribeCertificateCommand({ certificateId: pair.id })));
    const status = described?.certificateDescription?.status;
    if (status === 'ACTIVE') {
      steps.exists('certificate', pair.id.slice(0, 12), 'ACTIVE, key in bundle');
      return {
        certificateArn: described!.certificateDescription!.certificateArn,
        certificateId: pair.id,
        certificatePem: pair.certificatePem,
        privateKeyPem: pair.privateKeyPem,
        created: false,
        orphaned: [],
        written: [],
      };
    }
    why = status ? `the bundle's certificate ${pair.id.slice(0, 12)} is ${status}` : `the bundle's certificate ${pair.id.slice(0, 12)} is unknown to AWS IoT`;
  }
  // The thing may hold ACTIVE certificates whose keys are not here (a lost bundle): they stay attached and
  // ACTIVE — another device may still use them — and are named so a person can revoke them.
  const principals = await lookup('ListThingPrincipals', () => iot.send(new ListThingPrincipalsCommand({ thingName })));
  const orphaned: string[] = [];
  for (const arn of principals?.principals ?? []) {
    const id = arn.slice(arn.lastIndexOf('/') + 1);
    if (!arn.includes(':cert/') || id === pair?.id) continue;
    const d = await lookup('DescribeCertificate', () => iot.send(new DescribeCertificateCommand({ certificateId: id })));
    if (d?.certificateDescription?.status === 'ACTIVE') orphaned.push(id);
  }
  if (orphaned.length > 0)
    why = `the thing's ACTIVE certificate ${orphaned.map((id) => id.slice(0, 12)).join(', ')} has no key in ${dir} (lost key): a new certificate is made; the old one stays attached and ACTIVE until you revoke it`;
  if (ctx.dryRun) {
    steps.changed('certificate', 'new', false, why);
    return {
      certificateArn: undefined,
      certificateId: undefined,
      certificatePem: undefined,
      privateKeyPem: undefined,
      created: true,
      orphaned,
      written: ['certificate.pem', 'private.key'],
    };
  }
  const out = await awsCall('CreateKeysAndCertificate', () => iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true })));
  const privateKeyPem = out.keyPair?.PrivateKey;
  if (!out.certificateArn || !out.certificateId || !out.certificatePem || !privateKeyPem) {
    throw new FieldcamError('PROVISION_AWS_FAILED', 'CreateKeysAndCertificate returned no certificate or key');
  }
  // The only copy of the key: to disk (0600) before anything else can fail.
  writeBundleFile(dir, 'private.key', privateKeyPem);
  writeBundleFile(dir, 'certificate.pem', out.certificatePem);
  steps.changed('certificate', out.certificateId.slice(0, 12), false, why);
  return {
    certificateArn: out.certificateArn,
    certificateId: out.certificateId,
    certificatePem: out.certificatePem,
    privateKeyPem: undefined,
    created: true,
    orphaned,
    written: ['certificate.pem', 'private.key'],
  };
}
