import { createPublicKey, sign } from 'node:crypto';
import { BadOption } from './errors.js';
import { OID, toPem } from './certificate.js';
import {
  bitString,
  context,
  ia5String,
  nullValue,
  oid,
  printableString,
  sequence,
  set,
  smallInteger,
  utf8String,
} from './der-encode.js';
import type { PrivateKeyInfo } from './keys.js';

export interface CsrSubject {
  commonName: string;
  email?: string | undefined;
  country?: string | undefined;
}

export function validateCsrSubject(subject: CsrSubject): CsrSubject {
  if (subject.commonName.trim() === '' || subject.commonName.length > 64) {
    throw new BadOption('read --common-name: it must be 1-64 characters', '--common-name');
  }
  if (subject.country !== undefined && !/^[A-Z]{2}$/.test(subject.country)) {
    throw new BadOption(
      `read --country: "${subject.country}" is not a two-letter ISO 3166 code such as US or CH`,
      '--country',
    );
  }
  if (subject.email !== undefined && !/^[\x21-\x7e]+@[\x21-\x7e]+\.[\x21-\x7e]+$/.test(subject.email)) {
    throw new BadOption(`read --email: "${subject.email}" is not an e-mail address`, '--email');
  }
  return subject;
}

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

const attribute = (type: string, value: Buffer) => set(sequence(oid(type), value));

/**
 * A PKCS#10 CSR (SHA-256 with RSA), as Keychain Access makes them: emailAddress (IA5String),
 * CN (UTF8String), C (PrintableString). The DER is built here and signed with node's native crypto.
 */
export function buildCsr(key: PrivateKeyInfo, subject: CsrSubject): { pem: string; der: Buffer } {
  const name = sequence(
    ...(subject.email !== undefined ? [attribute(OID.emailAddress, ia5String(subject.email))] : []),
    attribute(OID.commonName, utf8String(subject.commonName)),
    ...(subject.country !== undefined ? [attribute(OID.country, printableString(subject.country))] : []),
  );
  const spki = createPublicKey(key.key).export({ type: 'spki', format: 'der' });
  // CertificationRequestInfo ::= SEQUENCE { version 0, subject, subjectPKInfo, attributes [0] {} }
  const info = sequence(smallInteger(0), name, spki, context(0));
  const signature = sign('sha256', info, key.key);
  const der = sequence(info, sequence(oid(SHA256_WITH_RSA), nullValue()), bitString(signature));
  return { der, pem: toPem(der, 'CERTIFICATE REQUEST') };
}
