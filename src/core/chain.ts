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
  return certs.map((c) =>
    caSource(c.der, 'the --chain file', formatName(c.subject) === formatName(c.issuer), formatName(c.subject)),
  );
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

interface Walk {
  path: Ca[];
  problem: string | null;
  /** The leaf's issuer is one of the CAs (by name). */
  appleIssued: boolean;
}

/** From `leaf` up to a root through `sources`, checking each signature with native crypto (not the validity dates). */
function walkToRoot(leaf: CertificateInfo, sources: CaSource[]): Walk {
  const selfRoot = named(sources, encodedNames(leaf.der).subject, () => formatName(leaf.subject))
    .filter((c) => c.root)
    .map((c) => c.load())
    .find((c) => c.info.fingerprintSha256 === leaf.fingerprintSha256);
  if (selfRoot) return { path: [selfRoot], problem: null, appleIssued: true };

  const path: Ca[] = [];
  let current = leaf;
  let x509: X509Certificate | undefined; // the certificate whose signature is checked next (the leaf: made when needed)
  for (let depth = 0; depth < 6; depth++) {
    const issuerName = formatName(current.issuer);
    const candidates = named(sources, encodedNames(current.der).issuer, () => issuerName).map((c) => c.load());
    if (candidates.length === 0) {
      if (depth === 0)
        return {
          path,
          problem: `issued by "${cn({ subject: current.issuer } as CertificateInfo)}", which is not an Apple CA`,
          appleIssued: false,
        };
      return { path, problem: `no known CA certificate for "${issuerName}"`, appleIssued: true };
    }
    const signed = (x509 ??= new X509Certificate(leaf.der));
    const signer = candidates.find((c) => signed.verify(c.x509.publicKey));
    if (signer === undefined)
      return {
        path,
        problem: `the signature of "${cn(current)}" does not verify against "${cn(candidates[0]!.info)}"`,
        appleIssued: true,
      };
    path.push(signer);
    if (signer.root) break;
    current = signer.info;
    x509 = signer.x509;
  }
  if (!path.at(-1)?.root) return { path, problem: 'the chain does not end at a root', appleIssued: true };
  return { path, problem: null, appleIssued: true };
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
  const walk = walkToRoot(leaf, sources);
  if (walk.problem !== null) return verdict(false, walk.path, walk.problem, walk.appleIssued);
  const selfRoot = walk.path[0]!.info.fingerprintSha256 === leaf.fingerprintSha256;
  if (selfRoot)
    return validAt(leaf, at)
      ? verdict(true, walk.path, null)
      : verdict(false, walk.path, `${cn(leaf)} is not valid at ${at.toISOString()}`);
  for (const c of [leaf, ...walk.path.map((p) => p.info)]) {
    if (!validAt(c, at)) {
      return verdict(
        false,
        walk.path,
        `"${cn(c)}" is not valid at ${at.toISOString()} (valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()})`,
      );
    }
  }
  return verdict(true, walk.path, null);
}

export interface RequestChainVerdict {
  /** Each certificate is signed by the next, and the last is one of Apple's roots or signed up to one. */
  valid: boolean;
  /** The chain ends at, or under, one of Apple's CAs (false when an earlier link is broken). Apple-issued but not valid: a link to Apple is broken. */
  appleIssued: boolean;
  /** The first certificate (0 = the vendor's) not signed by the certificate after it, or by its Apple issuer. */
  brokenLink: number | null;
  /** Common names, vendor certificate first, up to the root. */
  path: string[];
  /** Apple CAs the chain stops short of (taken from the bundle to reach the root): Apple asks for them in the request. */
  notInRequest: string[];
  problem: string | null;
}

/**
 * The certificate chain of a push certificate request, link by link: each certificate's issuer name is the next
 * certificate's subject and its signature verifies with the next one's key; the last is an Apple root, or its
 * signatures verify up to one through the bundled Apple CAs. Validity dates are not checked (a request is
 * inspected long after it was made).
 */
export function checkRequestChain(chain: CertificateInfo[], sources: CaSource[] = appleCas()): RequestChainVerdict {
  const x509s = chain.map((c) => new X509Certificate(c.der));
  const names = chain.map((c) => cn(c));
  const result = (r: Partial<RequestChainVerdict>): RequestChainVerdict => ({
    valid: false,
    appleIssued: false,
    brokenLink: null,
    path: names,
    notInRequest: [],
    problem: null,
    ...r,
  });
  for (let i = 0; i + 1 < chain.length; i++) {
    const [cert, next] = [chain[i]!, chain[i + 1]!];
    const issuerIsNext =
      Buffer.compare(encodedNames(cert.der).issuer, encodedNames(next.der).subject) === 0 ||
      formatName(cert.issuer) === formatName(next.subject);
    if (!issuerIsNext) {
      return result({
        brokenLink: i,
        problem: `"${names[i]}" is issued by "${formatName(cert.issuer)}", but the next certificate of the chain is "${formatName(next.subject)}"`,
      });
    }
    if (!x509s[i]!.verify(x509s[i + 1]!.publicKey)) {
      return result({
        brokenLink: i,
        problem: `the signature of "${names[i]}" does not verify with the key of "${names[i + 1]}", the next certificate of the chain`,
      });
    }
  }
  const last = chain.length - 1;
  const top = chain[last]!;
  if (formatName(top.issuer) === formatName(top.subject) && !x509s[last]!.verify(x509s[last]!.publicKey)) {
    return result({ brokenLink: last, problem: `the self-signature of "${names[last]}" does not verify` });
  }
  const walk = walkToRoot(top, sources);
  if (!walk.appleIssued) {
    const selfSigned = formatName(top.issuer) === formatName(top.subject);
    return result({
      problem: selfSigned
        ? `the chain ends at "${names[last]}", which is not an Apple root`
        : `the chain ends at "${names[last]}", ${walk.problem}`,
    });
  }
  const added = walk.path.filter((c) => c.info.fingerprintSha256 !== top.fingerprintSha256).map((c) => cn(c.info));
  if (walk.problem !== null)
    return result({ appleIssued: true, brokenLink: last, path: [...names, ...added], problem: walk.problem });
  return result({ valid: true, appleIssued: true, path: [...names, ...added], notInRequest: added });
}
