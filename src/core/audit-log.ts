/** One entry of a store's audit log: a change, or a refused or failed one (file store: audit.jsonl; PostgreSQL: audit_log). */
export interface AuditEntry {
  /** ISO-8601 UTC. */
  at: string;
  /** The OS user and host that ran the command. */
  user: string;
  host: string;
  command: string;
  record: string | null;
  result: 'ok' | 'refused' | 'failed';
  exitCode: number;
  serialNumber?: string;
  topic?: string;
  message?: string;
}

/** Which entries `readLog` returns: those of one record, those since a moment (both: both). */
export interface AuditFilter {
  record?: string;
  since?: Date;
}
