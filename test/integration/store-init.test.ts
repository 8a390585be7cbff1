/** `store init` on a directory store, and `--print-grants` (which needs no server). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasStackTrace, tempDir } from '../helpers/cli.js';
import { inProcessEnv, runInProcess } from '../helpers/in-process.js';

describe('store init on a directory', () => {
  it('makes the store and its master key once; the second run changes nothing and exits 0', async () => {
    const dir = join(tempDir(), 'store');
    const env = inProcessEnv({ APNS_CERT_STORE: dir });
    let r = await runInProcess(['store', 'init'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^created the store .+ \(store id [0-9a-f-]{36}\)$/m);
    const index = readFileSync(join(dir, 'index.json'), 'utf8');
    expect(existsSync(join(dir, 'master-key.json'))).toBe(true);
    r = await runInProcess(['store', 'init', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      schemaVersion: 1,
      store: dir,
      created: false,
      upgradedFrom: null,
      storeId: JSON.parse(index).storeId,
    });
    expect(readFileSync(join(dir, 'index.json'), 'utf8')).toBe(index);
  });
});

describe('store init --print-grants', () => {
  it('prints the SQL of the admin and monitor roles for the schema of the store URL, connecting to nothing', async () => {
    const env = inProcessEnv({ APNS_CERT_STORE: 'postgres://owner@127.0.0.1:1/mdm?schema=tenant_a' });
    const r = await runInProcess(['store', 'init', '--print-grants', 'apns_admin', 'apns_monitor'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('GRANT USAGE ON SCHEMA "tenant_a" TO "apns_admin", "apns_monitor";');
    expect(r.stdout).toContain(
      'GRANT SELECT ON "tenant_a".schema_version, "tenant_a".meta, "tenant_a".records, "tenant_a".certificates, "tenant_a".vendor_chains TO "apns_monitor";',
    );
    expect(r.stdout).toContain('GRANT SELECT, INSERT ON "tenant_a".audit_log TO "apns_admin";');
    expect(r.stdout).not.toMatch(/(UPDATE|DELETE)[^;]*audit_log/);
    expect(r.stdout).not.toMatch(/GRANT [^;]*"tenant_a"\.(secrets|vault)[^;]*TO "apns_monitor"/);
  });

  it.each([[['apns_admin']], [['a', 'b', 'c']], [['apns_admin', 'bad"name']]])(
    'takes exactly two role names (%j: 64)',
    async (roles) => {
      const r = await runInProcess(['store', 'init', '--print-grants', ...roles]);
      expect(r.code).toBe(64);
      expect(r.stderr).toContain('it takes two role names, the admin role and the monitor role');
      expect(hasStackTrace(r.stderr)).toBe(false);
    },
  );
});
