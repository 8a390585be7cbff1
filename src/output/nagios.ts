import type { ExpiryReport } from './expiry-report.js';
import { label, summary } from './expiry-report.js';

// Nagios plugin output, per the Monitoring Plugins Development Guidelines ("Plugin Output" and "Performance data",
// https://nagios-plugins.org/doc/guidelines.html#AEN200): the first line is `TEXT | PERFDATA`, the first `|` of
// the line separating them, so the text itself may hold no `|` and no line break. Perfdata is
// `'label'=value[UOM];[warn];[crit];[min];[max]`, space separated; "label can contain any characters except the
// equals sign or single quote", the single quotes "Required if spaces are in the label", and "to specify a quote
// character, use two single quotes".

const isControl = (c: string) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f;
const escapeControl = (c: string) =>
  c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/** Status text: one line, no `|` (shown as `¦`), control characters escaped. */
function statusText(text: string): string {
  return Array.from(text, (c) => (c === '|' ? '¦' : isControl(c) ? escapeControl(c) : c)).join('');
}

/** A quoted perfdata label: `'` doubled; `=`, `|`, whitespace and control characters become `_`. */
function perfLabel(text: string): string {
  return `'${Array.from(text, (c) => (c === "'" ? "''" : c === '=' || c === '|' || /\s/.test(c) || isControl(c) ? '_' : c)).join('')}'`;
}

/**
 * One Nagios plugin line: `APNS-CERT <STATUS> - <summary> | <perfdata>`, days left per certificate, and with
 * --targets `'<name>/<target> current'` 1 or 0 per target.
 */
export function formatNagios(report: ExpiryReport): string {
  const days = report.certificates
    .map((c) => `${perfLabel(label(c))}=${c.daysRemaining};${report.warnDays}:;${report.criticalDays}:`)
    .join(' ');
  const targets = report.certificates.flatMap((c) =>
    (c.targets ?? []).map(
      (t) => `${perfLabel(`${label(c)}/${t.label} current`)}=${t.state === 'current' ? 1 : 0};;;0;1`,
    ),
  );
  const perf = [days, ...targets].filter((p) => p !== '').join(' ');
  return `APNS-CERT ${report.status.toUpperCase()} - ${statusText(summary(report))}${perf ? ` | ${perf}` : ''}\n`;
}
