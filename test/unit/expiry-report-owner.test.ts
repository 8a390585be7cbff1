import { describe, expect, it } from 'vitest';
import { formatText, summary } from '../../src/output/expiry-report.js';
import type { ExpiryReport } from '../../src/output/expiry-report.js';

const plain = (t: string) => t;
const paint = { ok: plain, warning: plain, critical: plain, unknown: plain };

function report(owner: string | null): ExpiryReport {
  const cert = (name: string, status: 'ok' | 'warning' | 'critical', days: number) => ({
    name,
    topic: `com.apple.mgmt.External.${name}`,
    notAfter: '2027-01-01T00:00:00.000Z',
    daysRemaining: days,
    status,
    owner,
    note: 'a note',
  });
  return {
    status: 'critical',
    checkedAt: '2026-12-01T00:00:00.000Z',
    warnDays: 30,
    criticalDays: 7,
    certificates: [cert('crit', 'critical', 3), cert('warn', 'warning', 20), cert('fine', 'ok', 200)],
    errors: [],
  };
}

describe('the expiry report names the owner of a certificate that needs attention', () => {
  it('text: on a WARNING or CRITICAL line, not on an OK one; never the note', () => {
    const lines = formatText(report('it-mdm@acme.example'), paint).split('\n');
    expect(lines[1]).toMatch(/^ {2}CRITICAL crit .* 3 days left {2}owner it-mdm@acme\.example$/);
    expect(lines[2]).toMatch(/^ {2}WARNING +warn .* 20 days left {2}owner it-mdm@acme\.example$/);
    expect(lines[3]).toMatch(/^ {2}OK +fine .* 200 days left$/);
    expect(lines.join('\n')).not.toContain('a note');
  });
  it('text: nothing when there is no owner; an owner with a control character is escaped', () => {
    expect(formatText(report(null), paint)).not.toContain('owner');
    const text = formatText(report('evil\u001b[2J\u202e'), paint);
    expect(text).toContain('owner evil\\x1b[2J\\u{202e}');
    expect(text).not.toContain('\u001b');
  });
  it('summary (the webhook text and the nagios line): the owner beside each certificate that needs attention', () => {
    expect(summary(report('it@acme.example'))).toBe(
      'crit expires 2027-01-01 (3 days left), owner it@acme.example; warn expires 2027-01-01 (20 days left), owner it@acme.example',
    );
  });
});
