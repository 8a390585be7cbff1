import { X509Certificate, constants, createDecipheriv, createPublicKey, privateDecrypt } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { definiteLengths } from './ber.js';
import { encodedNames } from './certificate.js';
import { DerError, Tag, children, decodeOid, expectTag, readTlv, value } from './der.js';
import type { Tlv } from './der.js';

/**
 * The file mdmcert.download mails: a PKCS#7/CMS EnvelopedData (RFC 5652 §6) encrypted to the client's "exchange"
 * certificate, sent as hex text of its DER (MicroMDM's `mdmctl mdmcert.download -decrypt` and Commandment's
 * mdmcert.py both hex-decode it, then open it with the exchange key). The plaintext is the base64
 * PushCertificateRequest plist. Pure: bytes and a key in, plaintext or an EnvelopeError out.
 */

export type ContentCipher = 'aes-128-cbc' | 'aes-192-cbc' | 'aes-256-cbc' | 'des-ede3-cbc';
export type KeyTransport = 'rsa-pkcs1' | 'rsa-oaep';

export type EnvelopeErrorReason =
  /** Nothing but whitespace. */
  | 'empty'
  /** Neither hex text, PEM nor DER of a PKCS#7 ContentInfo. */
  | 'not-pkcs7'
  /** A PKCS#7 ContentInfo of another type (signed data, ...); `detail` is its content type OID. */
  | 'not-enveloped-data'
  /** An EnvelopedData whose structure is damaged; `detail` says where. */
  | 'malformed'
  /** The private key given is not the exchange certificate's key. */
  | 'key-not-for-certificate'
  /** No recipient of the envelope is this exchange certificate; `detail` is how many recipients there are. */
  | 'no-recipient'
  /** The recipient's key transport is neither rsaEncryption nor RSAES-OAEP (with MGF1 on the same hash). */
  | 'unsupported-key-transport'
  /** The content cipher is not AES-128/192/256-CBC or DES-EDE3-CBC; `detail` is its OID. */
  | 'unsupported-cipher'
  /** The content-encryption key does not decrypt with the exchange key (damaged, or made for another key). */
  | 'key-decrypt-failed'
  /** The content does not decrypt to valid padding (damaged, or a wrong content key). */
  | 'bad-padding';

const MESSAGES: Record<EnvelopeErrorReason, string> = {
  empty: 'the file is empty',
  'not-pkcs7': 'not a PKCS#7 file (hex text, DER or PEM)',
  'not-enveloped-data': 'a PKCS#7 file, but not encrypted data (EnvelopedData)',
  malformed: 'the encrypted data is damaged',
  'key-not-for-certificate': 'the private key does not belong to the exchange certificate',
  'no-recipient': 'it is not encrypted to this exchange certificate',
  'unsupported-key-transport': 'its key is wrapped with an unsupported algorithm',
  'unsupported-cipher': 'its content cipher is not supported (AES-CBC or 3DES only)',
  'key-decrypt-failed': 'its content key does not decrypt with the exchange key',
  'bad-padding': 'its content does not decrypt (wrong key or damaged file)',
};

export class EnvelopeError extends Error {
  constructor(
    readonly reason: EnvelopeErrorReason,
    readonly detail?: string,
  ) {
    super(detail === undefined ? MESSAGES[reason] : `${MESSAGES[reason]} (${detail})`);
    this.name = 'EnvelopeError';
  }
}

export const ENVELOPE_OID = {
  data: '1.2.840.113549.1.7.1',
  envelopedData: '1.2.840.113549.1.7.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

/** The content ciphers: OID (NIST CSOR, RFC 3370), key and IV length in bytes. */
export const CONTENT_CIPHERS: Record<ContentCipher, { oid: string; keyLength: number; ivLength: number }> = {
  'aes-128-cbc': { oid: '2.16.840.1.101.3.4.1.2', keyLength: 16, ivLength: 16 },
  'aes-192-cbc': { oid: '2.16.840.1.101.3.4.1.22', keyLength: 24, ivLength: 16 },
  'aes-256-cbc': { oid: '2.16.840.1.101.3.4.1.42', keyLength: 32, ivLength: 16 },
  'des-ede3-cbc': { oid: '1.2.840.113549.3.7', keyLength: 24, ivLength: 8 },
};

const cipherByOid = new Map(
  (Object.keys(CONTENT_CIPHERS) as ContentCipher[]).map((name) => [CONTENT_CIPHERS[name].oid, name]),
);

/** OAEP hash OIDs → node hash names (RFC 4055 / RFC 8017). */
const OAEP_HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/**
 * Hex text as mailed: whitespace and line breaks anywhere, upper or lower case. Null when anything else is in it,
 * when the digit count is odd, or when there are no digits at all.
 */
export function decodeHex(text: string): Buffer | null {
  const digits = text.replace(/\s+/g, '');
  if (digits.length === 0 || digits.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(digits)) return null;
  return Buffer.from(digits, 'hex');
}

const PEM = /-----BEGIN (PKCS7|CMS)-----([\s\S]*?)-----END \1-----/;

/**
 * The DER of the envelope in a file that holds it as hex text (as mailed), PEM (PKCS7 or CMS), or raw DER. Hex
 * first: a DER ContentInfo always holds bytes that are no hex digit (its OID tag 0x06), so the two never mix up.
 */
export function readEnvelopeFile(bytes: Uint8Array): Buffer {
  const buf = Buffer.from(bytes);
  const text = buf.toString('latin1');
  if (text.trim() === '') throw new EnvelopeError('empty');
  const hex = decodeHex(text);
  if (hex !== null) return hex;
  const pem = PEM.exec(text);
  if (pem !== null) {
    const body = pem[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0)
      throw new EnvelopeError('not-pkcs7', `the ${pem[1]} PEM block is not valid base64`);
    return Buffer.from(body, 'base64');
  }
  if (buf[0] === Tag.sequence) return buf;
  throw new EnvelopeError('not-pkcs7', 'neither hex text, PEM nor DER');
}

export type RecipientId = { issuer: Buffer; serial: Buffer } | { subjectKeyId: Buffer };

export interface KeyTransRecipient {
  id: RecipientId;
  /** 'unsupported': another algorithm, or OAEP parameters node cannot follow (`unsupported` says which). */
  keyTransport: KeyTransport | 'unsupported';
  unsupported?: string;
  /** For RSA-OAEP: the hash of OAEP and MGF1 (node name). */
  oaepHash?: string;
  /** For RSA-OAEP: the pSourceFunc label, when not empty. */
  oaepLabel?: Buffer;
  encryptedKey: Buffer;
}

export interface Envelope {
  /** Key transport recipients (RSA); other recipient kinds (key agreement, KEK, password) are skipped. */
  recipients: KeyTransRecipient[];
  /** Every RecipientInfo, key transport or not. */
  recipientCount: number;
  cipher: ContentCipher;
  iv: Buffer;
  encryptedContent: Buffer;
}

type Reader = {
  buf: Buffer;
  at: (tlv: Tlv) => Buffer;
  kids: (tlv: Tlv | undefined, tag: number, what: string) => Tlv[];
};

function reader(buf: Buffer): Reader {
  return {
    buf,
    at: (tlv) => Buffer.from(value(buf, tlv)),
    kids: (tlv, tag, what) => children(buf, expectTag(tlv, tag, what)),
  };
}

const oidOf = (r: Reader, tlv: Tlv | undefined, what: string) => decodeOid(r.at(expectTag(tlv, Tag.oid, what)));

/** The unsigned big-endian value of an INTEGER, without leading zero bytes. */
function integerBytes(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

function parseOaep(r: Reader, params: Tlv | undefined): { hash: string; label?: Buffer } {
  let hash = 'sha1';
  let mgfHash = 'sha1';
  let label: Buffer | undefined;
  if (params !== undefined && params.tag !== Tag.null) {
    for (const field of r.kids(params, Tag.sequence, 'RSAES-OAEP-params')) {
      const [inner] = children(r.buf, field);
      if (field.tag === 0xa0) {
        const oid = oidOf(r, r.kids(inner, Tag.sequence, 'hashFunc')[0], 'hashFunc');
        const name = OAEP_HASHES[oid];
        if (name === undefined) throw new EnvelopeError('unsupported-key-transport', `OAEP hash ${oid}`);
        hash = name;
      } else if (field.tag === 0xa1) {
        const [mgf, mgfParams] = r.kids(inner, Tag.sequence, 'maskGenFunc');
        const mgfOid = oidOf(r, mgf, 'maskGenFunc');
        if (mgfOid !== ENVELOPE_OID.mgf1) throw new EnvelopeError('unsupported-key-transport', `mask ${mgfOid}`);
        const oid = oidOf(r, r.kids(mgfParams, Tag.sequence, 'MGF1 hash')[0], 'MGF1 hash');
        const name = OAEP_HASHES[oid];
        if (name === undefined) throw new EnvelopeError('unsupported-key-transport', `MGF1 hash ${oid}`);
        mgfHash = name;
      } else if (field.tag === 0xa2) {
        const [, labelTlv] = r.kids(inner, Tag.sequence, 'pSourceFunc');
        const bytes = r.at(expectTag(labelTlv, Tag.octetString, 'pSourceFunc label'));
        if (bytes.length > 0) label = bytes;
      }
    }
  }
  // node's privateDecrypt uses the OAEP hash for MGF1 too
  if (mgfHash !== hash) throw new EnvelopeError('unsupported-key-transport', `OAEP ${hash} with MGF1 ${mgfHash}`);
  return label === undefined ? { hash } : { hash, label };
}

function parseRecipient(r: Reader, info: Tlv): KeyTransRecipient {
  const [, rid, algorithm, encryptedKey] = r.kids(info, Tag.sequence, 'KeyTransRecipientInfo');
  if (rid === undefined) throw new DerError('recipient identifier is missing');
  let id: RecipientId;
  if (rid.tag === Tag.sequence) {
    const [issuer, serial] = children(r.buf, rid);
    const issuerTlv = expectTag(issuer, Tag.sequence, 'recipient issuer');
    id = {
      issuer: r.buf.subarray(issuerTlv.start, issuerTlv.end),
      serial: integerBytes(r.at(expectTag(serial, Tag.integer, 'recipient serial'))),
    };
  } else if (rid.tag === 0x80) {
    id = { subjectKeyId: r.at(rid) };
  } else {
    throw new DerError(`recipient identifier: unexpected tag 0x${rid.tag.toString(16)}`);
  }
  const [algOid, params] = r.kids(algorithm, Tag.sequence, 'keyEncryptionAlgorithm');
  const oid = oidOf(r, algOid, 'key encryption algorithm');
  const key = r.at(expectTag(encryptedKey, Tag.octetString, 'encryptedKey'));
  if (oid === ENVELOPE_OID.rsaEncryption) return { id, keyTransport: 'rsa-pkcs1', encryptedKey: key };
  if (oid === ENVELOPE_OID.rsaesOaep) {
    let oaep: ReturnType<typeof parseOaep>;
    try {
      oaep = parseOaep(r, params);
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      return { id, keyTransport: 'unsupported', unsupported: error.detail ?? 'OAEP parameters', encryptedKey: key };
    }
    return {
      id,
      keyTransport: 'rsa-oaep',
      oaepHash: oaep.hash,
      ...(oaep.label === undefined ? {} : { oaepLabel: oaep.label }),
      encryptedKey: key,
    };
  }
  return { id, keyTransport: 'unsupported', unsupported: oid, encryptedKey: key };
}

/** The encrypted content: [0] IMPLICIT OCTET STRING, primitive or (BER-style) constructed of OCTET STRINGs. */
function encryptedContentBytes(r: Reader, tlv: Tlv | undefined): Buffer {
  if (tlv === undefined) throw new DerError('the encrypted content is missing (detached content is not supported)');
  if (tlv.tag === 0x80) return r.at(tlv);
  if (tlv.tag === 0xa0)
    return Buffer.concat(children(r.buf, tlv).map((p) => r.at(expectTag(p, Tag.octetString, 'content part'))));
  throw new DerError(`encrypted content: unexpected tag 0x${tlv.tag.toString(16)}`);
}

/** Parses a ContentInfo holding an EnvelopedData (DER, or BER with indefinite lengths as `openssl cms -stream` writes). */
export function parseEnvelope(der: Uint8Array): Envelope {
  let r: Reader;
  let contentInfo: Tlv[];
  let contentType: string;
  try {
    r = reader(definiteLengths(der));
    const outer = expectTag(readTlv(r.buf, 0), Tag.sequence, 'ContentInfo');
    if (outer.end !== r.buf.length) throw new DerError('trailing bytes after the ContentInfo');
    contentInfo = children(r.buf, outer);
    contentType = oidOf(r, contentInfo[0], 'contentType');
  } catch (error) {
    if (error instanceof DerError) throw new EnvelopeError('not-pkcs7', error.message);
    throw error;
  }
  if (contentType !== ENVELOPE_OID.envelopedData) throw new EnvelopeError('not-enveloped-data', contentType);
  try {
    const [enveloped] = r.kids(contentInfo[1], 0xa0, 'content');
    const parts = r.kids(enveloped, Tag.sequence, 'EnvelopedData');
    let i = 1; // version
    if (parts[i]?.tag === 0xa0) i++; // originatorInfo
    const infos = r.kids(parts[i], Tag.set, 'recipientInfos');
    const recipients = infos.filter((t) => t.tag === Tag.sequence).map((t) => parseRecipient(r, t));
    const [, algorithm, content] = r.kids(parts[i + 1], Tag.sequence, 'EncryptedContentInfo');
    const [algOid, ivTlv] = r.kids(algorithm, Tag.sequence, 'contentEncryptionAlgorithm');
    const oid = oidOf(r, algOid, 'content encryption algorithm');
    const cipher = cipherByOid.get(oid);
    if (cipher === undefined) throw new EnvelopeError('unsupported-cipher', oid);
    const { ivLength } = CONTENT_CIPHERS[cipher];
    const iv = r.at(expectTag(ivTlv, Tag.octetString, 'IV'));
    if (iv.length !== ivLength) throw new DerError(`the IV is ${iv.length} bytes, ${ivLength} expected`);
    return {
      recipients,
      recipientCount: infos.length,
      cipher,
      iv,
      encryptedContent: encryptedContentBytes(r, content),
    };
  } catch (error) {
    if (error instanceof DerError) throw new EnvelopeError('malformed', error.message);
    throw error;
  }
}

function certificateIds(certificateDer: Uint8Array): { issuer: Buffer; serial: Buffer; subjectKeyId: Buffer | null } {
  const der = Buffer.from(certificateDer);
  const tbs = readTlv(der, readTlv(der, 0).valueStart);
  const fields = children(der, tbs);
  const serial = expectTag(fields[fields[0]?.tag === 0xa0 ? 1 : 0], Tag.integer, 'serialNumber');
  let subjectKeyId: Buffer | null = null;
  const extensions = fields.find((t) => t.tag === 0xa3);
  if (extensions !== undefined) {
    for (const ext of children(der, expectTag(children(der, extensions)[0], Tag.sequence, 'Extensions'))) {
      const parts = children(der, ext);
      if (decodeOid(value(der, expectTag(parts[0], Tag.oid, 'extension id'))) !== ENVELOPE_OID.subjectKeyIdentifier)
        continue;
      const inner = Buffer.from(value(der, expectTag(parts[parts.length - 1], Tag.octetString, 'extnValue')));
      subjectKeyId = Buffer.from(value(inner, expectTag(readTlv(inner, 0), Tag.octetString, 'keyIdentifier')));
    }
  }
  return {
    issuer: Buffer.from(encodedNames(der).issuer),
    serial: integerBytes(Buffer.from(value(der, serial))),
    subjectKeyId,
  };
}

function matches(id: RecipientId, cert: ReturnType<typeof certificateIds>): boolean {
  if ('subjectKeyId' in id) return cert.subjectKeyId !== null && id.subjectKeyId.equals(cert.subjectKeyId);
  return id.issuer.equals(cert.issuer) && id.serial.equals(cert.serial);
}

/** The recipient of `envelope` that is `certificateDer` (by issuer and serial, or subject key identifier), if any. */
export function recipientFor(envelope: Envelope, certificateDer: Uint8Array): KeyTransRecipient | null {
  const cert = certificateIds(certificateDer);
  return envelope.recipients.find((r) => matches(r.id, cert)) ?? null;
}

/**
 * RSAES-PKCS1-v1_5 decoding (RFC 8017 §7.2.2) of a raw RSA block. Done here because node 20 refuses
 * RSA_PKCS1_PADDING for private decryption (CVE-2023-46809, a timing oracle); this decrypts a local file
 * once, with no one to observe the timing, so it is no oracle.
 */
function unpadPkcs1(block: Buffer): Buffer | null {
  if (block.length < 11 || block[0] !== 0x00 || block[1] !== 0x02) return null;
  const end = block.indexOf(0x00, 2);
  if (end < 10) return null;
  return block.subarray(end + 1);
}

function decryptKey(recipient: KeyTransRecipient, privateKey: KeyObject): Buffer | null {
  try {
    if (recipient.keyTransport === 'rsa-oaep') {
      return privateDecrypt(
        {
          key: privateKey,
          padding: constants.RSA_PKCS1_OAEP_PADDING,
          oaepHash: recipient.oaepHash ?? 'sha1',
          ...(recipient.oaepLabel === undefined ? {} : { oaepLabel: recipient.oaepLabel }),
        },
        recipient.encryptedKey,
      );
    }
    const modulusBytes = Math.ceil((privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
    if (recipient.encryptedKey.length !== modulusBytes) return null;
    return unpadPkcs1(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, recipient.encryptedKey));
  } catch {
    return null;
  }
}

export interface OpenedEnvelope {
  plaintext: Buffer;
  cipher: ContentCipher;
  keyTransport: KeyTransport;
}

/**
 * Opens the envelope in `file` (hex text, PEM or DER) with the exchange certificate (DER) and its RSA private key.
 * Throws EnvelopeError.
 */
export function decryptEnvelope(file: Uint8Array, certificateDer: Uint8Array, privateKey: KeyObject): OpenedEnvelope {
  const envelope = parseEnvelope(readEnvelopeFile(file));
  const certKey = new X509Certificate(Buffer.from(certificateDer)).publicKey.export({ type: 'spki', format: 'der' });
  if (!createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).equals(certKey))
    throw new EnvelopeError('key-not-for-certificate');
  const recipient = recipientFor(envelope, certificateDer);
  if (recipient === null) throw new EnvelopeError('no-recipient', `${envelope.recipientCount} recipient(s)`);
  if (recipient.keyTransport === 'unsupported')
    throw new EnvelopeError('unsupported-key-transport', recipient.unsupported);
  const { keyLength } = CONTENT_CIPHERS[envelope.cipher];
  const contentKey = decryptKey(recipient, privateKey);
  if (contentKey === null) throw new EnvelopeError('key-decrypt-failed');
  if (contentKey.length !== keyLength)
    throw new EnvelopeError('key-decrypt-failed', `a ${contentKey.length}-byte key for ${envelope.cipher}`);
  try {
    const decipher = createDecipheriv(envelope.cipher, contentKey, envelope.iv);
    const plaintext = Buffer.concat([decipher.update(envelope.encryptedContent), decipher.final()]);
    return { plaintext, cipher: envelope.cipher, keyTransport: recipient.keyTransport };
  } catch {
    throw new EnvelopeError('bad-padding');
  }
}
