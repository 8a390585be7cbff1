import type { CertificateInfo } from '../../core/certificate.js';
import type { RequestChainVerdict } from '../../core/chain.js';
import { daysRemaining } from '../../core/expiry.js';
import type { DecodedFile } from '../../core/input.js';
import { daysText } from '../../output/output.js';
import type { Output } from '../../output/output.js';
import type { Runner, Deps } from '../kit.js';
import { asOf } from '../shared/options.js';
import { appleCas, checkChain, checkRequestChain, extraCas } from '../../core/chain.js';
import { formatName, parseCertificate } from '../../core/certificate.js';
import { isPkcs12, isPushRequest } from '../../core/input.js';
import { decodeCertificates } from '../shared/read-certificates.js';

export interface InspectOptions {
  file: string;
  at: Date | undefined;
  passwordFile: string | undefined;
  caFile: string | undefined;
}

/** What inspect prints of a certificate, all of it as of `at` (--at, else now): days left, expired, the chain. */
export async function describeCertificate(cert: CertificateInfo, at: Date) {
  const chain = checkChain(cert, at);
  return {
    kind: cert.kind,
    uid: cert.uid,
    topic: cert.topic,
    topicHash: cert.topicHash,
    topics: cert.topics,
    environment: cert.environment, // only what the certificate says (extensions 1.2.840.113635.100.6.3.1/.2)
    subject: formatName(cert.subject),
    issuer: formatName(cert.issuer),
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    daysRemaining: daysRemaining(cert.notAfter, at),
    expired: cert.notAfter.getTime() <= at.getTime(),
    fingerprints: { sha1: cert.fingerprintSha1, sha256: cert.fingerprintSha256 },
    key: { type: cert.keyType, size: cert.keySize },
    appleChain: {
      appleIssued: chain.appleIssued,
      valid: chain.valid,
      intermediate: chain.intermediate,
      root: chain.root,
      checkedAt: chain.checkedAt,
      problem: chain.problem,
    },
  };
}

type CertificateReport = Awaited<ReturnType<typeof describeCertificate>>;

function chainText(c: CertificateReport['appleChain'], out: Output): string {
  const s = out.style;
  if (!c.appleIssued) return `not Apple-issued (${c.problem})`;
  if (c.valid)
    return `${s.green('valid')}: ${c.intermediate ? `${c.intermediate} -> ` : ''}${c.root} (as of ${c.checkedAt})`;
  return `${s.red('invalid')}: ${c.problem}`;
}

/** Why a certificate has no topic, from what its subject says. */
function noTopic(info: CertificateReport): string {
  if (info.uid === null) return 'none (no UID in the subject: not a push certificate)';
  const uid = `none (the UID "${info.uid}" is not a push topic`;
  if (info.kind === 'mdm-vendor')
    return `${uid}: this is an MDM vendor certificate, which signs push certificate requests)`;
  return `${uid}: not a push certificate)`;
}

/** The environment line: what the extensions say, and that nothing is said when a push certificate has none. */
function environmentText(info: CertificateReport): string {
  if (info.environment !== null) return info.environment;
  return info.kind === 'mdm' || info.kind === 'app'
    ? 'not stated (no APNs environment extension in the certificate)'
    : '-';
}

function printCertificate(info: CertificateReport, out: Output): void {
  const s = out.style;
  const topics =
    info.topics.length > 1
      ? info.topics.map((t) => `${t.topic} (${t.types.join(', ')})`).join('\n             ')
      : null;
  const rows: Array<[string, string | null]> = [
    ['kind', info.kind],
    ['topic', info.topic ?? s.yellow(noTopic(info))],
    ['topic hash', info.topicHash ?? '-'],
    ['topics', topics],
    ['environment', environmentText(info)],
    ['subject', info.subject],
    ['issuer', info.issuer],
    ['apple chain', chainText(info.appleChain, out)],
    ['serial', info.serialNumber],
    ['not before', info.notBefore],
    [
      'not after',
      `${info.notAfter} (${info.expired ? s.red(daysText(info.daysRemaining)) : daysText(info.daysRemaining)})`,
    ],
    ['sha1', info.fingerprints.sha1],
    ['sha256', info.fingerprints.sha256],
    ['key', `${info.key.type}${info.key.size === null ? '' : ` ${info.key.size}`}`],
  ];
  for (const [label, value] of rows) if (value !== null) out.data(`${label.padEnd(12)} ${value}`);
}

async function inspectRequest(bytes: Buffer, options: InspectOptions, deps: Deps): Promise<number> {
  const { parsePushRequest, verifyPushRequest, describeChain } = await import('../../core/push-request.js');
  const { checkPushRequest } = await import('../../core/request-checks.js');
  const { checkJson, readCaFile } = await import('../shared/request-checks.js');
  const request = parsePushRequest(bytes, options.file);
  const verdict = verifyPushRequest(request);
  const extraRoots = await readCaFile(options.caFile, deps);
  const extras = extraCas(extraRoots.map((der) => parseCertificate(der, options.caFile)));
  const links = checkRequestChain(request.chain, [...appleCas(), ...extras]);
  const at = asOf(options.at, deps.now);
  const checked = checkPushRequest(bytes, { at, purpose: 'inspect', extraRoots, source: options.file });
  const report = {
    kind: 'push-certificate-request' as const,
    csrSubject: formatName(request.csr.subject),
    csrSignatureValid: request.csr.signatureValid,
    chain: describeChain(request.chain),
    chainCheck: {
      valid: links.valid,
      appleIssued: links.appleIssued,
      brokenLink: links.brokenLink,
      path: links.path,
      notInRequest: links.notInRequest,
      problem: links.problem,
    },
    signatureAlgorithm: verdict.signatureAlgorithm,
    signatureValid: verdict.signatureValid,
    /** The request checks of `verify` as of --at (SHA-1 a warning here); inspect's exit code does not follow them. */
    checkedAt: at.toISOString(),
    ok: checked.ok,
    checks: checked.checks.map(checkJson),
  };
  // a chain that claims Apple but does not verify is broken; one from another CA (a test vendor) is only shown as such
  const chainBroken = links.brokenLink !== null || (links.appleIssued && !links.valid);
  if (deps.out.json) {
    deps.out.document({ file: options.file, ...report });
  } else {
    const s = deps.out.style;
    deps.out.data(`${'kind'.padEnd(12)} push certificate request (MDM vendor-signed CSR)`);
    deps.out.data(
      `${'csr subject'.padEnd(12)} ${report.csrSubject}${report.csrSignatureValid ? '' : s.red(' (its own signature does not verify)')}`,
    );
    report.chain.forEach((c, i) =>
      deps.out.data(`${(i === 0 ? 'chain' : '').padEnd(12)} ${c.subject}  (not after ${c.notAfter})`),
    );
    deps.out.data(`${'chain links'.padEnd(12)} ${chainLinksText(links, deps.out)}`);
    const trusted = links.valid
      ? ''
      : s.red(', but that certificate does not chain to a trusted root (see chain links)');
    deps.out.data(
      `${'signature'.padEnd(12)} ${report.signatureValid ? `${links.valid ? s.green('valid') : 'verifies'} (${report.signatureAlgorithm}, by the first certificate of the chain${trusted})` : s.red('INVALID: it does not verify with the vendor certificate')}`,
    );
    const failing = checked.checks.filter((c) => c.severity !== 'ok');
    const verdictText = checked.ok
      ? s.green('every check holds')
      : s.red(`${failing.filter((c) => !c.ok).length} failed`);
    deps.out.data(`${'checks'.padEnd(12)} ${verdictText} as of ${report.checkedAt} (apns-cert verify checks the same)`);
    for (const c of failing) {
      const line =
        c.severity === 'fail'
          ? `${s.red('FAIL')} ${c.check}: expected ${c.expected}, got ${c.actual}`
          : `${s.yellow('warn')} ${c.check}: ${c.actual} (${c.warning})`;
      deps.out.data(`${''.padEnd(12)} ${line}`);
    }
  }
  return report.signatureValid && report.csrSignatureValid && !chainBroken ? 0 : 1;
}

function chainLinksText(links: RequestChainVerdict, out: Output): string {
  const s = out.style;
  if (links.valid) {
    const missing =
      links.notInRequest.length === 0
        ? ''
        : s.yellow(` (not in the request: ${links.notInRequest.join(', ')}; Apple asks for the whole chain)`);
    return `${s.green('valid')}: ${links.path.join(' -> ')}${missing}`;
  }
  if (links.brokenLink === null && !links.appleIssued) return `not Apple-issued (${links.problem})`;
  return `${s.red('BROKEN')}: ${links.problem}`;
}

export const inspect: Runner<InspectOptions> = {
  async run(options: InspectOptions, deps: Deps) {
    const bytes = await deps.readInput(options.file);
    if (!isPkcs12(bytes) && isPushRequest(bytes)) return inspectRequest(bytes, options, deps);
    const decoded: DecodedFile = await decodeCertificates(bytes, options.file, deps, {
      passwordFile: options.passwordFile,
    });
    const keyIds = new Set(decoded.privateKeys.map((k) => k.keyId));
    const hasKey = (c: CertificateInfo) => keyIds.size > 0 && keyIds.has(c.publicKeyId);
    const cert =
      decoded.certificates.find((c) => c.topic !== null && hasKey(c)) ??
      decoded.certificates.find((c) => c.topic !== null) ??
      decoded.certificates[0]!;
    const info = await describeCertificate(cert, asOf(options.at, deps.now));
    const others = decoded.certificates.length - 1;
    if (deps.out.json) {
      deps.out.document({ file: options.file, ...info, otherCertificates: others, privateKeyInFile: hasKey(cert) });
      return 0;
    }
    printCertificate(info, deps.out);
    if (hasKey(cert)) deps.out.data(`${'private key'.padEnd(12)} in the file (matches)`);
    if (others > 0)
      deps.out.info(
        `(${others} more certificate${others === 1 ? '' : 's'} in ${options.file}; showing the push certificate)`,
      );
    return 0;
  },
};
