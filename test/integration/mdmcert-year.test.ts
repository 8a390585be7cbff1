/**
 * The self-hosted year end to end with the built CLI (spawned): csr --via mdmcert → decrypt the mailed file →
 * sign as "Apple" → import → renew (scripted) → decrypt → import with the same topic. mdmcert.download is the
 * loopback fake (test/helpers/fake-mdmcert.ts).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StoreIndex } from '../../src/core/index-model.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signPushRequestFile } from '../helpers/fake-apple.js';
import { startFakeMdmcert } from '../helpers/fake-mdmcert.js';
import type { FakeMdmcert } from '../helpers/fake-mdmcert.js';

const API_KEY = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const ca = createFakeCa();
const topic = mdmTopic();
let fake: FakeMdmcert;
let mailbox: string;

beforeAll(async () => {
  mailbox = tempDir('apns-mailbox-');
  fake = await startFakeMdmcert({ apiKey: API_KEY, mailbox, cipher: 'des-ede3-cbc', hexStyle: 'upper-wrapped' });
});
afterAll(() => fake.close());

/** What Apple's portal does with an uploaded PushCertificateRequest: a certificate for the CSR inside. */
function portal(requestFile: string, certFile: string, notAfter: Date): void {
  signPushRequestFile(ca, requestFile, certFile, { topic, notBefore: daysFrom(new Date(), -1), notAfter });
}

it('csr --via mdmcert, decrypt, import; renew, decrypt, import: the same topic, a year on', async () => {
  const store = tempDir();
  const work = tempDir();
  const keyFile = join(work, 'mdmcert-api-key');
  writeFileSync(keyFile, API_KEY, { mode: 0o600 });
  const caFile = join(work, 'vendor-root.pem');
  writeFileSync(caFile, fake.vendor.root.pem);
  const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'year', APNS_CERT_MDMCERT_URL: fake.url });
  const run = async (args: string[], code = 0) => {
    const r = await runCli(args, { env, cwd: work });
    expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(code);
    expect(r.stdout + r.stderr).not.toContain(API_KEY);
    return r;
  };

  await run([
    'csr',
    '--name',
    'acme',
    '--via',
    'mdmcert',
    '--email',
    'admin@acme.example',
    '--apple-id',
    'mdm@acme.example',
    '--mdmcert-api-key-file',
    keyFile,
  ]);
  const first = fake.requests.at(-1)!.mailed!;
  const decrypted = await run(['mdmcert-decrypt', first, '--ca-file', caFile]);
  expect(decrypted.stdout.trim()).toBe(join(work, 'acme.request.b64'));
  portal(join(work, 'acme.request.b64'), join(work, 'first.pem'), daysFrom(new Date(), 20));
  await run(['import', join(work, 'first.pem'), '--name', 'acme']);
  // the exchange key went with the pending request it was for: only the push key stays
  expect(readdirSync(join(store, 'keys'))).toHaveLength(1);

  const renewed = await run([
    'renew',
    'acme',
    '--apple-id',
    'mdm@acme.example',
    '--mdmcert-api-key-file',
    keyFile,
    '--json',
  ]);
  expect(JSON.parse(renewed.stdout)).toMatchObject({ name: 'acme', topic, appleIdMatches: true, requestSent: true });
  const second = fake.requests.at(-1)!.mailed!;
  expect(second).not.toBe(first);
  // last year's mail is for no pending request any more
  await run(['mdmcert-decrypt', first, '--name', 'acme', '--out', join(work, 'old.b64')], 65);
  const out = join(work, 'renewal.request.b64');
  await run(['mdmcert-decrypt', second, '--out', out, '--ca-file', caFile]);
  portal(out, join(work, 'second.pem'), daysFrom(new Date(), 385));
  const imported = await run(['import', join(work, 'second.pem'), '--name', 'acme', '--json']);
  expect(imported.stdout).toContain(topic);

  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as StoreIndex;
  const record = index.records.acme!;
  expect(record.topic).toBe(topic);
  expect(record.signing).toEqual({ via: 'mdmcert', email: 'admin@acme.example' });
  expect(record.pendingKey).toBeNull();
  expect(record.certificates).toHaveLength(2);
  expect(readdirSync(join(store, 'keys')).sort()).toEqual(record.certificates.map((c) => `${c.keyId}.key`).sort());
  // doctor: no key file without a record (its exit code also judges the test CA, not Apple's)
  const doctor = await runCli(['doctor', '--json'], { env, cwd: work });
  const checks = JSON.parse(doctor.stdout).checks as Array<{ check: string; status: string }>;
  expect(checks.find((c) => c.check === 'store-orphans')?.status, doctor.stdout).toBe('ok');
});
