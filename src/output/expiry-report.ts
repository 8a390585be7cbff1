import type { CertStatus, CheckStatus } from '../core/expiry.js';
import { JSON_SCHEMA_VERSION, daysText, escapeControl, jsonText, shortDate } from './output.js';

/** What check-expiry found, in the shape of its --json output (a contract). */
export interface ExpiryReport {
  status: CheckStatus;
  checkedAt: string;
  warnDays: number;
  criticalDays: number;
  certificates: Array<{
    name: string | null;
    file?: string;
    topic: string | null;
    notAfter: string;
    daysRemaining: number;
    status: CertStatus;
    /** A store record's owner and note, in clear (null for a file, or when not given). */
    owner: string | null;
    note: string | null;
    /** Only with `check-expiry --targets`: what each of the record's targets runs (as deploy --check says). */
    targets?: ReportTarget[];
  }>;
  errors: Array<{ source: string; message: string }>;
}

export interface ReportTarget {
  label: string;
  kind: string;
  state: 'current' | 'stale' | 'foreign' | 'unknown';
  message: string;
}

export type Painter = Record<CheckStatus, (text: string) => string>;

export const label = (c: ExpiryReport['certificates'][number]) => c.name ?? c.file ?? '?';

/** A warning or critical certificate's owner, for the line that names it: who to ask. */
const ownerText = (c: ExpiryReport['certificates'][number]) =>
  c.status === 'ok' || c.owner === null ? '' : `  owner ${escapeControl(c.owner)}`;

export function formatJson(report: ExpiryReport): string {
  return `${jsonText({ schemaVersion: JSON_SCHEMA_VERSION, ...report })}\n`;
}

export function formatText(report: ExpiryReport, paint: Painter): string {
  const n = report.certificates.length;
  const lines = [
    `${paint[report.status](report.status.toUpperCase())}: ${n} certificate${n === 1 ? '' : 's'} checked${report.errors.length > 0 ? `, ${report.errors.length} could not be` : ''}`,
  ];
  // file names, topics and messages are escaped here: a newline in one must not start a line of its own
  for (const p of report.errors)
    lines.push(`  ${paint.unknown('UNKNOWN'.padEnd(8))} ${escapeControl(`${p.source}: ${p.message}`)}`);
  for (const c of report.certificates) {
    lines.push(
      `  ${paint[c.status](c.status.toUpperCase().padEnd(8))} ${escapeControl(`${label(c)}  ${c.topic ?? '(no topic)'}`)}  ${shortDate(c.notAfter)}  ${daysText(c.daysRemaining)}${ownerText(c)}`,
    );
    for (const t of c.targets ?? [])
      lines.push(`           target ${escapeControl(`${t.label} (${t.kind})  ${t.state}  ${t.message}`)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** One line for a chat message or a mail subject. */
export function summary(report: ExpiryReport): string {
  const bad = report.certificates.filter((c) => c.status !== 'ok');
  const parts = [
    ...report.errors.map((e) => `${e.source}: ${e.message}`),
    ...bad.map(
      (c) =>
        `${label(c)} ${c.daysRemaining < 0 ? 'expired' : 'expires'} ${shortDate(c.notAfter)} (${daysText(c.daysRemaining)})${c.owner === null ? '' : `, owner ${c.owner}`}`,
    ),
    ...report.certificates.flatMap((c) =>
      (c.targets ?? [])
        .filter((t) => t.state !== 'current')
        .map((t) => `${label(c)} target ${t.label} ${t.state}: ${t.message}`),
    ),
  ];
  if (parts.length === 0) {
    const soonest = report.certificates[0];
    return `${report.certificates.length} certificate(s) OK${soonest ? `, soonest ${label(soonest)} in ${soonest.daysRemaining} days` : ''}`;
  }
  return parts.join('; ');
}
