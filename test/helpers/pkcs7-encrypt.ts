/**
 * The sending side of src/core/pkcs7-envelope.ts, for tests only: a CMS EnvelopedData (RFC 5652 §6.1) with one
 * KeyTransRecipientInfo (issuerAndSerialNumber, RSA PKCS#1 v1.5 or RSAES-OAEP SHA-1) and a random content key, as
 * mdmcert.download mails it. Written with the project's DER encoder and native crypto, independently of the reader.
 */
import { X509Certificate, constants, createCipheriv, publicEncrypt, randomBytes } from 'node:crypto';
import { CONTENT_CIPHERS, ENVELOPE_OID } from '../../src/core/pkcs7-envelope.js';
import type { ContentCipher, KeyTransport } from '../../src/core/pkcs7-envelope.js';
import { encodedNames, parseTbs } from '../../src/core/certificate.js';
import { context, nullValue, oid, sequence, set, smallInteger, tlv } from '../../src/core/der-encode.js';

export interface EncryptOptions {
  keyTransport?: KeyTransport;
}

export function encryptEnvelope(
  plaintext: Uint8Array,
  recipientCertPem: string,
  cipher: ContentCipher,
  options: EncryptOptions = {},
): Buffer {
  const cert = new X509Certificate(recipientCertPem);
  const { keyLength, ivLength, oid: cipherOid } = CONTENT_CIPHERS[cipher];
  const key = randomBytes(keyLength);
  const iv = randomBytes(ivLength);
  const c = createCipheriv(cipher, key, iv);
  const content = Buffer.concat([c.update(plaintext), c.final()]);
  const oaep = options.keyTransport === 'rsa-oaep';
  const encryptedKey = publicEncrypt(
    { key: cert.publicKey, padding: oaep ? constants.RSA_PKCS1_OAEP_PADDING : constants.RSA_PKCS1_PADDING },
    key,
  );
  const serialHex = parseTbs(cert.raw).serialNumber;
  const serial = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
  const recipient = sequence(
    smallInteger(0),
    sequence(
      Buffer.from(encodedNames(cert.raw).issuer),
      tlv(0x02, serial[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), serial]) : serial),
    ),
    oaep ? sequence(oid(ENVELOPE_OID.rsaesOaep), sequence()) : sequence(oid(ENVELOPE_OID.rsaEncryption), nullValue()),
    tlv(0x04, encryptedKey),
  );
  const enveloped = sequence(
    smallInteger(0),
    set(recipient),
    sequence(oid(ENVELOPE_OID.data), sequence(oid(cipherOid), tlv(0x04, iv)), tlv(0x80, content)),
  );
  return sequence(oid(ENVELOPE_OID.envelopedData), context(0, enveloped));
}
