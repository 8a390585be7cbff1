/**
 * Every check a PushCertificateRequest must pass before Apple's portal sees it, as data: what `verify <request>`,
 * `inspect <request>` and `mdmcert-decrypt` print. Pure: the instant and the trusted extra roots are given.
 */
import { createPublicKey, verify } from 'node:crypto';
import { appleCas, checkRequestChain, extraCas } from './chain.js';
import { formatName, parseCertificate, sha256Hex } from './certificate.js';
import type { CertificateInfo } from './certificate.js';
import { parseCsr } from './csr-parse.js';
import type { CsrInfo } from './csr-parse.js';
import { daysRemaining } from './expiry.js';
import { pemBlocks } from './input.js';
import { base64Strict, readRequestPlist } from './push-request.js';

export const REQUEST_KEYS = ['PushCertCertificateChain', 'PushCertRequestCSR', 'PushCertSignature'] as const;

/** The vendor certificate must have this many days left when the request is uploaded (a warning below). */
export const VENDOR_MIN_DAYS = 30;

export type RequestCheckName =
  | 'plist-keys'
  | 'csr-decodes'
  | 'chain-decodes'
  | 'signature-decodes'
  | 'csr-signature'
  | 'csr-key'
  | 'vendor-signature'
  | 'signature-hash'
  | 'chain-order'
  | 'chain-root'
  | 'chain-validity'
  | 'vendor-days-left';

export interface RequestCheck {
  check: RequestCheckName;
  /** False when the request fails this check (verify exits 1). A warning is ok: true with severity 'warn'. */
  ok: boolean;
  /** 'fail' when !ok; 'warn' when it holds with a warning (`warning` says what); 'ok' otherwise. */
  severity: 'ok' | 'warn' | 'fail';
  expected: string;
  actual: string;
  warning?: string;
}

export interface RequestCheckOptions {
  /** Validity dates are checked as of this instant. */
  at: Date;
  /** The public key (DER SubjectPublicKeyInfo) the CSR must carry: the record's pending key. */
  pendingPublicKeySpki?: Uint8Array;
  /** The same as its key id (SHA-256 of the SPKI, lowercase hex, as in the store index), when the key is not at hand. */
  pendingKeyId?: string;
  /** CA certificates (DER) trusted besides Apple's bundled ones: self-signed ones are roots. */
  extraRoots?: Uint8Array[];
  /** 'upload': a new request for Apple's portal (SHA-1 fails); 'inspect': an old request looked at (SHA-1 is a warning). */
  purpose: 'upload' | 'inspect';
  /** Names the input in the error thrown when it is not a request at all (default "the request"). */
  source?: string;
}

export interface RequestCheckResult {
  /** Every check holds (warnings allowed). */
  ok: boolean;
  /** In order; checks that need a field that did not decode are left out (its decode check has failed). */
  checks: RequestCheck[];
  /** What decoded, for the caller to show. */
  csr: CsrInfo | null;
  chain: CertificateInfo[] | null;
  /** The hash the vendor signature verifies with, or null. */
  signatureHash: 'sha256' | 'sha1' | null;
}

const cn = (c: CertificateInfo) => c.subject.find((a) => a.type === 'CN')?.value ?? formatName(c.subject);
const pass = (check: RequestCheckName, expected: string, actual: string): RequestCheck => ({
  check,
  ok: true,
  severity: 'ok',
  expected,
  actual,
});
const fail = (check: RequestCheckName, expected: string, actual: string): RequestCheck => ({
  check,
  ok: false,
  severity: 'fail',
  expected,
  actual,
});
const warn = (check: RequestCheckName, expected: string, actual: string, warning: string): RequestCheck => ({
  check,
  ok: true,
  severity: 'warn',
  expected,
  actual,
  warning,
});

function decode<T>(f: () => T): T | string {
  try {
    return f();
  } catch (error) {
    return (error as Error).message.replace(/^read [^:]*: /, '');
  }
}

/**
 * Runs every request check on `bytes` (the base64 of the plist, whitespace allowed, or the plist itself).
 * Throws BAD_INPUT only when the bytes are not a plist dictionary at all; anything else is a failed check.
 */
export function checkPushRequest(bytes: Uint8Array, options: RequestCheckOptions): RequestCheckResult {
  const source = options.source ?? 'the request';
  const entries = readRequestPlist(bytes, source);
  const checks: RequestCheck[] = [];
  const result = (csr: CsrInfo | null, chain: CertificateInfo[] | null, signatureHash: 'sha256' | 'sha1' | null) => ({
    ok: checks.every((c) => c.ok),
    checks,
    csr,
    chain,
    signatureHash,
  });

  // the plist: exactly the three keys, each a string
  const keysText = entries.map((e) => (e.type === 'string' ? e.key : `${e.key} (${e.type})`)).join(', ') || '(none)';
  const exact =
    entries.length === REQUEST_KEYS.length &&
    REQUEST_KEYS.every((k) => entries.filter((e) => e.key === k && e.type === 'string').length === 1);
  checks.push((exact ? pass : fail)('plist-keys', `${REQUEST_KEYS.join(', ')} (strings, nothing else)`, keysText));
  const text = (key: string) => entries.find((e) => e.key === key && (e.type === 'string' || e.type === 'data'))?.text;

  // each field decodes
  const csrText = text('PushCertRequestCSR');
  const csr =
    csrText === undefined
      ? 'missing'
      : decode(() => parseCsr(base64Strict(csrText, 'PushCertRequestCSR', source), source));
  checks.push(
    typeof csr === 'string'
      ? fail('csr-decodes', 'PushCertRequestCSR: base64 of a PKCS#10 CSR', csr)
      : pass('csr-decodes', 'PushCertRequestCSR: base64 of a PKCS#10 CSR', formatName(csr.subject)),
  );
  const chainText = text('PushCertCertificateChain');
  const chain =
    chainText === undefined
      ? 'missing'
      : decode(() => {
          const blocks = pemBlocks(chainText).filter((b) => b.label === 'CERTIFICATE');
          if (blocks.length === 0) throw new Error('no PEM certificate in it');
          return blocks.map((b) => parseCertificate(b.der, source));
        });
  checks.push(
    typeof chain === 'string'
      ? fail('chain-decodes', 'PushCertCertificateChain: PEM certificates', chain)
      : pass('chain-decodes', 'PushCertCertificateChain: PEM certificates', `${chain.length} certificate(s)`),
  );
  const sigText = text('PushCertSignature');
  const signature =
    sigText === undefined ? 'missing' : decode(() => base64Strict(sigText, 'PushCertSignature', source));
  checks.push(
    typeof signature === 'string'
      ? fail('signature-decodes', 'PushCertSignature: base64', signature)
      : pass('signature-decodes', 'PushCertSignature: base64', `${signature.length} bytes`),
  );
  const csrInfo = typeof csr === 'string' ? null : csr;
  const chainInfo = typeof chain === 'string' ? null : chain;

  // the CSR: its own signature, and the key it carries
  if (csrInfo !== null) {
    checks.push(
      (csrInfo.signatureValid ? pass : fail)(
        'csr-signature',
        'the CSR is signed by its own key',
        csrInfo.signatureValid
          ? `valid (${csrInfo.signatureAlgorithm})`
          : `does not verify (${csrInfo.signatureAlgorithm})`,
      ),
    );
    const expectedKey =
      options.pendingPublicKeySpki !== undefined ? sha256Hex(options.pendingPublicKeySpki) : options.pendingKeyId;
    if (expectedKey !== undefined) {
      checks.push(
        (csrInfo.publicKeyId === expectedKey.toLowerCase() ? pass : fail)(
          'csr-key',
          `the pending key ${expectedKey.toLowerCase()}`,
          `key ${csrInfo.publicKeyId}`,
        ),
      );
    }
  }

  // the vendor's signature over the CSR's DER, and its hash
  let signatureHash: 'sha256' | 'sha1' | null = null;
  if (csrInfo !== null && chainInfo !== null && typeof signature !== 'string') {
    const vendorKey = createPublicKey(chainInfo[0]!.pem);
    for (const hash of ['sha256', 'sha1'] as const) {
      try {
        if (verify(hash, csrInfo.der, vendorKey, signature)) signatureHash = hash;
      } catch {
        // a malformed signature is simply not valid
      }
      if (signatureHash !== null) break;
    }
    const expected = `verifies over the CSR with the key of "${cn(chainInfo[0]!)}" (the first certificate of the chain)`;
    checks.push(
      signatureHash === null
        ? fail('vendor-signature', expected, 'does not verify')
        : pass('vendor-signature', expected, `valid (${signatureHash.toUpperCase()})`),
    );
    if (signatureHash === 'sha1') {
      const because = 'SHA-1: Apple has required SHA-256 since 2021';
      checks.push(
        options.purpose === 'upload'
          ? fail('signature-hash', 'SHA-256', because)
          : warn('signature-hash', 'SHA-256', 'SHA-1', `${because}; a new request must be signed with SHA-256`),
      );
    } else if (signatureHash === 'sha256') checks.push(pass('signature-hash', 'SHA-256', 'SHA-256'));
  }

  if (chainInfo !== null) {
    checks.push(...chainChecks(chainInfo, options));
  }
  return result(csrInfo, chainInfo, signatureHash);
}

function chainChecks(chain: CertificateInfo[], options: RequestCheckOptions): RequestCheck[] {
  const checks: RequestCheck[] = [];
  const extras = (options.extraRoots ?? []).map((der) => parseCertificate(der, 'the --ca-file file'));
  const sources = [...appleCas(), ...extraCas(extras)];
  const links = checkRequestChain(chain, sources);
  const last = chain.length - 1;
  const names = chain.map(cn).join(' -> ');
  const orderBroken = links.brokenLink !== null && links.brokenLink < last;
  checks.push(
    orderBroken
      ? fail('chain-order', 'the vendor certificate first, each certificate signed by the next', links.problem!)
      : pass('chain-order', 'the vendor certificate first, each certificate signed by the next', names),
  );
  // where the chain ends, whether or not its links hold: the last certificate, up to a trusted root
  const top = orderBroken ? checkRequestChain([chain[last]!], sources) : links;
  const rootExpected = `ends at a bundled Apple root${extras.length > 0 ? ' or a --ca-file root' : ''}`;
  if (top.valid) {
    const path = orderBroken ? `${names} -> ${top.path.slice(1).join(' -> ')}` : top.path.join(' -> ');
    const missing = top.notInRequest.length === 0 ? '' : ` (not in the request: ${top.notInRequest.join(', ')})`;
    checks.push(pass('chain-root', rootExpected, `${path.replace(/ -> $/, '')}${missing}`));
  } else {
    checks.push(fail('chain-root', rootExpected, top.problem ?? 'no trusted root'));
  }

  const at = options.at;
  const invalid = chain.filter((c) => c.notBefore.getTime() > at.getTime() || c.notAfter.getTime() < at.getTime());
  checks.push(
    invalid.length === 0
      ? pass('chain-validity', `every certificate valid at ${at.toISOString()}`, `all ${chain.length} valid`)
      : fail(
          'chain-validity',
          `every certificate valid at ${at.toISOString()}`,
          invalid.map((c) => `"${cn(c)}" valid ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}`).join('; '),
        ),
  );
  const vendor = chain[0]!;
  const days = daysRemaining(vendor.notAfter, at);
  const expected = `at least ${VENDOR_MIN_DAYS} days left on "${cn(vendor)}"`;
  const actual = `${days} days left (not after ${vendor.notAfter.toISOString()})`;
  if (vendor.notAfter.getTime() <= at.getTime())
    checks.push(fail('vendor-days-left', expected, `expired ${vendor.notAfter.toISOString()}`));
  else if (days < VENDOR_MIN_DAYS)
    checks.push(
      warn(
        'vendor-days-left',
        expected,
        actual,
        `the vendor certificate expires in ${days} days: Apple rejects a request whose vendor certificate has expired`,
      ),
    );
  else checks.push(pass('vendor-days-left', expected, actual));
  return checks;
}
