import { activeCertificate, isIsoDate } from './index-model.js';
import type { PushRecord, StoreIndex } from './index-model.js';
import { forEachRecordLine } from './lazy-records.js';

/**
 * expiry.json: what check-expiry needs from the index (every record's name, topic, retirement and active
 * certificate's expiry), written beside index.json after each change of it. A monitoring agent that runs every
 * minute on a store of a thousand tenants then reads a tenth of the bytes and parses no record.
 *
 * It is derived data, trusted only while index.json is the very file it was made from: the summary carries
 * the index file's stamp (inode, size, modification time and status-change time in ns) as seen right after
 * the index was written. Any other writer, an interrupted change, a restore or an edit gives index.json
 * another stamp, and check-expiry reads the index itself. The status-change time (ctime) is set by the kernel
 * on every write, rename, link or chmod and cannot be set back by `touch -d` or utimes(): an edit in place that
 * keeps the size and restores the mtime still changes it. (Version 1 had no ctime, and was fooled by that.)
 * Why not a hash of the index bytes: check-expiry would have to load node's crypto module, which costs more
 * start-up than the summary saves (README, Performance).
 * Version 3 added each record's owner and note: a version-2 file (written by an older build, perhaps after this one
 * wrote the index) is not read, so the report never shows an owner the index no longer has, or none where it has one.
 * Version 4 is the header line (version, stamp and the soonest expiry), which FileStore reads alone to tell
 * whether index.json is its own write (see FileStore.vouched) and for `check-expiry -q`, then the records: one JSON
 * array, written a record a line so that a change rewrites only the lines of the records it changed (summaryLines). An older build reads no version-4 file, and this one no
 * older file: each then reads the index (and checks every record of it).
 */
export const SUMMARY_SCHEMA_VERSION = 4;

export interface IndexStamp {
  ino: string;
  size: string;
  mtimeNs: string;
  ctimeNs: string;
}

export interface SummaryRecord {
  name: string;
  topic: string | null;
  retired: boolean;
  /** The active certificate's notAfter (ISO-8601), or null when the record has none. */
  notAfter: string | null;
  /** Who owns the certificate, and the record's note (plain text, not secret), or null. */
  owner: string | null;
  note: string | null;
}

function summaryRecord(r: PushRecord): SummaryRecord {
  return {
    name: r.name,
    topic: r.topic,
    retired: r.retiredAt !== null,
    notAfter: activeCertificate(r)?.notAfter ?? null,
    owner: r.owner,
    note: r.note,
  };
}

export function summaryRecords(index: StoreIndex): SummaryRecord[] {
  return Object.values(index.records).map(summaryRecord);
}

/**
 * The soonest notAfter of the records check-expiry checks (not retired, with an active certificate), when each is
 * written as toISOString writes it (24 characters: they then sort as the times do); null when there is none, or
 * one is written otherwise.
 */
export function soonestExpiry(records: ReadonlyArray<Pick<SummaryRecord, 'retired' | 'notAfter'>>): string | null {
  let soonest: string | null = null;
  for (const r of records) {
    if (r.retired || r.notAfter === null) continue;
    if (r.notAfter.length !== 24) return null;
    if (soonest === null || r.notAfter < soonest) soonest = r.notAfter;
  }
  return soonest;
}

/**
 * The text of expiry.json for `index`, whose file has `stamp`: the header line (with the soonest expiry, all that
 * `check-expiry -q` over the whole store needs when it is OK), then the records' line.
 */
export function summarizeIndex(index: StoreIndex, stamp: IndexStamp): string {
  return summaryText(prepareSummary(index), stamp);
}

/** What expiry.json says of an index before its file has a stamp: made while a change waits for its key (FileStore). */
export interface PreparedSummary {
  soonest: string | null;
  /** The records' line, without its newline. */
  records: string;
}

/** The summary of the index a change read (summaryLines): its records' lines, in the index's order, and soonest expiry. */
export interface PreviousSummary {
  lines: string[];
  soonest: string | null;
}

/**
 * expiry.json's records, a line each. `previous`: the summary of the index `index` was read from, whose line of a
 * record the change has not read (lazy-records.ts: it is as it was) is written again as it is. Its soonest expiry
 * stands unless a line dropped (a record read, or removed) held it: then every line is read for it.
 */
export function prepareSummary(index: StoreIndex, previous: PreviousSummary | null = null): PreparedSummary {
  const lines: string[] = [];
  const fresh: SummaryRecord[] = [];
  const kept = new Uint8Array(previous?.lines.length ?? 0);
  forEachRecordLine(index.records, (name, line, lineNumber) => {
    const old = line !== null && previous !== null ? previous.lines[lineNumber] : undefined;
    if (old !== undefined && old.startsWith(name, NAME_AT) && old.charCodeAt(NAME_AT + name.length) === 34 /* " */) {
      lines.push(old);
      kept[lineNumber] = 1;
      return;
    }
    const r = summaryRecord(index.records[name]!);
    lines.push(JSON.stringify(r));
    fresh.push(r);
  });
  let soonest: string | null;
  if (previous === null) soonest = soonestExpiry(fresh);
  else {
    const dropped = previous.lines.filter((_, i) => kept[i] === 0).map(expiryOfLine);
    const stands =
      previous.soonest !== null &&
      dropped.every((d) => d !== null && (d.retired || d.notAfter === null || d.notAfter > previous.soonest!));
    const rest = stands
      ? [{ retired: false, notAfter: previous.soonest }]
      : previous.lines.filter((_, i) => kept[i] === 1).map(expiryOfLine);
    soonest = rest.every((r) => r !== null) ? soonestExpiry([...rest, ...fresh]) : null;
  }
  return { soonest, records: lines.length === 0 ? '[]' : `[\n${lines.join(',\n')}\n]` };
}

/** Where a summary line's name starts: after `{"name":"`. */
const NAME_AT = 9;
const NOT_AFTER = '"notAfter":';

/**
 * What soonestExpiry reads of a summary line (JSON.stringify of a SummaryRecord: "name" first; a key is never found
 * inside a string, whose quotes are escaped), or null when it is not such a line.
 */
function expiryOfLine(line: string): Pick<SummaryRecord, 'retired' | 'notAfter'> | null {
  const at = line.indexOf(NOT_AFTER) + NOT_AFTER.length;
  if (at < NOT_AFTER.length || !line.startsWith('{"name":"')) return null;
  const notAfter = line.startsWith('null', at) ? null : line.slice(at + 1, line.indexOf('"', at + 1));
  return { retired: line.includes('"retired":true'), notAfter };
}

/**
 * The summary in expiry.json's text, made from the index file with this stamp, its records a line each as
 * prepareSummary writes them; null when it is not that (as readSummary), or not so laid out (an older version's).
 */
export function summaryLines(text: string, stamp: IndexStamp): PreviousSummary | null {
  const header = summaryHeader(text);
  const start = text.indexOf('\n[\n');
  if (header === null || !sameStamp(header.stamp, stamp) || start < 0 || !text.endsWith('\n]\n')) return null;
  const lines = text.slice(start + 3, -3).split(',\n');
  return { lines, soonest: header.soonest };
}

/** The text of expiry.json for a prepared summary whose index file has `stamp`. */
export function summaryText(prepared: PreparedSummary, stamp: IndexStamp): string {
  const header = { schemaVersion: SUMMARY_SCHEMA_VERSION, index: stamp, soonest: prepared.soonest };
  return `${JSON.stringify(header)}\n${prepared.records}\n`;
}

export const sameStamp = (a: IndexStamp, b: IndexStamp): boolean =>
  a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

/**
 * The stamp of the index file a summary was made from, from its first line (`head`: the text up to the first
 * newline, or more); null when it is not a well-formed header of this version.
 */
export function summaryStamp(head: string): IndexStamp | null {
  return summaryHeader(head)?.stamp ?? null;
}

/** The header of a summary (`head`: its text up to the first newline, or more): its stamp and soonest expiry; null when not well-formed. */
export function summaryHeader(head: string): { stamp: IndexStamp; soonest: string | null } | null {
  const end = head.indexOf('\n');
  let data: { schemaVersion?: unknown; index?: Partial<Record<keyof IndexStamp, unknown>>; soonest?: unknown };
  try {
    data = JSON.parse(end < 0 ? head : head.slice(0, end)) as typeof data;
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null || data.schemaVersion !== SUMMARY_SCHEMA_VERSION) return null;
  const made = data.index;
  if (typeof made !== 'object' || made === null) return null;
  const { ino, size, mtimeNs, ctimeNs } = made;
  if (typeof ino !== 'string' || typeof size !== 'string' || typeof mtimeNs !== 'string' || typeof ctimeNs !== 'string')
    return null;
  const soonest = data.soonest ?? null;
  if (soonest !== null && !(isIsoDate(soonest) && soonest.length === 24)) return null;
  return { stamp: { ino, size, mtimeNs, ctimeNs }, soonest };
}

function isRecord(v: unknown): v is SummaryRecord {
  const r = v as Partial<SummaryRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.name === 'string' &&
    (r.topic === null || typeof r.topic === 'string') &&
    typeof r.retired === 'boolean' &&
    (r.notAfter === null || isIsoDate(r.notAfter)) &&
    (r.owner === null || typeof r.owner === 'string') &&
    (r.note === null || typeof r.note === 'string')
  );
}

/** The records of a summary made from the index file with this stamp; null when it is not that, or not well-formed. */
export function readSummary(text: string, stamp: IndexStamp): SummaryRecord[] | null {
  const made = summaryStamp(text);
  if (made === null || !sameStamp(made, stamp)) return null;
  let records: unknown;
  try {
    records = JSON.parse(text.slice(text.indexOf('\n') + 1));
  } catch {
    return null;
  }
  return Array.isArray(records) && records.every(isRecord) ? records : null;
}
