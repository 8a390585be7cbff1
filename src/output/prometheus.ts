import type { CertStatus } from '../core/expiry.js';
import type { ExpiryReport } from './expiry-report.js';
import { label } from './expiry-report.js';
import { escapeControl } from './output.js';

const STATUS_VALUE: Record<CertStatus, number> = { ok: 0, warning: 1, critical: 2 };

/**
 * The exposition format's own escapes (\\, \", and \n for a line break); any other control character is written
 * out first, as on a terminal (the format has no escape for it, and stdout must stay free of them).
 */
function escapeLabel(value: string): string {
  return value
    .split('\n')
    .map((part) => escapeControl(part).replace(/\\/g, '\\\\').replace(/"/g, '\\"'))
    .join('\\n');
}

/** With --targets: apns_cert_target_current{name,target} 1 when the target runs the active certificate, else 0. */
function targetMetric(report: ExpiryReport): string[] {
  if (!report.certificates.some((c) => c.targets !== undefined)) return [];
  return [
    "# HELP apns_cert_target_current 1 when the target runs the record's active certificate; 0 when stale, foreign or unknown.",
    '# TYPE apns_cert_target_current gauge',
    ...report.certificates.flatMap((c) =>
      (c.targets ?? []).map(
        (t) =>
          `apns_cert_target_current{name="${escapeLabel(label(c))}",target="${escapeLabel(t.label)}"} ${t.state === 'current' ? 1 : 0}`,
      ),
    ),
  ];
}

/** node_exporter textfile-collector format: one series per certificate, plus apns_cert_check_success. */
export function formatPrometheus(report: ExpiryReport): string {
  const checkedAt = Date.parse(report.checkedAt);
  const series = report.certificates.map((c) => ({
    labels: `{name="${escapeLabel(label(c))}",topic="${escapeLabel(c.topic ?? '')}"}`,
    notAfter: Math.round(Date.parse(c.notAfter) / 1000),
    expiresIn: Math.round((Date.parse(c.notAfter) - checkedAt) / 1000),
    status: STATUS_VALUE[c.status],
  }));
  const metric = (name: string, help: string, value: (s: (typeof series)[number]) => number) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...series.map((s) => `${name}${s.labels} ${value(s)}`),
  ];
  return `${[
    ...metric(
      'apns_cert_not_after_timestamp_seconds',
      'When the APNs certificate expires (notAfter), as a Unix timestamp.',
      (s) => s.notAfter,
    ),
    ...metric(
      'apns_cert_expires_in_seconds',
      'Seconds until the APNs certificate expires (negative once expired).',
      (s) => s.expiresIn,
    ),
    ...metric(
      'apns_cert_status',
      'Expiry status of the APNs certificate: 0 ok, 1 warning, 2 critical.',
      (s) => s.status,
    ),
    ...targetMetric(report),
    '# HELP apns_cert_check_success 1 when every certificate could be checked, else 0.',
    '# TYPE apns_cert_check_success gauge',
    `apns_cert_check_success ${report.errors.length === 0 && report.status !== 'unknown' ? 1 : 0}`,
  ].join('\n')}\n`;
}
