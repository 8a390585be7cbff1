import { createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import type { Element, Node } from '@xmldom/xmldom';
import * as plist from 'plist';
import { BadInput } from './errors.js';
import { formatName, parseCertificate } from './certificate.js';
import type { CertificateInfo } from './certificate.js';
import { parseCsr } from './csr-parse.js';
import type { CsrInfo } from './csr-parse.js';
import { looksLikePlist, pemBlocks } from './input.js';

/**
 * Apple's PushCertificateRequest: an XML plist with the customer's CSR (base64 DER), the MDM vendor's
 * certificate chain (PEM) and the vendor's signature over the CSR DER, the whole plist base64-encoded.
 */
export interface PushRequest {
  csr: CsrInfo;
  chain: CertificateInfo[];
  signature: Buffer;
}

export function buildPushRequest(
  csrDer: Buffer,
  chain: CertificateInfo[],
  vendorKey: KeyObject,
): { xml: string; base64: string } {
  const signature = sign('sha256', csrDer, vendorKey);
  const xml = plist.build({
    PushCertCertificateChain: chain.map((c) => c.pem).join(''),
    PushCertRequestCSR: csrDer.toString('base64'),
    PushCertSignature: signature.toString('base64'),
  });
  return { xml, base64: Buffer.from(xml, 'utf8').toString('base64') };
}

/** One entry of a plist's top-level dictionary: its key, the element type of its value, and the value's text. */
export interface PlistEntry {
  key: string;
  type: string;
  text: string;
}

/**
 * The entries of the top-level dictionary of an XML plist, in file order (values of any type, as text).
 * xmldom directly, so that a malformed file is our one-line error and nothing is logged.
 */
function plistEntries(xml: string, source: string): PlistEntry[] {
  const bad = (cause: string) => new BadInput(`read ${source}: not a valid plist (${cause})`, source);
  let first: string | undefined;
  let doc;
  try {
    doc = new DOMParser({
      onError: (level: string, message: string) => {
        if (level === 'warning') return;
        first ??= message
          .split('\n')[0]!
          .replace(/^\[xmldom [a-zA-Z]+\]\s*/, '')
          .slice(0, 100);
        throw new Error(first);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (error) {
    throw bad(
      first ??
        String((error as Error).message)
          .split('\n')[0]!
          .slice(0, 100),
    );
  }
  const root = doc.documentElement;
  if (root?.nodeName !== 'plist') throw bad('no <plist> root');
  const elements = (node: Node) => Array.from(node.childNodes).filter((n): n is Element => n.nodeType === 1);
  const dict = elements(root)[0];
  if (dict?.nodeName !== 'dict') throw bad('the plist is not a dictionary');
  const out: PlistEntry[] = [];
  const items = elements(dict);
  for (let i = 0; i + 1 < items.length; i += 2) {
    const key = items[i]!;
    const val = items[i + 1]!;
    if (key.nodeName !== 'key') throw bad(`expected <key>, found <${key.nodeName}>`);
    out.push({ key: key.textContent ?? '', type: val.nodeName, text: val.textContent ?? '' });
  }
  return out;
}

/** The top-level dictionary of an XML plist, string and data values only (what a push request holds). */
function parsePlistDictionary(xml: string, source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of plistEntries(xml, source)) if (e.type === 'string' || e.type === 'data') out[e.key] = e.text;
  return out;
}

/**
 * The entries of a push certificate request's plist, from its bytes: the plist itself, or its base64 (whitespace
 * anywhere). Throws BAD_INPUT only when the bytes are not a plist dictionary at all.
 */
export function readRequestPlist(bytes: Uint8Array, source: string): PlistEntry[] {
  return plistEntries(requestXml(bytes, source), source);
}

function requestXml(bytes: Uint8Array, source: string): string {
  let text = Buffer.from(bytes).toString('utf8').trim();
  if (text === '') throw new BadInput(`read ${source}: the file is empty`, source);
  if (!looksLikePlist(text)) {
    text = base64Strict(text, 'the request', source).toString('utf8').trim();
    if (!looksLikePlist(text)) throw new BadInput(`read ${source}: the base64 does not hold a plist`, source);
  }
  return text;
}

function field(dict: Record<string, string>, key: string, source: string): string {
  const v = dict[key];
  if (typeof v !== 'string' || v.trim() === '') throw new BadInput(`read ${source}: the request has no ${key}`, source);
  return v;
}

export function base64Strict(text: string, what: string, source: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0)
    throw new BadInput(`read ${source}: ${what} is not valid base64`, source);
  return Buffer.from(clean, 'base64');
}

export function parsePushRequest(bytes: Uint8Array, source: string): PushRequest {
  const dict = parsePlistDictionary(requestXml(bytes, source), source);
  const csrDer = base64Strict(field(dict, 'PushCertRequestCSR', source), 'PushCertRequestCSR', source);
  const chainPem = field(dict, 'PushCertCertificateChain', source);
  const signature = base64Strict(field(dict, 'PushCertSignature', source), 'PushCertSignature', source);
  let blocks;
  try {
    blocks = pemBlocks(chainPem).filter((b) => b.label === 'CERTIFICATE');
  } catch {
    throw new BadInput(`read ${source}: PushCertCertificateChain is not PEM`, source);
  }
  if (blocks.length === 0) throw new BadInput(`read ${source}: PushCertCertificateChain holds no certificate`, source);
  return { csr: parseCsr(csrDer, source), chain: blocks.map((b) => parseCertificate(b.der, source)), signature };
}

/** Checks the vendor's signature over the CSR: SHA-256 (what apns-cert makes) or SHA-1 (older tools). */
export function verifyPushRequest(request: PushRequest): {
  signatureAlgorithm: string | null;
  signatureValid: boolean;
} {
  const publicKey = createPublicKey(request.chain[0]!.pem);
  for (const [hash, name] of [
    ['sha256', 'sha256WithRSAEncryption'],
    ['sha1', 'sha1WithRSAEncryption'],
  ] as const) {
    try {
      if (verify(hash, request.csr.der, publicKey, request.signature))
        return { signatureAlgorithm: name, signatureValid: true };
    } catch {
      // a malformed signature is simply not valid
    }
  }
  return { signatureAlgorithm: null, signatureValid: false };
}

export function describeChain(chain: CertificateInfo[]) {
  return chain.map((c) => ({ subject: formatName(c.subject), notAfter: c.notAfter.toISOString() }));
}
