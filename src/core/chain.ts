import { X509Certificate } from 'node:crypto';
import { APPLE_CAS } from './apple-ca-bundle.js';
import { encodedNames, formatName, parseCertificate } from './certificate.js';
import type { CertificateInfo } from './certificate.js';

interface Ca {
  info: CertificateInfo;
  x509: X509Certificate;
  root: boolean;
}

/** A CA certificate known by its subject name; fully parsed only when a chain goes through it. */
export interface CaSource {
  /** The subject as encoded in the certificate. */
  encodedSubject: Uint8Array;
  /** The subject as text (formatName). */
  subject: string;
  root: boolean;
  load(): Ca;
}

function caSource(der: Uint8Array, file: string, root: boolean, subject: string): CaSource {
  let ca: Ca | undefined;
  return {
    encodedSubject: encodedNames(der).subject,
    subject,
    root,
    load: () => {
      if (ca === undefined) {
        const info = parseCertificate(der, file);
        ca = { info, x509: new X509Certificate(info.der), root };
      }
      return ca;
    },
  };
}

let bundled: CaSource[] | undefined;

/** Apple's CA certificates bundled with the tool (their subjects written out by scripts/gen-apple-ca.py). */
export function appleCas(): CaSource[] {
  bundled ??= APPLE_CAS.map((ca) => caSource(Buffer.from(ca.der, 'base64'), ca.file, ca.role === 'root', ca.subject));
  return bundled;
}

/**
 * The CAs whose subject is `name`: by its encoding first (an issuer name is normally a copy of its CA's
 * subject, and comparing bytes needs no parsing), else by its text (the same name encoded differently).
 */
function named(sources: CaSource[], encoded: Uint8Array, name: () => string): CaSource[] {
  const exact = sources.filter((c) => Buffer.compare(c.encodedSubject, encoded) === 0);
  return exact.length > 0 ? exact : sources.filter((c) => c.subject === name());
}

/** CA certificates given by the user (--chain): self-signed ones count as roots. */
export function extraCas(certs: CertificateInfo[]): CaSource[] {
  return certs.map((c) => caSource(c.der, 'the --chain file', formatName(c.subject) === formatName(c.issuer), formatName(c.subject)));
}

export interface ChainVerdict {
  /** The leaf's issuer is one of Apple's CAs (by name). */
  appleIssued: boolean;
  /** Every signature verifies up to an Apple root, and every certificate is valid at `checkedAt`. */
  valid: boolean;
  /** Common names from the issuer up to the root. */
  path: string[];
  intermediate: string | null;
  root: string | null;
  checkedAt: string;
  problem: string | null;
  /** The CA certificates of the chain, issuer first. */
  cas: CertificateInfo[];
}

const cn = (c: CertificateInfo) => c.subject.find((a) => a.type === 'CN')?.value ?? formatName(c.subject);

function validAt(c: CertificateInfo, at: Date): boolean {
  return c.notBefore.getTime() <= at.getTime() && at.getTime() <= c.notAfter.getTime();
}

/**
 * Walks from `leaf` to a root through `cas` (Apple's bundle by default), checking each signature
 * with native crypto and each certificate's validity at `at`.
 */
export function checkChain(leaf: CertificateInfo, at: Date, sources: CaSource[] = appleCas()): ChainVerdict {
  const verdict = (valid: boolean, path: Ca[], problem: string | null, appleIssued = true): ChainVerdict => ({
    appleIssued,
    valid,
    path: path.map((c) => cn(c.info)),
    intermediate: path.find((c) => !c.root) ? cn(path.find((c) => !c.root)!.info) : null,
    root: path.find((c) => c.root) ? cn(path.find((c) => c.root)!.info) : null,
    checkedAt: at.toISOString(),
    problem,
    cas: path.map((c) => c.info),
  });

  const selfRoot = named(sources, encodedNames(leaf.der).subject, () => formatName(leaf.subject))
    .filter((c) => c.root)
    .map((c) => c.load())
    .find((c) => c.info.fingerprintSha256 === leaf.fingerprintSha256);
  if (selfRoot) return validAt(leaf, at) ? verdict(true, [selfRoot], null) : verdict(false, [selfRoot], `${cn(leaf)} is not valid at ${at.toISOString()}`);

  const path: Ca[] = [];
  let current = leaf;
  let x509: X509Certificate | undefined; // the certificate whose signature is checked next (the leaf: made when needed)
  for (let depth = 0; depth < 6; depth++) {
    const issuerName = formatName(current.issuer);
    const candidates = named(sources, encodedNames(current.der).issuer, () => issuerName).map((c) => c.load());
    if (candidates.length === 0) {
      if (depth === 0) return verdict(false, path, `issued by "${cn({ subject: current.issuer } as CertificateInfo)}", which is not an Apple CA`, false);
      return verdict(false, path, `no known CA certificate for "${issuerName}"`);
    }
    const signed = (x509 ??= new X509Certificate(leaf.der));
    const signer = candidates.find((c) => signed.verify(c.x509.publicKey));
    if (signer === undefined) return verdict(false, path, `the signature of "${cn(current)}" does not verify against "${cn(candidates[0]!.info)}"`);
    path.push(signer);
    if (signer.root) break;
    current = signer.info;
    x509 = signer.x509;
  }
  if (!path.at(-1)?.root) return verdict(false, path, 'the chain does not end at a root');
  for (const c of [leaf, ...path.map((p) => p.info)]) {
    if (!validAt(c, at)) {
      return verdict(false, path, `"${cn(c)}" is not valid at ${at.toISOString()} (valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()})`);
    }
  }
  return verdict(true, path, null);
}
