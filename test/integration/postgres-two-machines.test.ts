/**
 * Two "machines" (two processes with their own HOME and XDG directories, no D-Bus) share one PostgreSQL store and
 * change the same records at the same moment, 20 rounds: a renewal imported by both at once, a certificate of
 * another topic offered for it, and a new record whose first certificate comes in two topics from the two sides.
 * Every change acknowledged with exit 0 is in the store exactly once; the loser of an "already imported" race is
 * refused, never a duplicate; a certificate of another topic is refused, also when the other side's import landed first.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { testDatabase } from '../helpers/postgres-db.js';

const ROUNDS = 20;
const ca = createFakeCa();
const NOW = new Date();
const APPLE_ID = 'mdm@acme.example';
const sharedTopic = mdmTopic();

let db: TestDatabase;
let work: string;
const machines: Record<'a' | 'b', NodeJS.ProcessEnv> = { a: {}, b: {} };

function machine(label: string): NodeJS.ProcessEnv {
  const home = tempDir(`apns-cert-machine-${label}-`);
  for (const dir of ['data', 'config', 'cache', 'runtime']) mkdirSync(join(home, dir), { mode: 0o700 });
  return cleanEnv({
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_RUNTIME_DIR: join(home, 'runtime'),
    DBUS_SESSION_BUS_ADDRESS: undefined,
    USER: `admin-${label}`,
    APNS_CERT_STORE: db.adminUrl,
    PGPASSWORD: db.password,
    APNS_CERT_PASSPHRASE: 'the team passphrase',
    // both sides wait for each other: a 75 here would be a lock held too long, not a race lost
    APNS_CERT_LOCK_WAIT_MS: '60000',
  });
}

async function on(side: 'a' | 'b', ...args: string[]): Promise<CliResult> {
  const r = await runCli(args, { env: machines[side], cwd: work });
  expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
  return r;
}

const show = async (name: string) => {
  const r = await on('a', 'show', name, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { topic: string | null; history: Array<{ serialNumber: string }> };
};

/** The serial number of a PEM certificate, as show --json prints it. */
async function serialOf(pem: string): Promise<string> {
  const { X509Certificate } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  return new X509Certificate(readFileSync(pem)).serialNumber;
}

beforeAll(async () => {
  db = testDatabase('machines');
  work = tempDir();
  machines.a = machine('a');
  machines.b = machine('b');
  expect((await on('a', 'store', 'init')).code).toBe(0);
  // the record both renew: its first certificate
  expect(
    (await on('a', 'csr', '--name', 'shared', '--apple-id', APPLE_ID, '--out', join(work, 'shared.csr'))).code,
  ).toBe(0);
  signCsrFile(ca, join(work, 'shared.csr'), join(work, 'shared.pem'), {
    topic: sharedTopic,
    notBefore: daysFrom(NOW, -300),
    notAfter: daysFrom(NOW, 60),
  });
  const r = await on('b', 'import', join(work, 'shared.pem'));
  expect(r.code, r.stderr).toBe(0);
});

describe('two machines change the same records at once', () => {
  it(`${ROUNDS} rounds: every acknowledged change is there once, no duplicate, the topic check held`, async () => {
    const renewed: string[] = [await serialOf(join(work, 'shared.pem'))];
    const expected = new Map<string, { topic: string; serials: string[] }>();
    const outcomes = { renewWinner: { a: 0, b: 0 }, newWinner: { a: 0, b: 0 } };
    for (let round = 0; round < ROUNDS; round++) {
      const fresh = `new-${round}`;
      // the two sides start a renewal and a new record at the same moment
      const [renew, csr] = await Promise.all([
        on('a', 'renew', 'shared', '--apple-id', APPLE_ID, '--csr-out', join(work, `r${round}.csr`), '--json'),
        on('b', 'csr', '--name', fresh, '--out', join(work, `${fresh}.csr`)),
      ]);
      expect(renew.code, renew.stderr).toBe(0);
      expect(csr.code, csr.stderr).toBe(0);
      // Apple signs the renewal CSR (the record's topic) and, by mistake, once more for another topic
      const renewal = signCsrFile(ca, join(work, `r${round}.csr`), join(work, `r${round}.pem`), {
        topic: sharedTopic,
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 365 + round),
      });
      const otherTopic = signCsrFile(ca, join(work, `r${round}.csr`), join(work, `r${round}-other.pem`), {
        topic: mdmTopic(),
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 365 + round),
      });
      // the new record's CSR signed twice, for two topics: one per machine
      const topics = { a: mdmTopic(), b: mdmTopic() };
      const firsts = {
        a: signCsrFile(ca, join(work, `${fresh}.csr`), join(work, `${fresh}-a.pem`), {
          topic: topics.a,
          notBefore: daysFrom(NOW, -1),
          notAfter: daysFrom(NOW, 365),
        }),
        b: signCsrFile(ca, join(work, `${fresh}.csr`), join(work, `${fresh}-b.pem`), {
          topic: topics.b,
          notBefore: daysFrom(NOW, -1),
          notAfter: daysFrom(NOW, 365),
        }),
      };
      // the other topic sometimes starts first, sometimes after the renewal landed
      const late = round % 2 === 0 ? 0 : 400;
      const [renewA, renewB, wrong, newA, newB] = await Promise.all([
        on('a', 'import', renewal, '--name', 'shared'),
        on('b', 'import', renewal, '--name', 'shared'),
        new Promise<CliResult>((resolve) =>
          setTimeout(() => resolve(on(round % 4 < 2 ? 'a' : 'b', 'import', otherTopic, '--name', 'shared')), late),
        ),
        on('a', 'import', firsts.a),
        on('b', 'import', firsts.b),
      ]);
      const context = `round ${round}:\n${[renewA, renewB, wrong, newA, newB].map((r) => `${r.code} ${r.stderr}`).join('\n')}`;

      // the renewal: imported once, the other side told it is already there
      expect([renewA.code, renewB.code].sort(), context).toEqual([0, 65]);
      expect([renewA, renewB].find((r) => r.code === 65)!.stderr, context).toMatch(/already/i);
      outcomes.renewWinner[renewA.code === 0 ? 'a' : 'b']++;
      // another topic: refused whoever came first
      expect(wrong.code, context).toBe(1);
      expect(wrong.stderr, context).toMatch(/topic/i);
      renewed.push(await serialOf(renewal));

      // the new record: one topic won, the other was judged against it
      expect(
        [newA.code, newB.code].filter((c) => c === 0),
        context,
      ).toHaveLength(1);
      const winner = newA.code === 0 ? 'a' : 'b';
      const loser = winner === 'a' ? newB : newA;
      expect(loser.code, context).toBe(1);
      expect(loser.stderr, context).toMatch(/topic/i);
      outcomes.newWinner[winner]++;
      expected.set(fresh, { topic: topics[winner], serials: [await serialOf(firsts[winner])] });
    }
    // what every acknowledged import left: in the history once, nothing a refused one offered
    expected.set('shared', { topic: sharedTopic, serials: renewed });
    const names = [...expected.keys()];
    for (let i = 0; i < names.length; i += 4)
      await Promise.all(
        names.slice(i, i + 4).map(async (name) => {
          const record = await show(name);
          expect(record.topic, name).toBe(expected.get(name)!.topic);
          expect(record.history.map((h) => h.serialNumber).sort(), name).toEqual(
            [...expected.get(name)!.serials].sort(),
          );
        }),
      );
    const listed = JSON.parse((await on('b', 'list', '--json')).stdout) as { certificates: Array<{ name: string }> };
    expect(listed.certificates.map((c) => c.name).sort()).toEqual(
      ['shared', ...Array.from({ length: ROUNDS }, (_, i) => `new-${i}`)].sort(),
    );
    // both sides won races: the two machines really raced (not one always before the other)
    expect(outcomes.renewWinner.a + outcomes.newWinner.a, JSON.stringify(outcomes)).toBeGreaterThan(0);
    expect(outcomes.renewWinner.b + outcomes.newWinner.b, JSON.stringify(outcomes)).toBeGreaterThan(0);
  }, 240_000);
});
