import { X509Certificate, createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { BadInput } from './errors.js';
import { DerError, Tag, children, decodeOid, decodeString, expectTag, readTlv, value } from './der.js';
import type { Tlv } from './der.js';
import { topicHash } from './topic.js';

export const OID = {
  uid: '0.9.2342.19200300.100.1.1',
  commonName: '2.5.4.3',
  country: '2.5.4.6',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  emailAddress: '1.2.840.113549.1.9.1',
  apnsDevelopment: '1.2.840.113635.100.6.3.1',
  apnsProduction: '1.2.840.113635.100.6.3.2',
  apnsTopics: '1.2.840.113635.100.6.3.6',
  /**
   * Marks Apple's "MDM CSR Signing" (MDM vendor) certificates: both real vendor certificates in test/fixtures/real
   * (Apple WWDR-issued, "CN=MDM Vendor: ...", UID = OU = team ID) carry it, value NULL, and no other certificate
   * there does. Under Apple's extended key usage arc 1.2.840.113635.100.4; no public Apple source we found names .12.
   */
  mdmVendor: '1.2.840.113635.100.4.12',
} as const;

const shortNames: Record<string, string> = {
  [OID.uid]: 'UID',
  [OID.commonName]: 'CN',
  [OID.country]: 'C',
  [OID.organization]: 'O',
  [OID.organizationalUnit]: 'OU',
  [OID.emailAddress]: 'emailAddress',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
};

export const MDM_TOPIC_PREFIX = 'com.apple.mgmt.';

/** mdm, app: push certificates; mdm-vendor: an MDM vendor's CSR signing certificate (it signs requests, never pushes). */
export type CertificateKind = 'mdm' | 'app' | 'mdm-vendor' | 'unknown';
export type ApnsEnvironment = 'development' | 'production' | 'universal';

export interface NameAttribute {
  oid: string;
  /** Short name (CN, UID, ...) or the dotted OID when unknown. */
  type: string;
  value: string;
}

export interface CertificateInfo {
  der: Uint8Array;
  pem: string;
  subject: NameAttribute[];
  issuer: NameAttribute[];
  /** The subject's UID attribute, whatever it holds. */
  uid: string | null;
  /** APNs topic: the subject's UID attribute, when it looks like a topic (has a dot). */
  topic: string | null;
  topicHash: string | null;
  kind: CertificateKind;
  environment: ApnsEnvironment | null;
  /** Uppercase hex, as openssl prints it. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  fingerprintSha1: string;
  fingerprintSha256: string;
  /** SHA-256 (hex) of the SubjectPublicKeyInfo DER: matches a private key to its certificate. */
  publicKeyId: string;
  keyType: string;
  keySize: number | null;
  extensionOids: string[];
  /** Every topic the certificate may push to, with its types (from 6.3.6, else the UID topic). */
  topics: TopicEntry[];
}

export function formatName(attrs: readonly NameAttribute[]): string {
  return attrs.map((a) => `${a.type}=${a.value}`).join(', ');
}

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function parseName(buf: Uint8Array, name: Tlv): NameAttribute[] {
  const attrs: NameAttribute[] = [];
  for (const rdn of children(buf, expectTag(name, Tag.sequence, 'Name'))) {
    for (const atv of children(buf, expectTag(rdn, Tag.set, 'RelativeDistinguishedName'))) {
      const [oidTlv, valueTlv] = children(buf, expectTag(atv, Tag.sequence, 'AttributeTypeAndValue'));
      const oid = decodeOid(value(buf, expectTag(oidTlv, Tag.oid, 'attribute type')));
      if (valueTlv === undefined) throw new DerError('attribute value is missing');
      attrs.push({ oid, type: shortNames[oid] ?? oid, value: decodeString(buf, valueTlv) });
    }
  }
  return attrs;
}

function parseTime(buf: Uint8Array, tlv: Tlv | undefined, what: string): Date {
  if (tlv === undefined) throw new DerError(`${what} is missing`);
  const bytes = value(buf, tlv);
  const text = bytes.length <= 24 ? String.fromCharCode(...bytes) : ''; // longer is no valid time
  let m: RegExpMatchArray | null;
  let year: number;
  if (tlv.tag === Tag.utcTime && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (tlv.tag === Tag.generalizedTime && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    year = Number(m[1]);
  } else {
    throw new DerError(`${what} is not a valid time`);
  }
  const [, , mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(year, mo - 1, d, h, mi, s));
}

/** Extension id → extnValue content (the bytes inside the OCTET STRING). */
function parseExtensions(buf: Uint8Array, tbsParts: Tlv[]): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const explicit = tbsParts.find((t) => t.tag === 0xa3);
  if (explicit === undefined) return out;
  const [list] = children(buf, explicit);
  for (const ext of children(buf, expectTag(list, Tag.sequence, 'Extensions'))) {
    const parts = children(buf, expectTag(ext, Tag.sequence, 'Extension'));
    const oid = decodeOid(value(buf, expectTag(parts[0], Tag.oid, 'extension id')));
    const extnValue = expectTag(parts[parts.length - 1], Tag.octetString, `extension ${oid} value`);
    out.set(oid, value(buf, extnValue));
  }
  return out;
}

export interface TopicEntry {
  topic: string;
  /** What the topic is for: app, voip, complication, fileprovider, mdm, ... */
  types: string[];
}

/**
 * Apple's topic list extension (1.2.840.113635.100.6.3.6): SEQUENCE { UTF8String topic, SEQUENCE { UTF8String type... }, ... }.
 * Throws DerError when it is damaged.
 */
export function parseTopicsExtension(bytes: Uint8Array): TopicEntry[] {
  const outer = expectTag(readTlv(bytes, 0), Tag.sequence, 'topic list');
  if (outer.end !== bytes.length) throw new DerError('trailing bytes after the topic list');
  const entries: TopicEntry[] = [];
  for (const item of children(bytes, outer)) {
    if (item.tag === Tag.sequence) {
      const last = entries.at(-1);
      if (last === undefined) throw new DerError('topic list: types before any topic');
      last.types.push(...children(bytes, item).map((t) => decodeString(bytes, t)));
    } else {
      entries.push({ topic: decodeString(bytes, item), types: [] });
    }
  }
  return entries;
}

function classify(topic: string | null, subject: NameAttribute[], extensionOids: string[]): CertificateKind {
  if (topic?.startsWith(MDM_TOPIC_PREFIX)) return 'mdm';
  const cn = subject.find((a) => a.oid === OID.commonName)?.value ?? '';
  if (topic !== null && (/Push Services:/.test(cn) || extensionOids.includes(OID.apnsTopics))) return 'app';
  if (topic === null && (extensionOids.includes(OID.mdmVendor) || cn.startsWith('MDM Vendor: '))) return 'mdm-vendor';
  return 'unknown';
}

function environmentOf(extensionOids: string[]): ApnsEnvironment | null {
  const dev = extensionOids.includes(OID.apnsDevelopment);
  const prod = extensionOids.includes(OID.apnsProduction);
  if (dev && prod) return 'universal';
  if (dev) return 'development';
  if (prod) return 'production';
  return null;
}

/** The top-level fields of a certificate's TBSCertificate; `base` skips the optional version. */
function tbsFields(der: Uint8Array): { parts: Tlv[]; base: number } {
  const outer = expectTag(readTlv(der, 0), Tag.sequence, 'Certificate');
  if (outer.end !== der.length) throw new DerError('trailing bytes after the certificate');
  const [tbs] = children(der, outer);
  const parts = children(der, expectTag(tbs, Tag.sequence, 'TBSCertificate'));
  return { parts, base: parts[0]?.tag === 0xa0 ? 1 : 0 };
}

/** The DER of a certificate's issuer and subject names, as they are: for matching a certificate to its issuer. */
export function encodedNames(der: Uint8Array): { issuer: Uint8Array; subject: Uint8Array } {
  const { parts, base } = tbsFields(der);
  const issuer = expectTag(parts[base + 2], Tag.sequence, 'issuer');
  const subject = expectTag(parts[base + 4], Tag.sequence, 'subject');
  return { issuer: der.subarray(issuer.start, issuer.end), subject: der.subarray(subject.start, subject.end) };
}

/** The parts of a certificate read straight from its DER (no signature check, no key parsing). */
export function parseTbs(der: Uint8Array) {
  const { parts, base } = tbsFields(der);
  const serial = expectTag(parts[base], Tag.integer, 'serialNumber');
  const issuer = parseName(der, expectTag(parts[base + 2], Tag.sequence, 'issuer'));
  const validity = children(der, expectTag(parts[base + 3], Tag.sequence, 'validity'));
  const subject = parseName(der, expectTag(parts[base + 4], Tag.sequence, 'subject'));
  let serialBytes = value(der, serial);
  while (serialBytes.length > 1 && serialBytes[0] === 0) serialBytes = serialBytes.subarray(1);
  return {
    serialNumber: Buffer.from(serialBytes).toString('hex').toUpperCase(),
    issuer,
    subject,
    notBefore: parseTime(der, validity[0], 'notBefore'),
    notAfter: parseTime(der, validity[1], 'notAfter'),
    extensions: parseExtensions(der, parts.slice(base + 6)),
  };
}

/** The APNs topic of a subject: its UID attribute, when it looks like a topic (has a dot). */
export function topicOf(subject: NameAttribute[]): string | null {
  const uid = subject.find((a) => a.oid === OID.uid)?.value ?? null;
  return uid !== null && /^[^\s.]+(\.[^\s.]+)+$/.test(uid) ? uid : null;
}

export interface CertificateSummary {
  topic: string | null;
  notAfter: Date;
}

/**
 * Topic and expiry only, from the DER alone: what check-expiry needs, at a fraction of parseCertificate's
 * cost (no X509Certificate, no hashing). Throws BadInput when the DER is not a certificate.
 */
export function summarizeCertificate(der: Uint8Array, source: string): CertificateSummary {
  try {
    const tbs = parseTbs(der);
    return { topic: topicOf(tbs.subject), notAfter: tbs.notAfter };
  } catch (error) {
    throw new BadInput(
      `read certificate from ${source}: not a valid X.509 certificate (${(error as Error).message})`,
      source,
    );
  }
}

/** Parses one DER certificate. Throws BadInput with the cause when it is not one. */
export function parseCertificate(der: Uint8Array, source = 'input'): CertificateInfo {
  let tbs: ReturnType<typeof parseTbs>;
  let publicKey: KeyObject;
  const invalid = (error: unknown) => {
    const cause = error instanceof Error ? error.message : String(error);
    return new BadInput(`read certificate from ${source}: not a valid X.509 certificate (${cause})`, source);
  };
  try {
    tbs = parseTbs(der);
    publicKey = new X509Certificate(der).publicKey;
  } catch (error) {
    throw invalid(error);
  }
  // Exporting the key costs a millisecond or two on first use; only key matching needs it.
  let publicKeyId: string | undefined;
  const spkiHash = () => {
    try {
      return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
    } catch (error) {
      throw invalid(error);
    }
  };
  const topic = topicOf(tbs.subject);
  const extensionOids = [...tbs.extensions.keys()];
  let listed: TopicEntry[] | undefined;
  const topicsExtension = tbs.extensions.get(OID.apnsTopics);
  if (topicsExtension !== undefined) {
    try {
      listed = parseTopicsExtension(topicsExtension);
    } catch (error) {
      throw new BadInput(
        `read certificate from ${source}: its APNs topic list extension is damaged (${(error as Error).message})`,
        source,
      );
    }
  }
  const kind = classify(topic, tbs.subject, extensionOids);
  const details = publicKey.asymmetricKeyDetails;
  return {
    der,
    pem: toPem(der, 'CERTIFICATE'),
    subject: tbs.subject,
    issuer: tbs.issuer,
    uid: tbs.subject.find((a) => a.oid === OID.uid)?.value ?? null,
    topic,
    topicHash: topic === null ? null : topicHash(topic),
    kind,
    environment: environmentOf(extensionOids),
    serialNumber: tbs.serialNumber,
    notBefore: tbs.notBefore,
    notAfter: tbs.notAfter,
    fingerprintSha1: createHash('sha1').update(der).digest('hex'),
    fingerprintSha256: sha256Hex(der),
    get publicKeyId() {
      return (publicKeyId ??= spkiHash());
    },
    keyType: publicKey.asymmetricKeyType ?? 'unknown',
    keySize: details?.modulusLength ?? (details?.namedCurve === undefined ? null : curveBits(details.namedCurve)),
    extensionOids,
    topics: listed ?? (topic === null ? [] : [{ topic, types: [kind === 'mdm' ? 'mdm' : 'app'] }]),
  };
}

function curveBits(curve: string): number | null {
  const m = /(\d{3})/.exec(curve);
  return m ? Number(m[1]) : null;
}
