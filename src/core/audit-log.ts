/**
 * The audit log's entry: one per command that changes the store, whatever its outcome, kept by the store
 * (Store.appendLog / readLog). The same shape on every backend; in the file store one JSON object per line.
 */
import { UNSAFE_TEXT } from './unsafe-text.js';
export interface AuditEntry {
  /** When the command ended: ISO-8601 UTC, as toISOString writes it. */
  at: string;
  /** The OS user and host that ran it. */
  user: string;
  host: string;
  /** The command words: `import`, `target add`. */
  command: string;
  /** The record it changed or tried to change, when it names one. */
  record: string | null;
  /** ok: exit 0; refused: exit 1 or 77 (a check said no: another topic, a wrong passphrase); failed: any other. */
  result: 'ok' | 'refused' | 'failed';
  exitCode: number;
  /** The certificate concerned (imported, offered, deployed), upper-case hex as the index writes it. */
  serialNumber?: string;
  topic?: string;
  /** The first line of the error, for a command that did not succeed. */
  message?: string;
}

export type AuditResult = AuditEntry['result'];

/**
 * Longest line (in UTF-16 code units, as JSON text) the log writes or reads back; a longer one is not an entry.
 * Ample for entries of MAX_AUDIT_FIELD-long fields even when JSON doubles each character (`"`, `\\`).
 */
export const MAX_AUDIT_LINE = 16384;
/** Longest text field; `message` is cut to this when an entry is made. */
export const MAX_AUDIT_FIELD = 512;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SERIAL = /^[0-9A-F]{1,128}$/;
const KEYS = new Set([
  'at',
  'user',
  'host',
  'command',
  'record',
  'result',
  'exitCode',
  'serialNumber',
  'topic',
  'message',
]);
const REQUIRED = ['at', 'user', 'host', 'command', 'record', 'result', 'exitCode'];

/** How an exit code reads in the log. */
export function auditResult(exitCode: number): AuditResult {
  if (exitCode === 0) return 'ok';
  return exitCode === 1 || exitCode === 77 ? 'refused' : 'failed';
}

/** A text field as the log keeps it: no control or invisible characters, not empty, at most MAX_AUDIT_FIELD long. */
const isText = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_AUDIT_FIELD && !UNSAFE_TEXT.test(v);

/** The entry a line of the log holds, or null when the line is not exactly one valid entry (torn, edited, hostile). */
export function parseAuditLine(line: string): AuditEntry | null {
  if (line.length === 0 || line.length > MAX_AUDIT_LINE) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  if (!Object.keys(o).every((k) => KEYS.has(k)) || !REQUIRED.every((k) => k in o)) return null;
  const at = o.at;
  if (typeof at !== 'string' || !ISO_UTC.test(at) || new Date(at).toISOString() !== at) return null;
  if (!isText(o.user) || !isText(o.host) || !isText(o.command)) return null;
  if (o.record !== null && !isText(o.record)) return null;
  const exitCode = o.exitCode;
  if (typeof exitCode !== 'number' || !Number.isInteger(exitCode) || exitCode < 0 || exitCode > 255) return null;
  if (o.result !== auditResult(exitCode)) return null;
  if ('serialNumber' in o && !(typeof o.serialNumber === 'string' && SERIAL.test(o.serialNumber))) return null;
  if ('topic' in o && !isText(o.topic)) return null;
  if ('message' in o && !isText(o.message)) return null;
  const entry: AuditEntry = {
    at,
    user: o.user,
    host: o.host,
    command: o.command,
    record: o.record as string | null,
    result: o.result as AuditResult,
    exitCode,
  };
  if (typeof o.serialNumber === 'string') entry.serialNumber = o.serialNumber;
  if (typeof o.topic === 'string') entry.topic = o.topic;
  if (typeof o.message === 'string') entry.message = o.message;
  return entry;
}

/** The line of the log for an entry (no newline), its keys always in the same order. */
export function auditLine(entry: AuditEntry): string {
  const { at, user, host, command, record, result, exitCode, serialNumber, topic, message } = entry;
  return JSON.stringify({ at, user, host, command, record, result, exitCode, serialNumber, topic, message });
}

/** Whether an entry is one `log [name] [--since]` shows. */
export function auditMatches(entry: AuditEntry, filter: AuditFilter): boolean {
  if (filter.record !== undefined && entry.record !== filter.record) return false;
  return filter.since === undefined || new Date(entry.at).getTime() >= filter.since.getTime();
}

/** `log`'s text line: `<at>  <user>@<host>  <command>  <record>  <result>  <serial/topic/message>`. */
export function auditText(entry: AuditEntry): string {
  const details = [
    entry.serialNumber === undefined ? '' : `serial ${entry.serialNumber}`,
    entry.topic === undefined ? '' : `topic ${entry.topic}`,
    entry.result === 'ok' ? '' : `exit ${entry.exitCode}`,
    entry.message ?? '',
  ].filter((s) => s !== '');
  return [
    entry.at,
    `${entry.user}@${entry.host}`,
    entry.command,
    entry.record ?? '-',
    entry.result,
    details.join('  ') || '-',
  ].join('  ');
}

/** Which entries `readLog` returns: those of one record, those since a moment (both: both); `onSkipped` hears of lines left out. */
export interface AuditFilter {
  record?: string;
  since?: Date;
  onSkipped?: (problem: string) => void;
}
