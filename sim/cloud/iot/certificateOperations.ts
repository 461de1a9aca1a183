// Device certificates (AWS IoT API reference: CreateKeysAndCertificate, CreateCertificateFromCsr,
// UpdateCertificate, DescribeCertificate). Certificates are issued by the local cloud's CA; the id is the
// SHA-256 of the DER encoding and the ARN `arn:aws:iot:<region>:<account>:cert/<id>`.
import { randomBytes } from 'node:crypto';
import { InputValidator } from '../kvs/InputValidator.ts';
import { CsrError, type IssuedCertificate } from './CertificateAuthority.ts';
import { CERTIFICATE_STATUSES, type CertificateRecord } from './IotRegistry.ts';
import { invalidRequest, IotError, IOT_PATTERNS, iotArn, notFound, queryFlag, seconds, type IotOperation, type IotRequest } from './IotOperation.ts';

/**
 * "Setting the status to PENDING_TRANSFER or PENDING_ACTIVATION will result in an exception being thrown"
 * (UpdateCertificate newStatus).
 */
const INTERNAL_STATUSES: ReadonlySet<string> = new Set(['PENDING_TRANSFER', 'PENDING_ACTIVATION']);

function record(r: IotRequest, issued: IssuedCertificate, active: boolean): CertificateRecord {
  const now = r.ctx.now();
  const certificate: CertificateRecord = {
    certificateId: issued.certificateId,
    certificateArn: iotArn(r.ctx, 'cert', issued.certificateId),
    certificatePem: issued.certificatePem,
    status: active ? 'ACTIVE' : 'INACTIVE',
    creationDate: now,
    lastModifiedDate: now,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    generationId: randomBytes(16).toString('hex'),
    customerVersion: 1,
  };
  r.ctx.iot.put('certificates', certificate);
  r.ctx.log('iot-certificate-created', { certificateId: issued.certificateId, status: certificate.status });
  return certificate;
}

/** CreateKeysAndCertificate: a new key pair and certificate; the private key is returned once and never kept. */
async function createKeysAndCertificate(r: IotRequest): Promise<unknown> {
  const active = queryFlag(r.query, 'setAsActive');
  r.ctx.authorize(r.req, 'iot:CreateKeysAndCertificate', '*');
  const issued = await r.ctx.ca.createKeysAndCertificate();
  const c = record(r, issued, active);
  return {
    certificateArn: c.certificateArn,
    certificateId: c.certificateId,
    certificatePem: c.certificatePem,
    keyPair: { PublicKey: issued.publicKeyPem, PrivateKey: issued.privateKeyPem },
  };
}

async function createCertificateFromCsr(r: IotRequest): Promise<unknown> {
  const v = new InputValidator(r.body);
  const csr = v.string('certificateSigningRequest', { required: true, min: 1, max: 4096 })!;
  v.done();
  const active = queryFlag(r.query, 'setAsActive');
  r.ctx.authorize(r.req, 'iot:CreateCertificateFromCsr', '*');
  let issued: IssuedCertificate;
  try {
    issued = await r.ctx.ca.issueFromCsr(csr);
  } catch (err) {
    if (err instanceof CsrError) throw invalidRequest(err.message);
    throw err;
  }
  const c = record(r, issued, active);
  return { certificateArn: c.certificateArn, certificateId: c.certificateId, certificatePem: c.certificatePem };
}

function findCertificate(r: IotRequest, action: string): CertificateRecord {
  const v = new InputValidator({ certificateId: r.params[0] });
  const id = v.string('certificateId', { required: true, min: 64, max: 64, pattern: IOT_PATTERNS.certificateId })!;
  v.done();
  r.ctx.authorize(r.req, action, iotArn(r.ctx, 'cert', id));
  const certificate = r.ctx.iot.get('certificates', id.toLowerCase());
  if (!certificate) throw notFound(`The certificate ${id} does not exist.`);
  return certificate;
}

/**
 * UpdateCertificate is idempotent. A REVOKED certificate stays revoked: AWS IoT refuses to activate it
 * again with CertificateStateException (406) — the console offers no way back either [inference].
 */
function updateCertificate(r: IotRequest): unknown {
  const v = new InputValidator({ newStatus: r.query.get('newStatus') ?? undefined });
  const status = v.oneOf('newStatus', CERTIFICATE_STATUSES, true);
  v.done();
  const certificate = findCertificate(r, 'iot:UpdateCertificate');
  if (INTERNAL_STATUSES.has(status!)) throw invalidRequest(`The status ${status} is used internally by AWS IoT and cannot be set.`);
  if (certificate.status === status) return {};
  if (certificate.status === 'REVOKED') {
    throw new IotError(
      406,
      'CertificateStateException',
      `The certificate ${certificate.certificateId} is REVOKED; a revoked certificate cannot change status.`,
    );
  }
  r.ctx.iot.put('certificates', { ...certificate, status: status!, lastModifiedDate: r.ctx.now(), customerVersion: certificate.customerVersion + 1 });
  r.ctx.log('iot-certificate-status', { certificateId: certificate.certificateId, status });
  return {};
}

function describeCertificate(r: IotRequest): unknown {
  const c = findCertificate(r, 'iot:DescribeCertificate');
  return {
    certificateDescription: {
      certificateArn: c.certificateArn,
      certificateId: c.certificateId,
      status: c.status,
      certificatePem: c.certificatePem,
      ownedBy: r.ctx.config.accountId,
      creationDate: seconds(c.creationDate),
      lastModifiedDate: seconds(c.lastModifiedDate),
      customerVersion: c.customerVersion,
      generationId: c.generationId,
      validity: { notBefore: seconds(c.notBefore), notAfter: seconds(c.notAfter) },
      certificateMode: 'DEFAULT',
    },
  };
}

export const certificateOperations: readonly IotOperation[] = Object.freeze([
  { name: 'CreateKeysAndCertificate', method: 'POST', path: /^\/keys-and-certificate$/, run: createKeysAndCertificate },
  { name: 'CreateCertificateFromCsr', method: 'POST', path: /^\/certificates$/, run: createCertificateFromCsr },
  { name: 'UpdateCertificate', method: 'PUT', path: /^\/certificates\/([^/]+)$/, run: updateCertificate },
  { name: 'DescribeCertificate', method: 'GET', path: /^\/certificates\/([^/]+)$/, run: describeCertificate },
] as const);
