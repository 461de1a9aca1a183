// Device certificates for the IoT API, signed by the local cloud's CA (sim/cloud/tls/ensureCertificates.ts):
// CreateKeysAndCertificate (a fresh RSA 2048 key pair, as AWS IoT generates) and CreateCertificateFromCsr
// (the public key and subject of a CSR whose signature verifies). The certificate id is the lower-case hex
// SHA-256 of the DER encoding, as AWS IoT computes it.
import { createHash, createPrivateKey, generateKeyPair, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';

/** The CA key is RSA 2048 with SHA-256 signatures (ensureCertificates.ts). */
const CA_ALGORITHM = Object.freeze({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' });
/**
 * Validity: AWS IoT certificates run until 2049-12-31T23:59:59Z ("X.509 client certificates"). They start
 * on 2020-01-01 here rather than at issuance, like every certificate of the local cloud: the clock-skew
 * fault moves the cloud's clock, not the TLS stack's, and boards without an RTC boot in the past.
 */
const NOT_BEFORE = Date.UTC(2020, 0, 1);
const NOT_AFTER = Date.UTC(2049, 11, 31, 23, 59, 59);
/** The subject AWS IoT gives the certificates it generates. */
const GENERATED_SUBJECT = 'CN=AWS IoT Certificate';
/** Key sizes AWS IoT accepts in a CSR (RSA ≥ 2048 bits; ECDSA P-256/P-384/P-521). */
const MIN_RSA_BITS = 2048;
const EC_CURVES: ReadonlySet<string> = new Set(['P-256', 'P-384', 'P-521']);

export interface IssuedCertificate {
  readonly certificateId: string;
  readonly certificatePem: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** A CSR the CA refuses; the IoT route answers it as InvalidRequestException. */
export class CsrError extends Error {}

type X509 = typeof import('@peculiar/x509');
let x509Module: Promise<X509> | undefined;

/** @peculiar/x509 needs the Reflect metadata polyfill before it loads, and a WebCrypto provider. */
function x509(): Promise<X509> {
  x509Module ??= import('reflect-metadata').then(async () => {
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(webcrypto as never);
    return m;
  });
  return x509Module;
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f; // a positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

export class CertificateAuthority {
  readonly caPem: string;
  private readonly caKeyPem: string;
  private signingKey: Promise<webcrypto.CryptoKey> | undefined;

  constructor(caPem: string, caKeyPem: string) {
    this.caPem = caPem;
    this.caKeyPem = caKeyPem;
  }

  /** CreateKeysAndCertificate: a new RSA 2048 key pair (PKCS#1 private key, SPKI public key) and its certificate. */
  async createKeysAndCertificate(): Promise<IssuedCertificate & { publicKeyPem: string; privateKeyPem: string }> {
    const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const issued = await this.issue(new Uint8Array(spki), GENERATED_SUBJECT);
    return {
      ...issued,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
      privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    };
  }

  /** CreateCertificateFromCsr: checks the CSR's signature and key, then certifies its public key and subject. */
  async issueFromCsr(csrPem: string): Promise<IssuedCertificate> {
    const m = await x509();
    let csr: InstanceType<X509['Pkcs10CertificateRequest']>;
    try {
      csr = new m.Pkcs10CertificateRequest(csrPem);
    } catch {
      throw new CsrError('The certificate signing request is not a valid PEM or DER PKCS#10 request.');
    }
    if (!(await csr.verify().catch(() => false))) throw new CsrError('The certificate signing request signature does not verify.');
    const algorithm = csr.publicKey.algorithm as { name: string; modulusLength?: number; namedCurve?: string };
    if (algorithm.name.startsWith('RSA') ? (algorithm.modulusLength ?? 0) < MIN_RSA_BITS : !EC_CURVES.has(algorithm.namedCurve ?? '')) {
      throw new CsrError(
        `The certificate signing request key (${algorithm.name} ${algorithm.modulusLength ?? algorithm.namedCurve ?? ''}) is too weak or not supported.`,
      );
    }
    return this.issue(csr.publicKey.rawData, csr.subject || GENERATED_SUBJECT);
  }

  private async issue(publicKey: Uint8Array | ArrayBuffer, subject: string): Promise<IssuedCertificate> {
    const m = await x509();
    const ca = new m.X509Certificate(this.caPem);
    const cert = await m.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject,
      issuer: ca.subject,
      notBefore: new Date(NOT_BEFORE),
      notAfter: new Date(NOT_AFTER),
      publicKey,
      signingKey: await this.key(),
      signingAlgorithm: CA_ALGORITHM,
      extensions: [
        new m.BasicConstraintsExtension(false, undefined, true),
        new m.KeyUsagesExtension(m.KeyUsageFlags.digitalSignature, true),
        // Node verifies a client certificate's purpose: with an EKU present it must list clientAuth.
        new m.ExtendedKeyUsageExtension([m.ExtendedKeyUsage.clientAuth]),
        await m.SubjectKeyIdentifierExtension.create(publicKey),
        await m.AuthorityKeyIdentifierExtension.create(ca),
      ],
    });
    const der = new Uint8Array(cert.rawData);
    return {
      certificateId: createHash('sha256').update(der).digest('hex'),
      certificatePem: cert.toString('pem') + '\n',
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
    };
  }

  private key(): Promise<webcrypto.CryptoKey> {
    this.signingKey ??= webcrypto.subtle.importKey('pkcs8', createPrivateKey(this.caKeyPem).export({ type: 'pkcs8', format: 'der' }), CA_ALGORITHM, false, [
      'sign',
    ]);
    return this.signingKey;
  }
}
