/**
 * Custody on a PostgreSQL store, through the built CLI: the Apple ID sealed (kind apple-id in the secrets table),
 * revealed after unlocking, in no row in clear; owner and note in show, list --json and check-expiry for the
 * monitor role, which needs no passphrase for them.
 */
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { psql } from '../helpers/postgres.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { initStore, storeEnv, testCluster, testDatabase } from '../helpers/postgres-db.js';

const APPLE_ID = 'push-owner@custody.example';
let db: TestDatabase;

beforeAll(async () => {
  db = testDatabase('custody');
  await initStore(db);
});

it('csr --remember-apple-id --owner --note: sealed, revealed, in no row in clear; owner and note for the monitor', async () => {
  const csr = await runCli(
    ['csr', '--name', 'acme', '--apple-id', APPLE_ID, '--remember-apple-id', '--owner', 'ops@acme.example'].concat([
      '--note',
      'portal: ACME prod',
      '--out',
      join(tempDir(), 'acme.csr'),
    ]),
    { env: storeEnv(db) },
  );
  expect(csr.code, csr.stderr).toBe(0);
  const kinds = psql(testCluster(), db.name, 'SELECT kind FROM apns_cert.secrets ORDER BY kind').trim().split('\n');
  expect(kinds).toEqual(['apple-id', 'private-key']);
  const everything = psql(
    testCluster(),
    db.name,
    "SELECT string_agg(t::text, ' ') FROM (SELECT t::text FROM apns_cert.records t UNION ALL SELECT t::text FROM apns_cert.secrets t UNION ALL SELECT t::text FROM apns_cert.meta t UNION ALL SELECT t::text FROM apns_cert.audit_log t) t",
  );
  expect(everything).toContain('ops@acme.example'); // the search finds what is in clear
  for (const form of [APPLE_ID, Buffer.from(APPLE_ID).toString('base64'), Buffer.from(APPLE_ID).toString('hex')])
    expect(everything).not.toContain(form);

  const revealed = await runCli(['show', 'acme', '--reveal-apple-id', '--json'], { env: storeEnv(db) });
  expect(revealed.code, revealed.stderr).toBe(0);
  expect(JSON.parse(revealed.stdout)).toMatchObject({ appleId: APPLE_ID, owner: 'ops@acme.example' });

  const monitor = storeEnv(db, 'monitor');
  const listed = await runCli(['list', '--json'], { env: monitor });
  expect(listed.code, listed.stderr).toBe(0);
  expect(JSON.parse(listed.stdout).certificates[0]).toMatchObject({
    owner: 'ops@acme.example',
    note: 'portal: ACME prod',
  });
  const shown = await runCli(['show', 'acme'], { env: monitor });
  expect(shown.code, shown.stderr).toBe(0);
  expect(shown.stdout).toContain('ops@acme.example');
  expect(shown.stdout + shown.stderr).not.toContain(APPLE_ID);
  const reveal = await runCli(['show', 'acme', '--reveal-apple-id'], { env: monitor });
  expect(reveal.code).toBe(77);
  expect(reveal.stdout + reveal.stderr).not.toContain(APPLE_ID);
});
