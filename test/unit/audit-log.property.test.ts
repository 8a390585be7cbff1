import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_AUDIT_FIELD, auditLine, auditResult, auditText, parseAuditLine } from '../../src/core/audit-log.js';
import type { AuditEntry } from '../../src/core/audit-log.js';
import { escapeControl } from '../../src/output/output.js';

/** Text a field may hold: printable, not empty, not too long. */
const field = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
  .filter((s) => escapeControl(s) === s && s.length <= MAX_AUDIT_FIELD);
const serial = fc.stringMatching(/^[0-9A-F]{1,40}$/);
const exitCode = fc.oneof(fc.constantFrom(0, 1, 64, 65, 69, 73, 75, 77, 130), fc.integer({ min: 0, max: 255 }));

const entry: fc.Arbitrary<AuditEntry> = fc
  .record(
    {
      at: fc
        .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59.999Z'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      user: field,
      host: field,
      command: field,
      record: fc.option(field, { nil: null }),
      exitCode,
      serialNumber: serial,
      topic: field,
      message: field,
    },
    { requiredKeys: ['at', 'user', 'host', 'command', 'record', 'exitCode'] },
  )
  .map((e) => ({ ...e, result: auditResult(e.exitCode) }));

/** The line of an entry with one field set to `value` (given as JSON, so it may be anything). */
const withField = (e: AuditEntry, key: string, value: unknown) => JSON.stringify({ ...e, [key]: value });

describe('parseAuditLine (property)', () => {
  it('reads back every entry auditLine writes, and only that', () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(parseAuditLine(auditLine(e))).toEqual(e);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws, whatever the line', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' })), (line) => {
        const parsed = parseAuditLine(line);
        if (parsed !== null) expect(parseAuditLine(auditLine(parsed))).toEqual(parsed);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses a torn line: no strict prefix of an entry is an entry', () => {
    fc.assert(
      fc.property(entry, fc.nat(), (e, cut) => {
        const line = auditLine(e);
        expect(parseAuditLine(line.slice(0, cut % line.length))).toBeNull();
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses control and invisible characters in any text field', () => {
    const unsafe = fc.constantFrom('\u0000', '\u001b', '\n', '\r', '\u007f', '\u009b', '\u202e', '\u2028', '\ufeff');
    const key = fc.constantFrom('user', 'host', 'command', 'record', 'topic', 'message');
    fc.assert(
      fc.property(entry, key, field, unsafe, (e, k, text, bad) => {
        expect(parseAuditLine(withField(e, k, `${text}${bad}`))).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses unknown keys, a missing key, wrong types, a result that is not the exit code’s, a bad date or serial', () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(parseAuditLine(withField(e, 'extra', 1))).toBeNull();
        const noUser: Partial<AuditEntry> = { ...e };
        delete noUser.user;
        expect(parseAuditLine(JSON.stringify(noUser))).toBeNull();
        expect(parseAuditLine(withField(e, 'exitCode', String(e.exitCode)))).toBeNull();
        expect(parseAuditLine(withField(e, 'exitCode', e.exitCode + 0.5))).toBeNull();
        expect(parseAuditLine(withField(e, 'exitCode', 256))).toBeNull();
        expect(parseAuditLine(withField(e, 'result', e.result === 'ok' ? 'failed' : 'ok'))).toBeNull();
        expect(parseAuditLine(withField(e, 'at', e.at.replace('Z', '+00:00')))).toBeNull();
        expect(parseAuditLine(withField(e, 'serialNumber', 'not hex'))).toBeNull();
        expect(parseAuditLine(withField(e, 'record', ''))).toBeNull();
        expect(parseAuditLine(withField(e, 'topic', null))).toBeNull();
      }),
      { numRuns: 500 },
    );
    expect(parseAuditLine('[]')).toBeNull();
    expect(parseAuditLine('null')).toBeNull();
    expect(parseAuditLine(withField(entryOf(0), 'at', '2026-02-30T00:00:00.000Z'))).toBeNull();
  });

  it('refuses a huge line without parsing it, and a field longer than the limit', () => {
    const e = entryOf(0);
    expect(parseAuditLine(withField(e, 'message', 'x'.repeat(10_000)))).toBeNull();
    expect(parseAuditLine(withField(e, 'message', 'x'.repeat(MAX_AUDIT_FIELD + 1)))).toBeNull();
    expect(parseAuditLine(withField(e, 'message', 'x'.repeat(MAX_AUDIT_FIELD)))).not.toBeNull();
  });
});

function entryOf(exit: number): AuditEntry {
  return {
    at: '2026-12-01T10:00:00.000Z',
    user: 'admin',
    host: 'mdm1',
    command: 'import',
    record: 'acme',
    result: auditResult(exit),
    exitCode: exit,
  };
}

describe('auditResult and auditText', () => {
  it('ok is exit 0, refused exit 1 or 77, failed any other', () => {
    expect([0, 1, 77, 64, 65, 69, 70, 73, 75, 130].map(auditResult)).toEqual([
      'ok',
      'refused',
      'refused',
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
    ]);
  });
  it('one line: at, user@host, command, record, result, then serial, topic, exit code and message', () => {
    expect(auditText({ ...entryOf(0), serialNumber: '0A', topic: 'com.apple.mgmt.External.x' })).toBe(
      '2026-12-01T10:00:00.000Z  admin@mdm1  import  acme  ok  serial 0A  topic com.apple.mgmt.External.x',
    );
    expect(auditText({ ...entryOf(1), record: null, message: 'import x: another topic' })).toBe(
      '2026-12-01T10:00:00.000Z  admin@mdm1  import  -  refused  exit 1  import x: another topic',
    );
    expect(auditText(entryOf(0))).toBe('2026-12-01T10:00:00.000Z  admin@mdm1  import  acme  ok  -');
  });
});

describe('which commands are logged', () => {
  it('exactly the commands that change the store; deploy unless --dry-run or --check', async () => {
    (globalThis as Record<string, unknown>).APNS_CERT_VERSION ??= '0.0.0-test';
    const { COMMANDS } = await import('../../src/cli/main.js');
    const words = (m: (typeof COMMANDS)[number]) => [m.name, m.subcommand].filter(Boolean).join(' ');
    const logged = COMMANDS.filter((m) => m.changesStore !== undefined).map(words);
    expect(logged.sort()).toEqual(
      [
        'csr',
        'import',
        'renew',
        'retire',
        'store upgrade',
        'store init',
        'store copy',
        'vendor import',
        'vendor remove',
        'target add',
        'target remove',
        'deploy',
      ].sort(),
    );
    const deploy = COMMANDS.find((m) => m.name === 'deploy')!;
    expect(deploy.changesStore!({ check: false, dryRun: true } as never)).toBe(false);
    expect(deploy.changesStore!({ check: true } as never)).toBe(false);
    expect(deploy.changesStore!({ check: false, dryRun: false } as never)).toBe(true);
  });
});
