import { createHash } from 'node:crypto';
import { activeCertificate, isIsoDate } from './index-model.js';
import type { StoreIndex } from './index-model.js';

/**
 * expiry.json: what check-expiry needs from the index (every record's name, topic, retirement and active
 * certificate's expiry), written beside index.json after each change of it. A monitoring agent that runs every
 * minute on a store of a thousand tenants then reads a tenth of the bytes and parses no record.
 *
 * It is derived data, trusted only while index.json holds the very bytes it was made from: the summary carries
 * the SHA-256 of those bytes, and the reader hashes index.json (a millisecond for a thousand records; reading
 * is cheap, parsing and checking every record is what costs). Any other writer, an interrupted change, a
 * restore or an edit, even one that keeps the size and modification time, changes the hash, and check-expiry
 * reads the index itself. (Version 1 carried the index file's inode, size and mtime instead, which an edit
 * in place followed by `touch -d` kept.)
 */
export const SUMMARY_SCHEMA_VERSION = 2;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export interface SummaryRecord {
  name: string;
  topic: string | null;
  retired: boolean;
  /** The active certificate's notAfter (ISO-8601), or null when the record has none. */
  notAfter: string | null;
}

export function summaryRecords(index: StoreIndex): SummaryRecord[] {
  return Object.values(index.records).map((r) => ({ name: r.name, topic: r.topic, retired: r.retiredAt !== null, notAfter: activeCertificate(r)?.notAfter ?? null }));
}

/** The text of expiry.json for `index`, whose file holds `indexBytes`. */
export function summarizeIndex(index: StoreIndex, indexBytes: Uint8Array): string {
  return `${JSON.stringify({ schemaVersion: SUMMARY_SCHEMA_VERSION, indexSha256: sha256(indexBytes), records: summaryRecords(index) })}\n`;
}

function isRecord(v: unknown): v is SummaryRecord {
  const r = v as Partial<SummaryRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.name === 'string' &&
    (r.topic === null || typeof r.topic === 'string') &&
    typeof r.retired === 'boolean' &&
    (r.notAfter === null || isIsoDate(r.notAfter))
  );
}

/** The records of a summary made from an index file holding `indexBytes`; null when it is not that, or not well-formed. */
export function readSummary(text: string, indexBytes: Uint8Array): SummaryRecord[] | null {
  let data: { schemaVersion?: unknown; indexSha256?: unknown; records?: unknown };
  try {
    data = JSON.parse(text) as typeof data;
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null || data.schemaVersion !== SUMMARY_SCHEMA_VERSION) return null;
  if (typeof data.indexSha256 !== 'string' || data.indexSha256 !== sha256(indexBytes)) return null;
  const records = data.records;
  return Array.isArray(records) && records.every(isRecord) ? records : null;
}
