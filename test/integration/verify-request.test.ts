/**
 * `verify <request>` checks a PushCertificateRequest before the portal sees it (exit 1 on any failed check, each
 * named on stderr; --json with the checks), and `inspect <request>` shows the same verdicts. In process, except
 * one run of the built CLI.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCertificateFile, decodeCsrFile } from '../../src/core/input.js';
import { buildPushRequest } from '../../src/core/push-request.js';
import { REAL, cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, createVendorHierarchy, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const NOW = new Date();
const info = (pem: string) => decodeCertificateFile(Buffer.from(pem), 'chain.pem').certificates[0]!;
type Vendor = ReturnType<typeof createVendorHierarchy>;

let work: string;
let env: NodeJS.ProcessEnv;
let v: Vendor;
const file = (name: string) => join(work, name);

/** A request for the CSR in `csrFile`, signed by `vendor` with SHA-256 (or SHA-1), with the chain given. */
function writeRequest(name: string, csrFile: string, vendor: Vendor, opts: { chain?: string[]; sha1?: boolean } = {}) {
  const csrDer = decodeCsrFile(readFileSync(csrFile), csrFile);
  const chain = (opts.chain ?? [vendor.vendor.pem, vendor.wwdr.pem, vendor.root.pem]).map(info);
  const built = buildPushRequest(csrDer, chain, createPrivateKey(vendor.vendor.privatePem));
  let xml = built.xml;
  if (opts.sha1) {
    const sha1 = sign('sha1', csrDer, createPrivateKey(vendor.vendor.privatePem)).toString('base64');
    xml = xml.replace(/(<key>PushCertSignature<\/key>\s*<string>)[^<]*/, `$1${sha1}`);
  }
  writeFileSync(file(name), Buffer.from(xml).toString('base64'));
  return file(name);
}

beforeAll(async () => {
  work = tempDir();
  env = cleanEnv({ APNS_CERT_STORE: tempDir(), APNS_CERT_PASSPHRASE: 'pass phrase' });
  v = createVendorHierarchy(NOW);
  writeFileSync(file('root.pem'), v.root.pem);
  // "acme": its CSR was answered and imported, so no key is pending; "fresh": a CSR waiting for its request
  for (const name of ['acme', 'fresh']) {
    const r = await runInProcess(['csr', '--name', name, '--out', file(`${name}.csr`)], { env });
    expect(r.code, r.stderr).toBe(0);
  }
  signCsrFile(createFakeCa(), file('acme.csr'), file('acme.pem'), {
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 300),
  });
  expect((await runInProcess(['import', file('acme.pem')], { env })).code).toBe(0);
  writeRequest('fresh.request.b64', file('fresh.csr'), v);
  writeRequest('acme.request.b64', file('acme.csr'), v);
  writeRequest('sha1.request.b64', file('fresh.csr'), v, { sha1: true });
  writeRequest('wrong-wwdr.request.b64', file('fresh.csr'), v, {
    chain: [v.vendor.pem, createVendorHierarchy(NOW).wwdr.pem, v.root.pem],
  });
  const short = createVendorHierarchy(NOW, 10);
  writeFileSync(file('short-root.pem'), short.root.pem);
  writeRequest('short.request.b64', file('fresh.csr'), short);
  copyFileSync(join(REAL, 'push-cert-request_abacus_2020.plist.b64'), file('abacus-2020.request.b64'));
});

describe('verify <request>', () => {
  it('a whole SHA-256 request for the pending key, its test root given: every check holds, exit 0', async () => {
    const r = await runInProcess(
      ['verify', file('fresh.request.b64'), '--name', 'fresh', '--ca-file', file('root.pem')],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^ok {4}csr-key: key [0-9a-f]{64}$/m);
    expect(r.stderr).toMatch(/^ok {4}chain-root: MDM Vendor: Example MDM Inc\. -> .* -> Test Root CA$/m);
    expect(r.stderr).not.toMatch(/FAIL/);
    expect(r.stdout).toBe('');
  });

  it('--json: { schemaVersion, file, ok, checks: [{ check, ok, expected, actual }] }', async () => {
    const path = file('fresh.request.b64');
    const r = await runInProcess(['verify', path, '--json', '--ca-file', file('root.pem')], { env });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'file', 'ok', 'checks']);
    expect(doc).toMatchObject({ schemaVersion: 1, file: path, ok: true });
    expect(doc.checks).toHaveLength(11); // csr-key only with --name
    for (const c of doc.checks) expect(Object.keys(c)).toEqual(['check', 'ok', 'expected', 'actual']);
  });

  it('without --ca-file the test root is unknown: chain-root FAIL named on stderr, exit 1', async () => {
    const r = await runInProcess(['verify', file('fresh.request.b64')], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^FAIL {2}chain-root: expected ends at a bundled Apple root, got the chain ends at "Test Root CA", which is not an Apple root$/m,
    );
  });

  it('the wrong intermediate: chain-order fails although the vendor signature verifies', async () => {
    const r = await runInProcess(['verify', file('wrong-wwdr.request.b64'), '--ca-file', file('root.pem'), '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    const failed = doc.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { check: string }) => c.check);
    expect(failed).toEqual(['chain-order']);
    expect(doc.checks.find((c: { check: string }) => c.check === 'vendor-signature').ok).toBe(true);
  });

  it('a SHA-1 signature fails for an upload; the real 2020 request at its date fails on exactly that', async () => {
    const r = await runInProcess(['verify', file('sha1.request.b64'), '--ca-file', file('root.pem')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^FAIL {2}signature-hash: expected SHA-256, got SHA-1: Apple has required SHA-256 since 2021$/m,
    );
    const real = await runInProcess(['verify', file('abacus-2020.request.b64'), '--at', '2020-06-01', '--json']);
    expect(real.code).toBe(1);
    const doc = JSON.parse(real.stdout);
    expect(doc.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { check: string }) => c.check)).toEqual([
      'signature-hash',
    ]);
  });

  it('a vendor certificate with under 30 days left: a warning (ok with `warning` in --json), exit 0', async () => {
    const args = ['verify', file('short.request.b64'), '--ca-file', file('short-root.pem')];
    const r = await runInProcess(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^warn {2}vendor-days-left: 9 days left .*Apple rejects a request whose vendor certificate has expired\)$/m,
    );
    const doc = JSON.parse((await runInProcess([...args, '--json'])).stdout);
    expect(doc.checks.find((c: { check: string }) => c.check === 'vendor-days-left')).toMatchObject({
      ok: true,
      warning: expect.stringMatching(/expires in 9 days/),
    });
  });

  it('--name: a CSR of another key fails csr-key; a record with no pending key is 65 with a hint; an unknown one 64', async () => {
    const other = await runInProcess(
      ['verify', file('acme.request.b64'), '--name', 'fresh', '--ca-file', file('root.pem')],
      { env },
    );
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^FAIL {2}csr-key: expected the pending key [0-9a-f]{64}, got key [0-9a-f]{64}$/m);
    const none = await runInProcess(['verify', file('acme.request.b64'), '--name', 'acme'], { env });
    expect(none.code).toBe(65);
    expect(none.stderr).toMatch(/verify acme: the record has no pending key/);
    expect(none.stderr).toMatch(/hint: apns-cert show acme/);
    const unknown = await runInProcess(['verify', file('acme.request.b64'), '--name', 'nobody'], { env });
    expect(unknown.code).toBe(64);
  });

  it('certificate expectations on a request, and --ca-file on a certificate, are usage errors (64)', async () => {
    const r = await runInProcess(['verify', file('fresh.request.b64'), '--topic', 'x'], { env });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--topic applies to a certificate/);
    const c = await runInProcess(['verify', file('acme.pem'), '--apple-chain', '--ca-file', file('root.pem')], { env });
    expect(c.code).toBe(64);
    expect(c.stderr).toMatch(/--ca-file applies to a push certificate request/);
  });

  it('the help lists --ca-file and exit code 1', async () => {
    const r = await runInProcess(['verify', '--help']);
    expect(r.stdout).toMatch(/--ca-file <pem>/);
    expect(r.stdout).toMatch(/^\s+1\s+a check failed/m);
  });
});

describe('inspect <request> shows the same verdicts', () => {
  it('the real 2020 request at its date: every check holds, SHA-1 a warning (exit 0)', async () => {
    const r = await runInProcess(['inspect', file('abacus-2020.request.b64'), '--at', '2020-06-01']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^checks\s+every check holds as of 2020-06-01T00:00:00.000Z/m);
    expect(r.stdout).toMatch(/^\s+warn signature-hash: SHA-1 \(SHA-1: Apple has required SHA-256 since 2021/m);
    const doc = JSON.parse(
      (await runInProcess(['inspect', file('abacus-2020.request.b64'), '--at', '2020-06-01', '--json'])).stdout,
    );
    expect(doc).toMatchObject({ ok: true, checkedAt: '2020-06-01T00:00:00.000Z' });
    expect(doc.checks.find((c: { check: string }) => c.check === 'signature-hash')).toMatchObject({
      ok: true,
      actual: 'SHA-1',
    });
  });

  it('a minted request with --ca-file: the chain is valid up to the given root', async () => {
    const r = await runInProcess(['inspect', file('fresh.request.b64'), '--ca-file', file('root.pem'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, chainCheck: { valid: true } });
  });
});

describe('the built CLI', () => {
  it('verifies a request end to end (exit 0 with the root, 1 without)', async () => {
    const ok = await runCli(['verify', file('fresh.request.b64'), '--name', 'fresh', '--ca-file', file('root.pem')], {
      env,
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/^ok {4}vendor-signature: valid \(SHA256\)$/m);
    const bad = await runCli(['verify', file('fresh.request.b64')], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^FAIL {2}chain-root: /m);
  });
});
