import type { AuditEntry, AuditFilter } from '../../core/audit-log.js';

/** The INSERT of one entry into the audit log (table `table`, schema.ts). */
export function appendStatement(table: string, entry: AuditEntry): { sql: string; values: unknown[] } {
  return {
    sql: `INSERT INTO ${table} (at, os_user, host, command, record, result, exit_code, serial_number, topic, message)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    values: [
      entry.at,
      entry.user,
      entry.host,
      entry.command,
      entry.record,
      entry.result,
      entry.exitCode,
      entry.serialNumber ?? null,
      entry.topic ?? null,
      entry.message ?? null,
    ],
  };
}

/** A row of the audit log as node-postgres gives it. */
export interface AuditRow {
  at: Date;
  os_user: string;
  host: string;
  command: string;
  record: string | null;
  result: AuditEntry['result'];
  exit_code: number;
  serial_number: string | null;
  topic: string | null;
  message: string | null;
}

/** The SELECT of the entries `filter` asks for, oldest first. */
export function readStatement(table: string, filter: AuditFilter): { sql: string; values: unknown[] } {
  return {
    sql: `SELECT at, os_user, host, command, record, result, exit_code, serial_number, topic, message
          FROM ${table}
          WHERE ($1::text IS NULL OR record = $1) AND ($2::timestamptz IS NULL OR at >= $2)
          ORDER BY at, id`,
    values: [filter.record ?? null, filter.since?.toISOString() ?? null],
  };
}

export function entryOfRow(r: AuditRow): AuditEntry {
  return {
    at: r.at.toISOString(),
    user: r.os_user,
    host: r.host,
    command: r.command,
    record: r.record,
    result: r.result,
    exitCode: r.exit_code,
    ...(r.serial_number === null ? {} : { serialNumber: r.serial_number }),
    ...(r.topic === null ? {} : { topic: r.topic }),
    ...(r.message === null ? {} : { message: r.message }),
  };
}
