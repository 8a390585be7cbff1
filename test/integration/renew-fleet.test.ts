/**
 * `renew` of a record without a key (import --no-key) from its fleet target, on the real file store against the
 * loopback fake Fleet (test/helpers/fake-mdm-servers.ts): Fleet's CSR for the key it holds is written to --csr-out,
 * the pending entry is keyless, the certificate a test "Apple" signs for that CSR is imported without a key and
 * deployed back to Fleet; another public key or topic is refused; 401 is 77 and a silent Fleet 69 in time, with
 * the credential in no output; a record without a fleet target, or with two, says what to do.
 */
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCertificate, sha256Hex } from '../../src/core/certificate.js';
import { buildPushRequest, parsePushRequest } from '../../src/core/push-request.js';
import { tempDir, treeDigest } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import {
  createFakeCa,
  createVendorHierarchy,
  daysFrom,
  issuePushCert,
  mdmTopic,
  newKeyPem,
  signCsrFile,
} from '../helpers/fake-apple.js';
import { startFakeMdm } from '../helpers/fake-mdm-servers.js';
import type { FakeMdm, FakeMdmMode } from '../helpers/fake-mdm-servers.js';
import { inProcessEnv, runInProcess } from '../helpers/in-process.js';

const NOW = new Date();
const ca = createFakeCa();
const work = tempDir();
const CREDENTIAL = `fleet-token-${randomBytes(24).toString('base64url')}`;
const outputs: CliResult[] = [];
const fakes: FakeMdm[] = [];
const TIMEOUT_MS = 800;

afterAll(async () => {
  for (const f of fakes) await f.close();
});

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const r = await runInProcess(args, { env });
  outputs.push(r);
  return r;
}

const publicKeyId = (pem: string) => sha256Hex(createPublicKey(pem).export({ type: 'spki', format: 'der' }));
const readIndex = (store: string) => JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
let count = 0;
const path = (name: string) => join(work, `${++count}-${name}`);

/** A keyless record "fleet" whose certificate is for the key Fleet holds, with the fake Fleet as its target. */
async function fleetRecord(
  opts: { mode?: FakeMdmMode; credential?: string; fleetSignsCsr?: (der: Buffer) => string; label?: string } = {},
) {
  const env = inProcessEnv({ APNS_CERT_DEPLOY_TIMEOUT_MS: String(TIMEOUT_MS) });
  const store = env.APNS_CERT_STORE!;
  const topic = mdmTopic();
  const fleetKey = newKeyPem();
  const firstPem = issuePushCert(ca, {
    publicKeyPem: fleetKey.publicPem,
    topic,
    notBefore: daysFrom(NOW, -340),
    notAfter: daysFrom(NOW, 25),
  });
  const first = path('first.pem');
  writeFileSync(first, firstPem);
  expect((await cli(['import', first, '--name', 'fleet', '--no-key'], env)).code).toBe(0);
  const server = await startFakeMdm({
    kind: 'fleet',
    credential: opts.credential ?? CREDENTIAL,
    mode: opts.mode ?? 'normal',
    fleetKeyPem: fleetKey.privatePem,
    initial: { certPem: firstPem },
    ...(opts.fleetSignsCsr ? { fleetSignsCsr: opts.fleetSignsCsr } : {}),
  });
  fakes.push(server);
  const cred = path('token');
  writeFileSync(cred, `${CREDENTIAL}\n`);
  const added = await cli(
    ['target', 'add', 'fleet', '--kind', 'fleet', '--url', server.url, '--credential-file', cred].concat(
      opts.label ? ['--label', opts.label] : [],
    ),
    env,
  );
  expect(added.code, added.stderr).toBe(0);
  return { env, store, topic, fleetKey, server };
}

describe('renew of a keyless record with a fleet target', () => {
  it("writes Fleet's CSR, imports Apple's certificate keyless, and deploys it to Fleet", async () => {
    const { env, store, topic, fleetKey, server } = await fleetRecord();
    const csrOut = path('renew.csr.pem');
    const r = await cli(['renew', 'fleet', '--apple-id', 'mdm@acme.example', '--csr-out', csrOut, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'fleet', topic, csrPath: csrOut });
    // a real PKCS#10 request, self-signed by Fleet's key
    expect(execFileSync('openssl', ['req', '-verify', '-noout', '-in', csrOut], { stdio: 'pipe' })).toBeDefined();
    const csrKey = execFileSync('openssl', ['req', '-pubkey', '-noout', '-in', csrOut]).toString();
    expect(publicKeyId(csrKey)).toBe(publicKeyId(fleetKey.publicPem));
    expect(server.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /api/v1/fleet/mdm/apple/request_csr']);
    const pending = readIndex(store).records.fleet.pendingKey;
    expect(pending).toMatchObject({
      keyId: null,
      keyless: { target: 'fleet', publicKeyId: publicKeyId(fleetKey.publicPem) },
      csrPath: csrOut,
    });

    // the keyless pending entry is validated: with a keyId, or without its public key id, the index is damaged
    const indexText = readFileSync(join(store, 'index.json'), 'utf8');
    const damaged = (change: (p: Record<string, unknown>) => void) => {
      const index = JSON.parse(indexText);
      change(index.records.fleet.pendingKey);
      writeFileSync(join(store, 'index.json'), JSON.stringify(index));
    };
    damaged((p) => (p.keyId = publicKeyId(fleetKey.publicPem)));
    expect((await cli(['list'], env)).stderr).toMatch(/a keyless pendingKey has a keyId/);
    damaged((p) => delete (p.keyless as Record<string, unknown>).publicKeyId);
    expect((await cli(['list'], env)).code).toBe(65);
    writeFileSync(join(store, 'index.json'), indexText);

    const show = await cli(['show', 'fleet'], env);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^pending key .*\(Fleet's CSR, from the target fleet: Fleet keeps the key\)/m);

    // Apple signs the CSR; the import needs no --no-key and keeps the record keyless
    const renewed = signCsrFile(ca, csrOut, path('renewed.pem'), {
      topic,
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 365),
    });
    const imported = await cli(['import', renewed, '--name', 'fleet', '--json'], env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ keySource: 'none', renewal: true });
    const record = readIndex(store).records.fleet;
    expect(record.pendingKey).toBeNull();
    const active = record.certificates.find((c: { status: string }) => c.status === 'active');
    const serial = parseCertificate(
      new Uint8Array(Buffer.from(readFileSync(renewed, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64')),
    ).serialNumber;
    expect(active).toMatchObject({ keyId: null, keyless: true, serialNumber: serial });

    const deployed = await cli(['deploy', 'fleet', '--json'], env);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(JSON.parse(deployed.stdout).targets[0]).toMatchObject({ result: 'deployed', serialNumber: serial });
    const lf = (t: string) => t.replace(/\r\n/g, '\n').trim();
    expect(lf(server.running.get('')!.certPem)).toBe(lf(readFileSync(renewed, 'utf8')));
  });

  it('keeps the owner, note and a remembered Apple ID given to the renewal, as a renewal with a key does', async () => {
    const { env } = await fleetRecord();
    const r = await cli(
      [
        'renew',
        'fleet',
        '--apple-id',
        'mdm@acme.example',
        '--remember-apple-id',
        '--owner',
        'mdm-team@acme.example',
        '--note',
        'Fleet prod',
        '--csr-out',
        path('custody.csr'),
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse((await cli(['show', 'fleet', '--json'], env)).stdout);
    expect([shown.owner, shown.note]).toEqual(['mdm-team@acme.example', 'Fleet prod']);
    expect(shown).not.toHaveProperty('appleId');
    const revealed = JSON.parse((await cli(['show', 'fleet', '--reveal-apple-id', '--json'], env)).stdout);
    expect(revealed.appleId).toBe('mdm@acme.example');
  });

  it('refuses a certificate for another public key, and one of another topic (store unchanged)', async () => {
    const { env, store, topic } = await fleetRecord();
    const csrOut = path('renew.csr.pem');
    expect((await cli(['renew', 'fleet', '--apple-id', 'mdm@acme.example', '--csr-out', csrOut], env)).code).toBe(0);
    const before = treeDigest(store);

    const other = path('other-key.pem');
    writeFileSync(
      other,
      issuePushCert(ca, {
        publicKeyPem: newKeyPem().publicPem,
        topic,
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 365),
      }),
    );
    for (const args of [
      ['import', other, '--name', 'fleet'],
      ['import', other, '--name', 'fleet', '--no-key'],
      ['import', other],
    ]) {
      const r = await cli(args, env);
      expect(r.code, args.join(' ')).toBe(65);
      expect(r.stderr).toMatch(/not the one in the CSR that the fleet target "fleet" of "fleet" made/);
    }
    expect(treeDigest(store)).toBe(before);

    const newTopic = signCsrFile(ca, csrOut, path('new-topic.pem'), {
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 365),
    });
    const r = await cli(['import', newTopic, '--name', 'fleet'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(topic);
    expect(treeDigest(store)).toBe(before);
  });

  it('Fleet refusing the token is 77, a silent Fleet 69 within the timeout; the token is in no output', async () => {
    const refusing = await fleetRecord({ credential: 'another-token' });
    for (const debug of [undefined, '1']) {
      const r = await cli(['renew', 'fleet', '--apple-id', 'a@b.example', '--csr-out', path('x.csr')], {
        ...refusing.env,
        APNS_CERT_DEBUG: debug,
      });
      expect(r.code).toBe(77);
      expect(r.stderr).toMatch(/refused the credential \(HTTP 401\)/);
    }
    expect(readIndex(refusing.store).records.fleet.pendingKey).toBeNull();

    const silent = await fleetRecord({ mode: 'silent' });
    const started = Date.now();
    const r = await cli(['renew', 'fleet', '--apple-id', 'a@b.example', '--csr-out', path('y.csr')], silent.env);
    expect(r.code).toBe(69);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 4000);
    expect(r.stderr).toContain(new URL(silent.server.url).host);
    expect(readIndex(silent.store).records.fleet.pendingKey).toBeNull();

    for (const o of outputs) expect(`${o.stdout}${o.stderr}`).not.toContain(CREDENTIAL);
  });

  it('a keyless record without a fleet target is refused with the target add hint; two need --target', async () => {
    const env = inProcessEnv();
    const key = newKeyPem();
    const cert = path('plain.pem');
    writeFileSync(
      cert,
      issuePushCert(ca, {
        publicKeyPem: key.publicPem,
        topic: mdmTopic(),
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 20),
      }),
    );
    expect((await cli(['import', cert, '--name', 'fleet', '--no-key'], env)).code).toBe(0);
    const r = await cli(['renew', 'fleet', '--apple-id', 'a@b.example', '--csr-out', path('z.csr')], env);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/no fleet target/);
    expect(r.stderr).toMatch(/apns-cert target add fleet --kind fleet --url/);
    expect(readIndex(env.APNS_CERT_STORE!).records.fleet.pendingKey).toBeNull();

    const two = await fleetRecord({ label: 'eu' });
    const cred = path('token2');
    writeFileSync(cred, CREDENTIAL);
    const added = await cli(
      [
        'target',
        'add',
        'fleet',
        '--kind',
        'fleet',
        '--url',
        two.server.url,
        '--label',
        'us',
        '--credential-file',
        cred,
      ],
      two.env,
    );
    expect(added.code, added.stderr).toBe(0);
    const ambiguous = await cli(['renew', 'fleet', '--apple-id', 'a@b.example', '--csr-out', path('w.csr')], two.env);
    expect(ambiguous.code).toBe(64);
    expect(ambiguous.stderr).toMatch(/2 fleet targets \(eu, us\)/);
    const chosen = await cli(
      ['renew', 'fleet', '--apple-id', 'a@b.example', '--csr-out', path('v.csr'), '--target', 'us'],
      two.env,
    );
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(readIndex(two.store).records.fleet.pendingKey.keyless.target).toBe('us');
  });

  it('Fleet answering a signed request (as real Fleet does, via fleetdm.com): the CSR and the request to upload', async () => {
    const { vendor, wwdr, root } = createVendorHierarchy(NOW);
    const chain = [vendor.pem, wwdr.pem, root.pem].map((pem) =>
      parseCertificate(new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'))),
    );
    const signs = (der: Buffer) => buildPushRequest(der, chain, createPrivateKey(vendor.privatePem)).base64;
    const { env, store, fleetKey } = await fleetRecord({ fleetSignsCsr: signs });
    const csrOut = path('signed.csr.pem');
    const requestOut = path('signed.request.b64');
    const r = await cli(
      ['renew', 'fleet', '--apple-id', 'a@b.example', '--csr-out', csrOut, '--request-out', requestOut],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(requestOut);
    expect(r.stderr).toMatch(/Upload the signed request/);
    execFileSync('openssl', ['req', '-verify', '-noout', '-in', csrOut], { stdio: 'pipe' });
    const request = parsePushRequest(readFileSync(requestOut), requestOut);
    expect(request.csr.publicKeyId).toBe(publicKeyId(fleetKey.publicPem));
    expect(readIndex(store).records.fleet.pendingKey.keyless.publicKeyId).toBe(publicKeyId(fleetKey.publicPem));
  });
  it("a record signed via vendor: the vendor-signed request is made from Fleet's CSR, and verifies for the record", async () => {
    const { env, store, fleetKey } = await fleetRecord();
    const hierarchy = createVendorHierarchy(NOW);
    const [vendorPem, vendorKey, chainPem, rootPem] = ['vendor.pem', 'vendor.key', 'chain.pem', 'root.pem'].map(path);
    writeFileSync(vendorPem!, hierarchy.vendor.pem);
    writeFileSync(vendorKey!, hierarchy.vendor.privatePem);
    writeFileSync(chainPem!, hierarchy.wwdr.pem + hierarchy.root.pem);
    writeFileSync(rootPem!, hierarchy.root.pem);
    const imported = await cli(
      ['vendor', 'import', '--cert', vendorPem!, '--key', vendorKey!, '--chain', chainPem!],
      env,
    );
    expect(imported.code, imported.stderr).toBe(0);
    const sha = imported.stdout.trim();
    // signing via vendor is recorded by a csr (which also leaves a key of its own as the pending key)
    const made = await cli(
      ['csr', '--name', 'fleet', '--vendor', sha, '--out', path('own.csr'), '--request-out', path('own.b64')],
      env,
    );
    expect(made.code, made.stderr).toBe(0);
    const ownKey = readIndex(store).records.fleet.pendingKey.keyId;
    expect(ownKey).toMatch(/^[0-9a-f]{64}$/);

    const requestOut = path('fleet.request.b64');
    const r = await cli(
      ['renew', 'fleet', '--apple-id', 'a@b.example', '--csr-out', path('fleet.csr'), '--request-out', requestOut],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(parsePushRequest(readFileSync(requestOut), requestOut).csr.publicKeyId).toBe(
      publicKeyId(fleetKey.publicPem),
    );
    const verified = await cli(['verify', requestOut, '--name', 'fleet', '--ca-file', rootPem!], env);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stderr).toMatch(/^ok {4}csr-key: /m);
    // the key the csr made is gone with the pending entry it was in
    expect(existsSync(join(store, 'keys', `${ownKey}.key`))).toBe(false);
  });
});
