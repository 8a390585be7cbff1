import { createPrivateKey } from 'node:crypto';
import { BadInput, EncryptedKey, NotACertificate } from './errors.js';
import { parseCertificate, summarizeCertificate } from './certificate.js';
import type { CertificateInfo, CertificateSummary } from './certificate.js';
import { Tag, children, readTlv } from './der.js';
import { describePrivateKey } from './keys.js';
import type { PrivateKeyInfo } from './keys.js';

export interface DecodedFile {
  certificates: CertificateInfo[];
  privateKeys: PrivateKeyInfo[];
}

interface PemBlock {
  label: string;
  der: Buffer;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

/** A PEM label character: A-Z, 0-9 or space. */
function isLabelChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x20;
}

/** The marker `prefix` LABEL `-----` at `at` (where `prefix` is known to start): its label and where it ends. */
function markerAt(text: string, at: number, prefix: string): { label: string; end: number } | null {
  const start = at + prefix.length;
  let i = start;
  while (i < text.length && isLabelChar(text.charCodeAt(i))) i++;
  if (i === start || !text.startsWith(DASHES, i)) return null;
  return { label: text.slice(start, i), end: i + DASHES.length };
}

/**
 * The PEM blocks of `text`: each BEGIN marker, in order, up to the first END marker of the same label after it
 * (a BEGIN without its END is skipped). In one pass over the END markers and one over the BEGIN markers, so that
 * the cost stays linear in the input (a file of BEGIN lines without END made the regular expression quadratic).
 */
function pemSpans(text: string): Array<{ label: string; body: string }> {
  const ends = new Map<string, { starts: number[]; ends: number[]; next: number }>();
  for (let at = text.indexOf(END); at !== -1; at = text.indexOf(END, at + 1)) {
    const marker = markerAt(text, at, END);
    if (marker === null) continue;
    let list = ends.get(marker.label);
    if (list === undefined) ends.set(marker.label, (list = { starts: [], ends: [], next: 0 }));
    list.starts.push(at);
    list.ends.push(marker.end);
  }
  const spans: Array<{ label: string; body: string }> = [];
  let at = text.indexOf(BEGIN);
  while (at !== -1) {
    const begin = markerAt(text, at, BEGIN);
    const close = begin === null ? undefined : ends.get(begin.label);
    if (begin !== null && close !== undefined) {
      // BEGIN markers come in order, so each label's cursor only moves forward
      while (close.next < close.starts.length && close.starts[close.next]! < begin.end) close.next++;
      if (close.next < close.starts.length) {
        spans.push({ label: begin.label, body: text.slice(begin.end, close.starts[close.next]) });
        at = text.indexOf(BEGIN, close.ends[close.next]);
        continue;
      }
    }
    at = text.indexOf(BEGIN, at + 1);
  }
  return spans;
}

export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const span of pemSpans(text)) {
    const body = span.body.replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) {
      throw new BadInput(`read PEM block "${span.label}": its body is not valid base64`);
    }
    blocks.push({ label: span.label, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
const KEY_LABELS = new Set(['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY']);
const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** What a DER blob that is not a certificate looks like, for a helpful message. */
export function sniffDer(der: Uint8Array): 'csr' | 'pkcs12' | 'unknown' {
  try {
    const outer = readTlv(der, 0);
    if (outer.tag !== Tag.sequence) return 'unknown';
    const parts = children(der, outer);
    const first = parts[0];
    if (first?.tag === Tag.integer && der[first.valueStart] === 3 && first.end - first.valueStart === 1)
      return 'pkcs12';
    if (first?.tag === Tag.sequence) {
      const info = children(der, first);
      if (info[0]?.tag === Tag.integer && info[3]?.tag === 0xa0 && info.length === 4) return 'csr';
    }
  } catch {
    return 'unknown';
  }
  return 'unknown';
}

export function isPkcs12(bytes: Uint8Array): boolean {
  return bytes[0] === 0x30 && sniffDer(bytes) === 'pkcs12';
}

function isBinary(bytes: Uint8Array): boolean {
  return bytes[0] === 0x30;
}

/**
 * Reads a certificate file by its content, not its name: PEM (certificates and unencrypted private keys,
 * in any order) or DER. Refuses CSRs, PKCS#12 files, encrypted keys and garbage with a one-line cause.
 */
export function decodeCertificateFile(bytes: Uint8Array, source: string): DecodedFile {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.trim() === '') throw new BadInput(`read ${source}: the file is empty`, source);

  if (!isBinary(bytes) && text.includes('-----BEGIN ')) {
    const blocks = pemBlocks(text);
    const certificates: CertificateInfo[] = [];
    const privateKeys: PrivateKeyInfo[] = [];
    let sawCsr = false;
    for (const block of blocks) {
      if (CERT_LABELS.has(block.label)) {
        certificates.push(parseCertificate(block.der, source));
      } else if (KEY_LABELS.has(block.label)) {
        privateKeys.push(readPemPrivateKey(block, source));
      } else if (block.label === 'ENCRYPTED PRIVATE KEY') {
        throw new EncryptedKey(source, true);
      } else if (CSR_LABELS.has(block.label)) {
        sawCsr = true;
      }
    }
    if (certificates.length === 0) {
      if (sawCsr) throw new NotACertificate(source, 'csr');
      throw new BadInput(`read ${source}: no certificate in this PEM file`, source);
    }
    return { certificates, privateKeys };
  }

  if (isBinary(bytes)) {
    try {
      return { certificates: [parseCertificate(bytes, source)], privateKeys: [] };
    } catch (error) {
      const kind = sniffDer(bytes);
      if (kind !== 'unknown') throw new NotACertificate(source, kind);
      throw error;
    }
  }
  throw new NotACertificate(source, 'unknown');
}

function readPemPrivateKey(block: PemBlock, source: string): PrivateKeyInfo {
  try {
    const type = block.label === 'PRIVATE KEY' ? 'pkcs8' : block.label === 'RSA PRIVATE KEY' ? 'pkcs1' : 'sec1';
    return describePrivateKey(createPrivateKey({ key: block.der, format: 'der', type }));
  } catch {
    throw new BadInput(`read ${source}: its "${block.label}" block is not a valid private key`, source);
  }
}

/** Reads a private key file (PEM PKCS#8, PKCS#1 or SEC1). */
export function decodePrivateKeyFile(bytes: Uint8Array, source: string): PrivateKeyInfo {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.trim() === '') throw new BadInput(`read ${source}: the file is empty`, source);
  const blocks = text.includes('-----BEGIN ') ? pemBlocks(text) : [];
  const keyBlock = blocks.find((b) => KEY_LABELS.has(b.label));
  if (keyBlock !== undefined) return readPemPrivateKey(keyBlock, source);
  if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY')) {
    throw new EncryptedKey(source, false);
  }
  if (isBinary(bytes)) {
    try {
      return describePrivateKey(createPrivateKey({ key: Buffer.from(bytes), format: 'der', type: 'pkcs8' }));
    } catch {
      // fall through
    }
  }
  throw new BadInput(`read ${source}: no private key in this file`, source);
}

/** A CSR file, PEM ("CERTIFICATE REQUEST") or DER: its DER. */
export function decodeCsrFile(bytes: Uint8Array, source: string): Buffer {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.trim() === '') throw new BadInput(`read ${source}: the file is empty`, source);
  if (text.includes('-----BEGIN ')) {
    const block = pemBlocks(text).find((b) => CSR_LABELS.has(b.label));
    if (block === undefined) throw new BadInput(`read ${source}: no CERTIFICATE REQUEST in this PEM file`, source);
    return block.der;
  }
  return Buffer.from(bytes);
}

export const looksLikePlist = (text: string) => /^(<\?xml|<!DOCTYPE plist|<plist)/.test(text);

/** True when the bytes are a push certificate request, as a plist or its base64. */
export function isPushRequest(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart();
  if (looksLikePlist(text)) return true;
  // base64 of "<?xml" is "PD94bWw"; of "<plist" is "PHBsaXN0"
  return /^(PD94bWw|PHBsaXN0|PCFET0NUWVBF)/.test(text);
}

/**
 * The certificates of a PEM or DER file, summarized (topic and expiry) without full parsing: the fast path
 * of check-expiry over many files. Refuses what decodeCertificateFile refuses.
 */
export function summarizeCertificateFile(bytes: Uint8Array, source: string): CertificateSummary[] {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.trim() === '') throw new BadInput(`read ${source}: the file is empty`, source);
  if (!isBinary(bytes) && text.includes('-----BEGIN ')) {
    const certs = pemBlocks(text).filter((b) => CERT_LABELS.has(b.label));
    if (certs.length === 0) return decodeCertificateFile(bytes, source).certificates; // throws the precise refusal
    return certs.map((b) => summarizeCertificate(b.der, source));
  }
  if (isBinary(bytes) && sniffDer(bytes) === 'unknown') return [summarizeCertificate(bytes, source)];
  return decodeCertificateFile(bytes, source).certificates;
}
