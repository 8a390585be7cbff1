import { UNSAFE_TEXT } from './unsafe-text.js';
import { DamagedIndex } from './errors.js';
import { NAME_RE } from './names.js';
import { forEachRecordLine, lazyRecords } from './lazy-records.js';

/** The store's index: every non-secret fact, readable without the keychain. */
export const INDEX_SCHEMA_VERSION = 1;

export type SecretBackendName = 'keychain' | 'passphrase';

export interface CertificateEntry {
  serialNumber: string;
  fingerprintSha256: string;
  notBefore: string;
  notAfter: string;
  importedAt: string;
  /** The stored key's id; null only for a keyless entry (`keyless: true`). */
  keyId: string | null;
  /**
   * The certificate's private key is kept elsewhere (a server that makes its own CSR, such as Fleet): imported
   * with `import --no-key`. Absent on every other entry, so an index written before this field reads unchanged.
   */
  keyless?: true;
  status: 'active' | 'superseded';
  /** Certificate PEM, relative to the store directory. */
  file: string;
}

export interface PendingKey {
  /** The pending key's id; null for a keyless renewal (`keyless`), whose key is kept by the server. */
  keyId: string | null;
  /**
   * A renewal of a keyless record whose CSR came from its Fleet target: Fleet keeps the key, so the certificate Apple
   * returns is imported without one, and must carry this public key. Absent on every other pending key.
   */
  keyless?: KeylessPending;
  createdAt: string;
  /** Where the CSR was written (for the admin's benefit only). */
  csrPath: string | null;
  /** The request sent to mdmcert.download for this key, whose answer is mailed (absent: none). */
  mdmcert?: MdmcertRequest;
}

/** Where a keyless renewal's CSR came from, and the public key it carries. */
export interface KeylessPending {
  /** The label of the record's fleet target that made the CSR. */
  target: string;
  /** SHA-256 of the CSR's SubjectPublicKeyInfo (lowercase hex), as a certificate's publicKeyId. */
  publicKeyId: string;
}

/** The public key a pending key's certificate must carry (a key id is the SHA-256 of its public key). */
/** The private keys a pending entry keeps: its own (none for Fleet's CSR) and an mdmcert.download exchange key. */
export function pendingKeyIds(pending: PendingKey | null): string[] {
  if (pending === null) return [];
  return [
    ...(pending.keyId !== null ? [pending.keyId] : []),
    ...(pending.mdmcert ? [pending.mdmcert.exchangeKeyId] : []),
  ];
}

export function pendingPublicKeyId(pending: PendingKey): string {
  return pending.keyless?.publicKeyId ?? pending.keyId!;
}

/**
 * How a record's CSR becomes what Apple's portal takes (a PushCertificateRequest signed by an MDM vendor):
 * `none`, someone else signs the CSR (a hosted MDM's vendor: the CSR is the deliverable); `vendor`, apns-cert
 * signs with a vendor identity kept in the store (its certificate's SHA-256); `mdmcert`, the mdmcert.download
 * service signs and mails the request to `email`. A record written before this field existed reads as `none`.
 */
export type Signing = { via: 'none' } | { via: 'vendor'; vendor: string } | { via: 'mdmcert'; email: string };

/** A request sent to mdmcert.download: the answer is encrypted to the exchange certificate. */
export interface MdmcertRequest {
  /** The exchange private key, sealed in the store as every private key is. */
  exchangeKeyId: string;
  /** The exchange certificate (self-signed, public), base64 of its DER. */
  exchangeCertificate: string;
  email: string;
  sentAt: string;
}

/** An MDM vendor identity kept in the store: its certificate and chain in `file`, its key sealed as `keyId`. */
export interface VendorEntry {
  /** SHA-256 of the vendor certificate's DER, lowercase hex: the vendor's id. */
  sha256: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  keyId: string;
  /** The vendor certificate followed by its chain (PEM), relative to the store: certs/<sha256>.pem. */
  file: string;
  importedAt: string;
}

export interface PushRecord {
  name: string;
  topic: string | null;
  topicHash: string | null;
  appleIdHash: string | null;
  /**
   * The id of the sealed secret (kind `apple-id`) holding the Apple ID itself, kept with `--remember-apple-id`;
   * null when none is (read as null from a record made before this field). Never the Apple ID.
   */
  appleIdSecretId: string | null;
  /** Who owns the certificate (a team mailbox, a person), plain text; null when not given. */
  owner: string | null;
  /** A free note (what the portal's Notes field says), plain text; null when not given. */
  note: string | null;
  createdAt: string;
  updatedAt: string;
  pendingKey: PendingKey | null;
  certificates: CertificateEntry[];
  /** Set by `retire`: kept for history, out of check-expiry and renew. */
  retiredAt: string | null;
  /** How its requests are signed (read as `none` from a record made before this field). */
  signing: Signing;
  /** Where its certificate is deployed (read as none from a record made before this field). */
  targets: Target[];
  /** What `deploy` did, oldest first (read as none from a record made before this field). */
  deployments: Deployment[];
}

/** The MDM servers a certificate can be deployed to, and `file` (a file on this machine). */
export const SERVER_KINDS = ['nanomdm', 'nanohub', 'micromdm', 'fleet'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];
export const TARGET_KINDS = [...SERVER_KINDS, 'file'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** An MDM server: its base URL, the CA its TLS is checked against (PEM, public), its credential sealed by id. */
export interface ServerTarget {
  label: string;
  kind: ServerKind;
  url: string;
  caPem?: string;
  /** The id of the sealed secret (the API key or token): never the credential itself. */
  credentialId?: string;
  addedAt: string;
}

/** A file the certificate and key are written to, and a command run after it (e.g. a service restart). */
export interface FileTarget {
  label: string;
  kind: 'file';
  path: string;
  format: 'pem' | 'p12';
  keyFormat: 'pkcs8' | 'pkcs1';
  /** The id of the sealed password of a `p12` file (target add --password-file): never the password itself. */
  passwordId?: string;
  after?: string;
  addedAt: string;
}

export type Target = ServerTarget | FileTarget;

/** The sealed secret a target names: a server's credential, a .p12 file's password; undefined when none. */
export const targetSecretId = (t: Target): string | undefined => (t.kind === 'file' ? t.passwordId : t.credentialId);

/** A sealed secret a record names besides its private keys; `of` says whose, for messages ("target nanomdm"). */
export interface RecordSecret {
  id: string;
  kind: 'target-credential' | 'apple-id';
  of: string;
}

/** The sealed secrets a record names besides its private keys: its targets' credentials and .p12 passwords, its Apple ID. */
export function recordSecrets(record: PushRecord): RecordSecret[] {
  const out: RecordSecret[] = [];
  for (const t of record.targets) {
    const id = targetSecretId(t);
    if (id !== undefined) out.push({ id, kind: 'target-credential', of: `target ${t.label}` });
  }
  if (record.appleIdSecretId !== null) out.push({ id: record.appleIdSecretId, kind: 'apple-id', of: 'apple id' });
  return out;
}

/** `after failed`: a file target's file is written, but its --after command failed (a record from before reads the same). */
export const DEPLOYMENT_RESULTS = ['deployed', 'not confirmed', 'mismatch', 'refused', 'after failed'] as const;
export type DeploymentResult = (typeof DEPLOYMENT_RESULTS)[number];

/** One deployment of a certificate to a target. */
export interface Deployment {
  /** The target's label. */
  target: string;
  serialNumber: string;
  at: string;
  result: DeploymentResult;
}

export interface StoreIndex {
  schemaVersion: number;
  storeId: string;
  secretBackend: SecretBackendName;
  createdAt: string;
  records: Record<string, PushRecord>;
  /** Vendor identities by their certificate's SHA-256 (read as none from a store made before this field). */
  vendors: Record<string, VendorEntry>;
}

export function emptyIndex(storeId: string, secretBackend: SecretBackendName, now: Date): StoreIndex {
  return {
    schemaVersion: INDEX_SCHEMA_VERSION,
    storeId,
    secretBackend,
    createdAt: now.toISOString(),
    records: {},
    vendors: {},
  };
}

export function newRecord(name: string, nowIso: string): PushRecord {
  return {
    name,
    topic: null,
    topicHash: null,
    appleIdHash: null,
    appleIdSecretId: null,
    owner: null,
    note: null,
    createdAt: nowIso,
    updatedAt: nowIso,
    pendingKey: null,
    certificates: [],
    retiredAt: null,
    signing: { via: 'none' },
    targets: [],
    deployments: [],
  };
}

/** The record of that name; an own property only, so "constructor" or "toString" is no record unless one was made. */
export function recordNamed(index: StoreIndex, name: string): PushRecord | undefined {
  return Object.hasOwn(index.records, name) ? index.records[name] : undefined;
}

/** A record that can be renewed: it has a topic and a certificate in service. */
export function isRenewable(record: PushRecord): boolean {
  return record.topic !== null && certificateInService(record) !== undefined;
}

/** The key ids a record's certificates refer to (a keyless entry refers to none). */
export function certificateKeyIds(record: PushRecord): string[] {
  return record.certificates.flatMap((c) => (c.keyId === null ? [] : [c.keyId]));
}

export function activeCertificate(record: PushRecord): CertificateEntry | undefined {
  return record.certificates.find((c) => c.status === 'active');
}

/** The certificate a record serves with: its active one, unless the record is retired. */
export function certificateInService(record: PushRecord): CertificateEntry | undefined {
  return record.retiredAt === null ? activeCertificate(record) : undefined;
}

export type RecordStatus = 'active' | 'expired' | 'pending' | 'retired';

/** Retired (by `retire`), else pending (no certificate yet), else expired or active by its certificate at `now`. */
export function recordStatus(record: PushRecord, now: Date): RecordStatus {
  if (record.retiredAt !== null) return 'retired';
  const active = activeCertificate(record);
  if (active === undefined) return 'pending';
  return Date.parse(active.notAfter) <= now.getTime() ? 'expired' : 'active';
}

/**
 * The text of index.json: compact JSON (a thousand-record index parses measurably faster; jq reads it all the same)
 * with each record on a line of its own, as `"name":{…}`, which parseOwnIndexForChange reads a record at a time. A
 * record a change did not read is written as the line it was read as (lazy-records.ts).
 */
export function serializeIndex(index: StoreIndex): string {
  const { records } = index;
  const lines: string[] = [];
  forEachRecordLine(records, (name, line) =>
    lines.push(line ?? `${JSON.stringify(name)}:${JSON.stringify(records[name])}`),
  );
  const head = JSON.stringify({
    schemaVersion: index.schemaVersion,
    storeId: index.storeId,
    secretBackend: index.secretBackend,
    createdAt: index.createdAt,
  }).slice(0, -1);
  const body = lines.length === 0 ? '{}' : `{\n${lines.join(',\n')}\n}`;
  return `${head},"records":${body},"vendors":${JSON.stringify(index.vendors)}}\n`;
}

/**
 * The identifiers the tool writes, and the only ones it accepts from an index: a key id is the SHA-256 of the
 * key's SubjectPublicKeyInfo (lowercase hex) and names keys/<key id>.key; a certificate is certs/<SHA-256 of
 * its DER>.pem; the store id is a random UUID. Anything else (an edited "../../x") is a damaged index, so no
 * path built from the index can leave the store.
 */
export const KEY_ID_RE = /^[0-9a-f]{64}$/;
const SHA256_HEX_RE = /^[0-9a-f]{64}$/;
const STORE_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Upper-case hex of the serial's DER bytes (a 20-byte serial is 40 digits; some CAs write longer ones). */
const SERIAL_RE = /^[0-9A-F]{1,128}$/;

const isString = (v: unknown): v is string => typeof v === 'string';
const isKeyId = (v: unknown): v is string => isString(v) && KEY_ID_RE.test(v);
const isNullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
/** What toISOString writes; a regex, because Date.parse on every date of a large index is a measurable start-up cost. */
const ISO_UTC = /^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\d(\.\d{1,3})?Z$/;
export const isIsoDate = (v: unknown): v is string => isString(v) && ISO_UTC.test(v);

/** What is wrong with a certificate entry, or null. */
function entryProblem(e: unknown): string | null {
  const c = e as Partial<CertificateEntry> | null;
  if (typeof c !== 'object' || c === null) return 'is not an object';
  if (c.keyless !== undefined) {
    if (c.keyless !== true) return 'keyless is not true';
    if (c.keyId !== null) return 'a keyless entry has a keyId';
  } else if (!isKeyId(c.keyId)) return 'keyId is not a key id (64 hex digits)';
  if (!isString(c.fingerprintSha256) || !SHA256_HEX_RE.test(c.fingerprintSha256))
    return 'fingerprintSha256 is not 64 hex digits';
  // The file is named by the fingerprint, so it can only ever be certs/<64 hex digits>.pem.
  if (c.file !== `certs/${c.fingerprintSha256}.pem`) return 'file is not certs/<fingerprintSha256>.pem';
  const valid =
    isString(c.serialNumber) &&
    SERIAL_RE.test(c.serialNumber) &&
    isIsoDate(c.notBefore) &&
    isIsoDate(c.notAfter) &&
    isIsoDate(c.importedAt) &&
    (c.status === 'active' || c.status === 'superseded');
  return valid ? null : 'is malformed';
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** What is wrong with a record's signing, or null (absent: a record from before the field, read as none). */
function signingProblem(v: unknown): string | null {
  if (v === undefined) return null;
  const s = v as { via?: unknown; vendor?: unknown; email?: unknown } | null;
  if (typeof s !== 'object' || s === null) return 'signing is not an object';
  if (s.via === 'none') return null;
  if (s.via === 'vendor')
    return isString(s.vendor) && SHA256_HEX_RE.test(s.vendor) ? null : 'signing.vendor is not a SHA-256';
  if (s.via === 'mdmcert') return isString(s.email) && s.email !== '' ? null : 'signing.email is missing';
  return 'signing.via is not none, vendor or mdmcert';
}

function mdmcertProblem(v: unknown): string | null {
  if (v === undefined) return null;
  const m = v as Partial<MdmcertRequest> | null;
  if (typeof m !== 'object' || m === null) return 'pendingKey.mdmcert is not an object';
  if (!isKeyId(m.exchangeKeyId)) return 'pendingKey.mdmcert.exchangeKeyId is not a key id (64 hex digits)';
  const valid =
    isString(m.exchangeCertificate) &&
    BASE64_RE.test(m.exchangeCertificate) &&
    isString(m.email) &&
    isIsoDate(m.sentAt);
  return valid ? null : 'pendingKey.mdmcert is malformed';
}

/** What is wrong with a pending key, or null: a key id, or (keyless) null with the fleet target and public key. */
function pendingKeyProblem(pending: Partial<PendingKey> | undefined): string | null {
  if (typeof pending !== 'object') return 'pendingKey.keyId is not a key id (64 hex digits)';
  if (pending.keyless !== undefined) {
    const k = pending.keyless as Partial<KeylessPending> | null;
    if (pending.keyId !== null) return 'a keyless pendingKey has a keyId';
    if (typeof k !== 'object' || k === null) return 'pendingKey.keyless is not an object';
    if (!isString(k.target) || !NAME_RE.test(k.target)) return 'pendingKey.keyless.target breaks the naming rule';
    if (!isKeyId(k.publicKeyId)) return 'pendingKey.keyless.publicKeyId is not 64 hex digits';
    if (pending.mdmcert !== undefined) return 'a keyless pendingKey has an mdmcert request';
    return null;
  }
  if (!isKeyId(pending.keyId)) return 'pendingKey.keyId is not a key id (64 hex digits)';
  return mdmcertProblem(pending.mdmcert);
}

/** A secret's id: 64 lowercase hex digits (random), the name of its sealed file. */
export const SECRET_ID_RE = /^[0-9a-f]{64}$/;

/** The longest owner and note a record keeps (characters). */
export const CUSTODY_LIMITS = { owner: 200, note: 1000 } as const;

/**
 * Code points a record's owner or note must not hold: those that steer a terminal (src/core/unsafe-text.ts; a newline
 * too: one line), and the object replacement and replacement characters (text that was decoded wrong).
 */
const custodyUnsafe = (text: string) => UNSAFE_TEXT.test(text) || /[\ufffc\ufffd]/.test(text);

/** Why `text` is not a record's owner or note (`what`), or null: one line of printable text, at most its limit. */
export function custodyTextProblem(text: string, what: keyof typeof CUSTODY_LIMITS): string | null {
  if (custodyUnsafe(text)) return `the ${what} must be one line without control characters`;
  const length = [...text].length;
  const max = CUSTODY_LIMITS[what];
  return length > max ? `the ${what} is ${length} characters long; at most ${max}` : null;
}

/** What is wrong with a record's custody fields, or null (absent: a record from before the fields, read as null). */
function custodyProblem(rec: Partial<PushRecord>): string | null {
  const id = rec.appleIdSecretId;
  if (id !== undefined && id !== null && !(isString(id) && SECRET_ID_RE.test(id)))
    return 'appleIdSecretId is not a secret id (64 hex digits)';
  for (const what of ['owner', 'note'] as const) {
    const value = rec[what];
    if (value === undefined || value === null) continue;
    if (!isString(value) || value === '' || custodyTextProblem(value, what) !== null) return `${what} is malformed`;
  }
  return null;
}
/** The hosts an http:// URL may name: this machine only (tests, a server on the same host). */
const LOOPBACK_HOST_RE = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i;

/** Why `text` is not a target's base URL, or null: https://, or http:// to a loopback host; no user or password in it. */
export function targetUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'it is not a URL';
  }
  if (url.username !== '' || url.password !== '') return 'it holds a user or password (give the credential in a file)';
  if (url.search !== '' || url.hash !== '') return 'it has a query or fragment (give the base URL)';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:')
    return LOOPBACK_HOST_RE.test(url.hostname) ? null : 'http:// is only for a loopback address (use https://)';
  return `${url.protocol} is not https:// or http://`;
}

/** One or more PEM certificates, as `target add --ca-file` keeps them (nothing else: no key can hide there). */
const PEM_CERTIFICATES_RE = /^(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\n)+$/;

/** An absolute path without NUL (POSIX /x, or Windows C:\x). */
const isAbsolutePath = (v: unknown): v is string =>
  isString(v) && !v.includes('\0') && (v.startsWith('/') || /^[A-Za-z]:[\\/]/.test(v));

function targetProblem(t: unknown): string | null {
  const e = t as {
    label?: unknown;
    kind?: unknown;
    url?: unknown;
    caPem?: unknown;
    credentialId?: unknown;
    passwordId?: unknown;
    path?: unknown;
    format?: unknown;
    keyFormat?: unknown;
    after?: unknown;
    addedAt?: unknown;
  } | null;
  if (typeof e !== 'object' || e === null) return 'is not an object';
  if (!isString(e.label) || !NAME_RE.test(e.label)) return 'label breaks the naming rule';
  if (!isIsoDate(e.addedAt)) return 'addedAt is not a date';
  if (e.kind === 'file') {
    if (!isAbsolutePath(e.path)) return 'path is not an absolute path';
    if (e.format !== 'pem' && e.format !== 'p12') return 'format is not pem or p12';
    if (e.keyFormat !== 'pkcs8' && e.keyFormat !== 'pkcs1') return 'keyFormat is not pkcs8 or pkcs1';
    if (e.after !== undefined && (!isString(e.after) || e.after === '')) return 'after is not a command';
    if (e.passwordId !== undefined && (!isString(e.passwordId) || !SECRET_ID_RE.test(e.passwordId)))
      return 'passwordId is not a secret id (64 hex digits)';
    if (e.passwordId !== undefined && e.format !== 'p12') return 'a pem file target has a passwordId';
    if ('url' in e || 'credentialId' in e || 'caPem' in e) return 'a file target has a url, caPem or credentialId';
    return null;
  }
  if (!(SERVER_KINDS as readonly unknown[]).includes(e.kind)) return 'kind is not one of ' + TARGET_KINDS.join(', ');
  if (!isString(e.url) || targetUrlProblem(e.url) !== null) return 'url is not https:// (or http:// to loopback)';
  if (e.credentialId !== undefined && (!isString(e.credentialId) || !SECRET_ID_RE.test(e.credentialId)))
    return 'credentialId is not a secret id (64 hex digits)';
  if (e.caPem !== undefined && !(isString(e.caPem) && PEM_CERTIFICATES_RE.test(e.caPem)))
    return 'caPem is not PEM certificates';
  if ('path' in e || 'format' in e || 'keyFormat' in e || 'after' in e || 'passwordId' in e)
    return 'a server target has file options';
  return null;
}

function deploymentProblem(d: unknown): string | null {
  const e = d as Partial<Deployment> | null;
  if (typeof e !== 'object' || e === null) return 'is not an object';
  const valid =
    isString(e.target) &&
    NAME_RE.test(e.target) &&
    isString(e.serialNumber) &&
    SERIAL_RE.test(e.serialNumber) &&
    isIsoDate(e.at) &&
    (DEPLOYMENT_RESULTS as readonly unknown[]).includes(e.result);
  return valid ? null : 'is malformed';
}

/** What is wrong with a record's targets and deployments, or null (absent: a record from before the fields). */
function targetsProblem(rec: Partial<PushRecord>): string | null {
  if (rec.targets !== undefined) {
    if (!Array.isArray(rec.targets)) return 'targets is not a list';
    const labels = new Set<string>();
    for (const [i, t] of rec.targets.entries()) {
      const problem = targetProblem(t);
      if (problem !== null) return `targets[${i}] ${problem}`;
      const label = (t as Target).label;
      if (labels.has(label)) return `targets[${i}] label "${label}" is there twice`;
      labels.add(label);
    }
  }
  if (rec.deployments !== undefined) {
    if (!Array.isArray(rec.deployments)) return 'deployments is not a list';
    for (const [i, d] of rec.deployments.entries()) {
      const problem = deploymentProblem(d);
      if (problem !== null) return `deployments[${i}] ${problem}`;
    }
  }
  return null;
}

/** What is wrong with a vendor entry, or null. */
function vendorProblem(sha256: string, v: unknown): string | null {
  const e = v as Partial<VendorEntry> | null;
  if (typeof e !== 'object' || e === null) return 'is not an object';
  if (!SHA256_HEX_RE.test(sha256) || e.sha256 !== sha256) return 'is not named by its SHA-256';
  if (!isKeyId(e.keyId)) return 'keyId is not a key id (64 hex digits)';
  if (e.file !== `certs/${sha256}.pem`) return 'file is not certs/<sha256>.pem';
  const valid = isString(e.subject) && isIsoDate(e.notBefore) && isIsoDate(e.notAfter) && isIsoDate(e.importedAt);
  return valid ? null : 'is malformed';
}

/** What is wrong with a record, or null. */
function recordProblem(name: string, r: unknown): string | null {
  const rec = r as Partial<PushRecord> | null;
  if (typeof rec !== 'object' || rec === null) return 'is not an object';
  const pending = rec.pendingKey as Partial<PendingKey> | null | undefined;
  const pendingProblem = pending === null ? null : pendingKeyProblem(pending);
  if (pendingProblem !== null) return pendingProblem;
  const signing = signingProblem(rec.signing);
  if (signing !== null) return signing;
  const targets = targetsProblem(rec);
  if (targets !== null) return targets;
  const custody = custodyProblem(rec);
  if (custody !== null) return custody;
  if (!Array.isArray(rec.certificates)) return 'is malformed';
  for (const [i, entry] of rec.certificates.entries()) {
    const problem = entryProblem(entry);
    if (problem !== null) return `certificates[${i}] ${problem}`;
  }
  const valid =
    rec.name === name &&
    NAME_RE.test(name) &&
    isNullableString(rec.topic) &&
    (rec.topicHash === null || (isString(rec.topicHash) && SHA256_HEX_RE.test(rec.topicHash))) &&
    isNullableString(rec.appleIdHash) &&
    isIsoDate(rec.createdAt) &&
    isIsoDate(rec.updatedAt) &&
    (pending === null ||
      (pending !== undefined && isIsoDate(pending.createdAt) && isNullableString(pending.csrPath))) &&
    (rec.retiredAt === undefined || rec.retiredAt === null || isIsoDate(rec.retiredAt)) &&
    rec.certificates.filter((c: CertificateEntry) => c.status === 'active').length <= 1;
  return valid ? null : 'is malformed';
}

/** Parses and validates index.json. A damaged index is reported, never repaired or overwritten. */
export function parseIndex(text: string, path: string): StoreIndex {
  return parseIndexText(text, path, true);
}

/** How serializeIndex starts an index: its version, store id and backend come first. */
const IDENTITY_RE =
  /^\{"schemaVersion":1,"storeId":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})","secretBackend":"(keychain|passphrase)"/;

/**
 * The store id and backend from the start of an index's text as serializeIndex writes it, without parsing the
 * rest (10 000 records take tens of ms); null when it does not start so. A hint only (which master key to start
 * opening): nothing else is checked.
 */
export function indexIdentity(head: string): Pick<StoreIndex, 'storeId' | 'secretBackend'> | null {
  const m = IDENTITY_RE.exec(head);
  return m === null ? null : { storeId: m[1]!, secretBackend: m[2] as SecretBackendName };
}

/**
 * Parses an index this tool wrote itself from a validated index, when its backend can vouch that nothing has
 * changed it since (the file store: index.json still has the stamp recorded right after its write; the database:
 * the generation recorded at commit): the JSON and the store's own fields are checked, the records are not
 * checked again (on a 10 000-record store that is most of the time a change takes). Anything else: parseIndex.
 */
export function parseOwnIndex(text: string, path: string): StoreIndex {
  return parseIndexText(text, path, false);
}

function parseIndexText(text: string, path: string, checkRecords: boolean): StoreIndex {
  const corrupt = (cause: string) => new DamagedIndex(path, cause);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw corrupt(`not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const index = data as Partial<StoreIndex> | null;
  if (typeof index !== 'object' || index === null || Array.isArray(index)) throw corrupt('not a JSON object');
  if (index.schemaVersion !== INDEX_SCHEMA_VERSION) {
    throw corrupt(`schemaVersion ${String(index.schemaVersion)} is not ${INDEX_SCHEMA_VERSION}`);
  }
  if (!isString(index.storeId) || (index.secretBackend !== 'keychain' && index.secretBackend !== 'passphrase')) {
    throw corrupt('storeId or secretBackend is missing');
  }
  if (!STORE_ID_RE.test(index.storeId)) throw corrupt('storeId is not a UUID');
  if (!isIsoDate(index.createdAt)) throw corrupt('createdAt is missing');
  const records = index.records;
  if (typeof records !== 'object' || records === null || Array.isArray(records))
    throw corrupt('records is not an object');
  for (const [name, record] of Object.entries(records)) {
    const problem = checkRecords ? recordProblem(name, record) : null;
    if (problem !== null) throw corrupt(`record "${name}" ${problem}`);
    withDefaults(record as PushRecord);
  }
  index.vendors = checkedVendors(index.vendors ?? {}, corrupt);
  return index as StoreIndex;
}

/** A record as read, with the fields a record made before them lacks (read as none). */
function withDefaults(record: PushRecord): PushRecord {
  record.retiredAt ??= null;
  record.signing ??= { via: 'none' };
  record.targets ??= [];
  record.deployments ??= [];
  record.appleIdSecretId ??= null;
  record.owner ??= null;
  record.note ??= null;
  return record;
}

function checkedVendors(vendors: unknown, corrupt: (cause: string) => Error): Record<string, VendorEntry> {
  if (typeof vendors !== 'object' || vendors === null || Array.isArray(vendors))
    throw corrupt('vendors is not an object');
  for (const [sha256, vendor] of Object.entries(vendors)) {
    const problem = vendorProblem(sha256, vendor);
    if (problem !== null) throw corrupt(`vendor "${sha256.slice(0, 16)}" ${problem}`);
  }
  return vendors as Record<string, VendorEntry>;
}

/** How serializeIndex starts an index, up to its first record's line. */
const HEAD_LINE_RE =
  /^\{"schemaVersion":1,"storeId":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})","secretBackend":"(keychain|passphrase)","createdAt":"([^"\\]*)","records":\{$/;
const VENDORS_START = '},"vendors":';

/**
 * parseOwnIndex for a change, which reads a few records of it: the records parsed only as they are read
 * (lazy-records.ts), under the same condition (this tool's own write, unchanged since). Null when `text` is not
 * laid out as serializeIndex writes it, a record a line (an index written by an older version): then parseOwnIndex.
 */
export function parseOwnIndexForChange(text: string, path: string): StoreIndex | null {
  const corrupt = (cause: string) => new DamagedIndex(path, cause);
  const headEnd = text.indexOf('\n');
  const head = HEAD_LINE_RE.exec(text.slice(0, headEnd));
  const footStart = text.lastIndexOf('\n' + VENDORS_START);
  if (head === null || footStart < headEnd || !text.endsWith('}\n') || !isIsoDate(head[3])) return null;
  let vendors: unknown;
  try {
    vendors = JSON.parse(text.slice(footStart + 1 + VENDORS_START.length, -2));
  } catch {
    return null;
  }
  const parse = (name: string, json: string): PushRecord => {
    try {
      return withDefaults(JSON.parse(json) as PushRecord);
    } catch (error) {
      throw corrupt(`record "${name}" is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
  };
  const records = lazyRecords(text, headEnd + 1, footStart, parse);
  if (records === null) return null;
  return {
    schemaVersion: INDEX_SCHEMA_VERSION,
    storeId: head[1]!,
    secretBackend: head[2] as SecretBackendName,
    createdAt: head[3]!,
    records,
    vendors: checkedVendors(vendors, corrupt),
  };
}
