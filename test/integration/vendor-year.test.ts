/**
 * The year of a record signed via vendor, end to end with the built CLI (spawned): vendor import → csr --vendor →
 * verify the request → sign as "Apple" → import → renew (scripted) → verify the renewal's request → import with the
 * same topic; a renewal certificate with another topic refused. And a request whose chain has the wrong
 * intermediate failed by verify, the chain check named.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { StoreIndex } from '../../src/core/index-model.js';
import { decodeCertificateFile } from '../../src/core/input.js';
import { buildPushRequest, parsePushRequest } from '../../src/core/push-request.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, createVendorHierarchy, daysFrom, mdmTopic, signPushRequestFile } from '../helpers/fake-apple.js';

const now = new Date();
const ca = createFakeCa();
const topic = mdmTopic();
const vendor = createVendorHierarchy(now);

/** What Apple's portal does with an uploaded PushCertificateRequest: a certificate for the CSR inside. */
function portal(requestFile: string, certFile: string, notAfter: Date, certTopic = topic): void {
  signPushRequestFile(ca, requestFile, certFile, { topic: certTopic, notBefore: daysFrom(now, -1), notAfter });
}

it('vendor import, csr --vendor, verify, import; renew, verify, import: the same topic, another refused', async () => {
  const store = tempDir();
  const work = tempDir();
  const file = (name: string) => join(work, name);
  writeFileSync(file('vendor.pem'), vendor.vendor.pem);
  writeFileSync(file('vendor.key'), vendor.vendor.privatePem);
  writeFileSync(file('chain.pem'), vendor.wwdr.pem + vendor.root.pem);
  writeFileSync(file('root.pem'), vendor.root.pem);
  const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'year' });
  const run = async (args: string[], code = 0) => {
    const r = await runCli(args, { env, cwd: work });
    expect(r.code, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(code);
    return r;
  };

  const sha256 = (
    await run([
      'vendor',
      'import',
      '--cert',
      file('vendor.pem'),
      '--key',
      file('vendor.key'),
      '--chain',
      file('chain.pem'),
    ])
  ).stdout.trim();
  expect(sha256).toMatch(/^[0-9a-f]{64}$/);
  await run(['csr', '--name', 'acme', '--vendor', sha256.slice(0, 12), '--apple-id', 'mdm@acme.example']);
  const firstRequest = file('acme.request.b64');
  const verified = await run(['verify', firstRequest, '--name', 'acme', '--ca-file', file('root.pem')]);
  expect(verified.stderr).toMatch(/^ok {4}csr-key: /m);
  expect(verified.stderr).not.toMatch(/FAIL/);

  // the same CSR, its request built by hand with a second test hierarchy's intermediate in the chain
  const csrDer = parsePushRequest(readFileSync(firstRequest), firstRequest).csr.der;
  const info = (pem: string) => decodeCertificateFile(Buffer.from(pem), 'chain.pem').certificates[0]!;
  const wrong = buildPushRequest(
    csrDer,
    [vendor.vendor.pem, createVendorHierarchy(now).wwdr.pem, vendor.root.pem].map(info),
    createPrivateKey(vendor.vendor.privatePem),
  );
  writeFileSync(file('wrong-chain.request.b64'), Buffer.from(wrong.xml).toString('base64'));
  const refused = await run(
    ['verify', file('wrong-chain.request.b64'), '--name', 'acme', '--ca-file', file('root.pem')],
    1,
  );
  expect(refused.stderr).toMatch(/^FAIL {2}chain-order: /m);
  expect(refused.stderr).toMatch(/^ok {4}vendor-signature: /m);

  // Apple's first certificate, short-lived: 20 days left, time to renew
  portal(firstRequest, file('first.pem'), daysFrom(now, 20));
  await run(['import', file('first.pem'), '--name', 'acme']);

  const renewed = await run(['renew', 'acme', '--apple-id', 'mdm@acme.example', '--yes']);
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  const renewalRequest = file(`acme-renew-${day}.request.b64`);
  expect(renewed.stdout.trim()).toBe(renewalRequest);
  expect(renewed.stderr).toMatch(/upload the request/);
  expect(readdirSync(work)).toContain(`acme-renew-${day}.csr.pem`);
  const checked = await run(['verify', renewalRequest, '--name', 'acme', '--ca-file', file('root.pem')]);
  expect(checked.stderr).toMatch(/^ok {4}csr-key: /m);
  expect(checked.stderr).not.toMatch(/FAIL/);
  // last year's request is not for the pending key any more
  const stale = await run(['verify', firstRequest, '--name', 'acme', '--ca-file', file('root.pem')], 1);
  expect(stale.stderr).toMatch(/^FAIL {2}csr-key: /m);

  // a renewal certificate with another topic is refused, nothing imported
  portal(renewalRequest, file('other-topic.pem'), daysFrom(now, 385), mdmTopic());
  const before = readFileSync(join(store, 'index.json'), 'utf8');
  const other = await run(['import', file('other-topic.pem'), '--name', 'acme'], 1);
  expect(other.stderr).toMatch(new RegExp(`on record: +${topic}`));
  expect(other.stderr).toMatch(/A renewal must keep its topic/);
  expect(readFileSync(join(store, 'index.json'), 'utf8')).toBe(before);
  portal(renewalRequest, file('second.pem'), daysFrom(now, 385));
  const imported = await run(['import', file('second.pem'), '--name', 'acme', '--json']);
  expect(imported.stdout).toContain(topic);

  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as StoreIndex;
  const record = index.records.acme!;
  expect(record.topic).toBe(topic);
  expect(record.signing).toEqual({ via: 'vendor', vendor: sha256 });
  expect(record.pendingKey).toBeNull();
  expect(record.certificates).toHaveLength(2);
  // the push keys of both certificates and the vendor's key: nothing else
  expect(readdirSync(join(store, 'keys')).sort()).toEqual(
    [...record.certificates.map((c) => c.keyId), index.vendors[sha256]!.keyId].map((id) => `${id}.key`).sort(),
  );
  // doctor: no key file without a record (its exit code also judges the test CA, not Apple's)
  const doctor = await runCli(['doctor', '--offline', '--json'], { env, cwd: work });
  const checks = JSON.parse(doctor.stdout).checks as Array<{ check: string; status: string }>;
  expect(checks.find((c) => c.check === 'store-orphans')?.status, doctor.stdout).toBe('ok');
});
