import type { ExpiryReport } from './expiry-report.js';
import { label, summary } from './expiry-report.js';

function perfLabel(text: string): string {
  return `'${text.replace(/'/g, "''").replace(/[=\s]/g, '_')}'`;
}

/** One Nagios plugin line: `APNS-CERT <STATUS> - <summary> | <perfdata>`, days left per certificate. */
export function formatNagios(report: ExpiryReport): string {
  const perf = report.certificates.map((c) => `${perfLabel(label(c))}=${c.daysRemaining};${report.warnDays}:;${report.criticalDays}:`).join(' ');
  return `APNS-CERT ${report.status.toUpperCase()} - ${summary(report)}${perf ? ` | ${perf}` : ''}\n`;
}
