/**
 * A fake "Apple" CA for tests: issues push certificates with the real subject layout
 * (UID = topic, CN = APSP:<uuid>, C), signed by a CA named like Apple's AAI2 intermediate.
 * Keys come from node's native crypto; forge only builds and signs the X.509 structure.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import forge from 'node-forge';

export interface FakeCa {
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
  pem: string;
}

export function newKeyPem(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function createFakeCa(commonName = 'Apple Application Integration 2 Certification Authority'): FakeCa {
  const { privatePem, publicPem } = newKeyPem();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2013-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2040-01-01T00:00:00Z');
  const attrs = [
    { name: 'commonName', value: commonName },
    { name: 'organizationalUnitName', value: 'Apple Certification Authority' },
    { name: 'organizationName', value: 'Apple Inc. (TEST)' },
    { name: 'countryName', value: 'US' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }]);
  const key = forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey;
  cert.sign(key, forge.md.sha256.create());
  return { cert, key, pem: forge.pki.certificateToPem(cert) };
}

export function mdmTopic(uuid: string = randomUUID()): string {
  return `com.apple.mgmt.External.${uuid}`;
}

export interface IssueOptions {
  publicKeyPem: string;
  topic: string | null;
  notBefore: Date;
  notAfter: Date;
  country?: string;
  serial?: string;
  commonName?: string;
}

let serialCounter = 0x1000;

export function issuePushCert(ca: FakeCa, opts: IssueOptions): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(opts.publicKeyPem);
  cert.serialNumber = opts.serial ?? (serialCounter++).toString(16).padStart(16, '4');
  cert.validity.notBefore = opts.notBefore;
  cert.validity.notAfter = opts.notAfter;
  const uuid = opts.topic?.split('.').pop() ?? randomUUID();
  const subject: forge.pki.CertificateField[] = [];
  if (opts.topic !== null) subject.push({ type: '0.9.2342.19200300.100.1.1', value: opts.topic });
  subject.push({ name: 'commonName', value: opts.commonName ?? `APSP:${uuid}` });
  subject.push({ name: 'countryName', value: opts.country ?? 'US' });
  cert.setSubject(subject);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.sign(ca.key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** What Apple's portal does with an uploaded CSR: a certificate for the CSR's key. */
export function signCsr(ca: FakeCa, csrPem: string, opts: Omit<IssueOptions, 'publicKeyPem'>): string {
  const csr = forge.pki.certificationRequestFromPem(csrPem);
  if (!csr.verify()) throw new Error('CSR signature does not verify');
  return issuePushCert(ca, { ...opts, publicKeyPem: forge.pki.publicKeyToPem(csr.publicKey!) });
}

export const DAY = 86_400_000;
export function daysFrom(base: Date, days: number): Date {
  return new Date(base.getTime() + days * DAY);
}
