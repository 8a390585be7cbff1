/** How main.ts makes the entry of a command that changed the store (src/cli/audit.ts), on a real file store. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditNotebook, recordChange } from '../../src/cli/audit.js';
import { MAX_AUDIT_FIELD, parseAuditLine } from '../../src/core/audit-log.js';
import { AppError } from '../../src/errors.js';
import { retire } from '../../src/commands/retire/definition.js';
import type { CommandDefinition } from '../../src/commands/kit.js';
import { inProcessEnv, runInProcess } from '../helpers/in-process.js';
import { makeDeps } from '../helpers/deps.js';
import { tempDir } from '../helpers/cli.js';

const NOW = new Date('2026-12-01T10:00:00.000Z');

async function storeWithIndex(): Promise<string> {
  const env = inProcessEnv();
  const r = await runInProcess(['csr', '--name', 'acme', '--out', join(tempDir(), 'a.csr')], { env });
  expect(r.code, r.stderr).toBe(0);
  return env.APNS_CERT_STORE!;
}

describe('recordChange', () => {
  it('an error message: its first line only, control characters escaped, cut to the field limit; notes override', async () => {
    const store = await storeWithIndex();
    const deps = makeDeps({ storeDir: store, now: NOW });
    const notebook = new AuditNotebook();
    notebook.note({ record: 'chosen', serialNumber: '0A1B', topic: undefined });
    notebook.note({ topic: 'com.apple.mgmt.External.\u001b[31mx\ud800' });
    const error = new AppError('BAD_INPUT', `import x: \u001b]0;title\u0007${'"'.repeat(4000)}\nsecond line`);
    await recordChange(
      { mod: retire as CommandDefinition<never>, options: { name: 'given' }, deps, notebook },
      { exitCode: 65, error },
      { USER: 'nobody' },
      deps.out,
    );
    const lines = readFileSync(join(store, 'audit.jsonl'), 'utf8').trimEnd().split('\n');
    const entry = parseAuditLine(lines.at(-1)!)!;
    expect(entry).not.toBeNull();
    expect(entry).toMatchObject({
      at: NOW.toISOString(),
      command: 'retire',
      record: 'chosen',
      result: 'failed',
      exitCode: 65,
      serialNumber: '0A1B',
      topic: 'com.apple.mgmt.External.\\x1b[31mx\ufffd',
    });
    expect(entry.message!.startsWith('import x: \\x1b]0;title\\x07"""')).toBe(true);
    expect(entry.message!.length).toBe(MAX_AUDIT_FIELD);
    expect(entry.message!.endsWith('…')).toBe(true);
    expect(entry.message).not.toContain('second line');
    expect(deps.stderr()).toBe('');
  });

  it('no store: nothing written, nothing created', async () => {
    const dir = join(tempDir(), 'none');
    const deps = makeDeps({ storeDir: dir, now: NOW });
    await recordChange(
      { mod: retire as CommandDefinition<never>, options: { name: 'x' }, deps, notebook: new AuditNotebook() },
      { exitCode: 0 },
      {},
      deps.out,
    );
    expect(deps.stderr()).toBe('');
    expect(() => readFileSync(join(dir, 'audit.jsonl'))).toThrow(/ENOENT/);
  });
});
