// The device certificate of a camera (kvs-reference.md §9.1 step 6). AWS returns the private key once, from
// CreateKeysAndCertificate, so the certificate in the bundle is reused while the bundle still holds its key
// and AWS still has it ACTIVE; otherwise a new one is created and its key written to the bundle at once.
import { CreateKeysAndCertificateCommand, DescribeCertificateCommand, ListThingPrincipalsCommand } from '@aws-sdk/client-iot';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FieldcamError } from '../../../firmware/core/errors.ts';
import { writeBundleFile } from '../writeBundle.ts';
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
      return { certificateArn: described!.certificateDescription!.certificateArn, certificateId: pair.id, certificatePem: pair.certificatePem, privateKeyPem: pair.privateKeyPem, created: false, orphaned: [] };
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
  if (orphaned.length > 0) why = `the thing's ACTIVE certificate ${orphaned.map((id) => id.slice(0, 12)).join(', ')} has no key in ${dir} (lost key): a new certificate is made; the old one stays attached and ACTIVE until you revoke it`;
  if (ctx.dryRun) {
    steps.changed('certificate', 'new', false, why);
    return { certificateArn: undefined, certificateId: undefined, certificatePem: undefined, privateKeyPem: undefined, created: true, orphaned };
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
  return { certificateArn: out.certificateArn, certificateId: out.certificateId, certificatePem: out.certificatePem, privateKeyPem: undefined, created: true, orphaned };
}
