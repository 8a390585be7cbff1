/**
 * `deploy` against loopback fakes of NanoMDM, NanoHUB and MicroMDM (test/helpers/fake-mdm-servers.ts) on the
 * real file store: the topic guard (nothing sent), upload and read-back (deployed / not confirmed / mismatch),
 * exit codes 77 and 69, --dry-run (no PUT), the deployments kept in the record, and the credential in no output.
 */
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { pushCertIssuer, recordWith as recordWithCerts } from '../helpers/deploy-records.js';
import type { Issued } from '../helpers/deploy-records.js';
import { mdmTopic, newKeyPem } from '../helpers/fake-apple.js';
import { startFakeMdm } from '../helpers/fake-mdm-servers.js';
import type { FakeMdm, FakeMdmKind, FakeMdmMode } from '../helpers/fake-mdm-servers.js';
import { runInProcess } from '../helpers/in-process.js';

const work = tempDir();
const CREDENTIAL = `api-${randomBytes(24).toString('base64url')}`;
const now = new Date();
const outputs: CliResult[] = [];
const fakes: FakeMdm[] = [];

async function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<CliResult> {
  const r = await runInProcess(args, { env, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  outputs.push(r);
  return r;
}

const { issue } = pushCertIssuer(work, now);
const recordWith = (certs: Issued[], extra: Record<string, string> = {}) =>
  recordWithCerts(certs, cli, { APNS_CERT_DEPLOY_TIMEOUT_MS: '800', ...extra });

async function fake(kind: FakeMdmKind, mode: FakeMdmMode = 'normal', initial?: Issued, credential = CREDENTIAL) {
  const f = await startFakeMdm({
    kind,
    credential,
    mode,
    ...(initial ? { initial: { certPem: initial.certPem, keyPem: initial.keyPem } } : {}),
  });
  fakes.push(f);
  return f;
}

async function addTarget(env: NodeJS.ProcessEnv, kind: string, url: string, label = kind) {
  const r = await cli(
    ['target', 'add', 'acme', '--kind', kind, '--url', url, '--label', label, '--credential-file', file('cred')],
    env,
  );
  expect(r.code, r.stderr).toBe(0);
}

const file = (name: string) => join(work, name);
const uploads = (f: FakeMdm) => f.requests.filter((r) => r.method === 'PUT' || r.method === 'POST');
const deployJson = (r: CliResult) =>
  JSON.parse(r.stdout) as {
    schemaVersion: number;
    name: string;
    targets: Array<{
      label: string;
      kind: string;
      result: string;
      serialNumber: string;
      notAfter: string;
      message: string | null;
    }>;
  };

beforeAll(() => {
  writeFileSync(file('cred'), `${CREDENTIAL}\n`);
  writeFileSync(file('wrong-cred'), 'not-the-key\n');
});

afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

describe('deploy', () => {
  it('nanomdm: uploads the active certificate and key, reads it back: deployed; show lists the deployment', async () => {
    const topic = mdmTopic();
    const cert = issue(topic, 365);
    const env = await recordWith([cert]);
    const server = await fake('nanomdm');
    await addTarget(env, 'nanomdm', server.url);
    const r = await cli(['deploy', 'acme', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const doc = deployJson(r);
    expect(doc).toMatchObject({ name: 'acme', targets: [{ label: 'nanomdm', kind: 'nanomdm', result: 'deployed' }] });
    expect(doc.targets[0]!.serialNumber).toBe(cert.serial);
    expect(doc.targets[0]!.notAfter).toBe(cert.notAfter);
    expect(new X509Certificate(server.running.get(topic)!.certPem).serialNumber).toBe(cert.serial);
    expect(uploads(server)).toHaveLength(1);
    const show = await cli(['show', 'acme'], env);
    expect(show.stdout).toMatch(new RegExp(`nanomdm\\s+serial ${cert.serial}\\s+deployed`));
    const showJson = JSON.parse((await cli(['show', 'acme', '--json'], env)).stdout) as {
      deployments: Array<{ target: string; serialNumber: string; result: string }>;
    };
    expect(showJson.deployments).toMatchObject([{ target: 'nanomdm', serialNumber: cert.serial, result: 'deployed' }]);
  });

  it('the topic guard refuses a server running another topic of the record (nothing sent); --allow-new-topic deploys', async () => {
    const oldTopic = mdmTopic();
    const newTopic = mdmTopic();
    const old = issue(oldTopic, 200);
    const cert = issue(newTopic, 365);
    const env = await recordWith([old, cert]);
    const server = await fake('nanomdm', 'normal', old);
    await addTarget(env, 'nanomdm', server.url);
    let r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(oldTopic);
    expect(r.stderr).toContain(newTopic);
    expect(r.stderr).toContain('Every enrolled device would stop answering');
    expect(r.stderr).toContain('hint: apns-cert deploy acme --target nanomdm --allow-new-topic');
    expect(uploads(server)).toEqual([]);
    expect([...server.running.keys()]).toEqual([oldTopic]);

    r = await cli(['deploy', 'acme', '--allow-new-topic'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('deployed');
    expect(new X509Certificate(server.running.get(newTopic)!.certPem).serialNumber).toBe(cert.serial);
  });

  it('micromdm: the topic guard reads the leaf UID; refuses another topic with no PUT', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const foreign = issue(mdmTopic(), 100);
    const server = await fake('micromdm', 'normal', { ...foreign, keyPem: pkcs1(foreign.keyPem) });
    await addTarget(env, 'micromdm', server.url);
    const r = await cli(['deploy', 'acme', '--json'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(deployJson(r).targets[0]).toMatchObject({ result: 'refused' });
    expect(deployJson(r).targets[0]!.message).toContain(
      new X509Certificate(foreign.certPem).subject.match(/UID=(.+)/)![1],
    );
    expect(uploads(server)).toEqual([]);
  });

  it('micromdm: the server receives a PKCS#1 key and reads back the new certificate: deployed', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const server = await fake('micromdm');
    await addTarget(env, 'micromdm', server.url);
    const r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/micromdm\s+micromdm\s+deployed/);
    const held = server.running.get('')!;
    expect(held.keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(new X509Certificate(held.certPem).serialNumber).toBe(cert.serial);
  });

  it('a sticky server that keeps reading back the old certificate: mismatch, exit 1, with its answer', async () => {
    const topic = mdmTopic();
    const old = issue(topic, 100);
    const cert = issue(topic, 365);
    const env = await recordWith([old, cert]);
    const server = await fake('nanomdm', 'sticky', old);
    await addTarget(env, 'nanomdm', server.url);
    const r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain('mismatch');
    expect(r.stderr).toContain(`expiring ${old.notAfter}`);
    expect(uploads(server)).toHaveLength(1);
    const show = await cli(['show', 'acme', '--json'], env);
    expect((JSON.parse(show.stdout) as { deployments: unknown[] }).deployments).toMatchObject([{ result: 'mismatch' }]);
  });

  for (const mode of ['old-get-400', 'old-get-405'] as const)
    it(`an old NanoMDM (${mode}): uploaded, not confirmed, exit 0 with a warning (never a false "deployed")`, async () => {
      const cert = issue(mdmTopic(), 365);
      const env = await recordWith([cert]);
      const server = await fake('nanomdm', mode);
      await addTarget(env, 'nanomdm', server.url);
      const r = await cli(['deploy', 'acme'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('not confirmed');
      expect(r.stdout).not.toMatch(/\sdeployed/);
      expect(r.stderr).toMatch(/warning: .*no read-back/);
      expect(uploads(server)).toHaveLength(1);
    });

  it('nanohub (its own path and user) deploys too', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const server = await fake('nanohub');
    await addTarget(env, 'nanohub', server.url);
    const r = await cli(['deploy', 'acme', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(deployJson(r).targets[0]).toMatchObject({ kind: 'nanohub', result: 'deployed' });
    expect(uploads(server).map((q) => q.path)).toEqual(['/api/v1/nanomdm/pushcert']);
  });

  it('fleet: the certificate only (Fleet keeps its own key), read back by serial: deployed', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const server = await startFakeMdm({ kind: 'fleet', credential: CREDENTIAL, fleetKeyPem: cert.keyPem });
    fakes.push(server);
    await addTarget(env, 'fleet', server.url);
    const r = await cli(['deploy', 'acme', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(deployJson(r).targets[0]).toMatchObject({ kind: 'fleet', result: 'deployed', serialNumber: cert.serial });
    const posted = uploads(server);
    expect(posted.map((q) => q.method)).toEqual(['POST']);
    expect(posted[0]!.body).not.toMatch(/PRIVATE KEY/);
    expect(new X509Certificate(server.running.get('')!.certPem).serialNumber).toBe(cert.serial);
  });

  it('fleet: a certificate that does not pair with its key is refused (422): exit 1, recorded as refused', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const server = await startFakeMdm({ kind: 'fleet', credential: CREDENTIAL, fleetKeyPem: newKeyPem().privatePem });
    fakes.push(server);
    await addTarget(env, 'fleet', server.url);
    const r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('HTTP 422');
    const show = JSON.parse((await cli(['show', 'acme', '--json'], env)).stdout) as { deployments: unknown[] };
    expect(show.deployments).toMatchObject([{ target: 'fleet', result: 'refused' }]);
  });

  it("fleet: the topic guard reads the running certificate's common name; another topic: refused, no POST", async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const otherTopic = mdmTopic();
    const foreign = issue(otherTopic, 100);
    const server = await startFakeMdm({
      kind: 'fleet',
      credential: CREDENTIAL,
      fleetKeyPem: cert.keyPem,
      initial: { certPem: foreign.certPem },
    });
    fakes.push(server);
    await addTarget(env, 'fleet', server.url);
    let r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(otherTopic);
    expect(uploads(server)).toEqual([]);
    r = await cli(['deploy', 'acme', '--allow-new-topic'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(uploads(server)).toHaveLength(1);
  });

  it('a server refusing the credential: 77, nothing uploaded', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert], { APNS_CERT_DEBUG: '1' });
    const server = await fake('nanomdm', 'normal', undefined, 'another-key');
    await addTarget(env, 'nanomdm', server.url);
    const r = await cli(['deploy', 'acme'], env);
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toMatch(/refused the credential \(HTTP 401\)/);
    expect(uploads(server)).toEqual([]);
  });

  it('a server that never answers: 69 within the limit, naming the target', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const server = await fake('nanomdm', 'silent');
    await addTarget(env, 'nanomdm', server.url, 'prod-mdm');
    const started = Date.now();
    const r = await cli(['deploy', 'acme'], env, 15_000);
    expect(r.code, r.stderr).toBe(69);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.stderr).toContain('target "prod-mdm"');
  });

  it('--dry-run does the guard, says what would be sent, sends no PUT and records nothing', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const server = await fake('nanomdm');
    await addTarget(env, 'nanomdm', server.url);
    const r = await cli(['deploy', 'acme', '--dry-run'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('would deploy');
    expect(r.stderr).toContain(`would send the certificate ${cert.serial}`);
    expect(server.requests.length).toBeGreaterThan(0);
    expect(uploads(server)).toEqual([]);
    const show = JSON.parse((await cli(['show', 'acme', '--json'], env)).stdout) as { deployments: unknown[] };
    expect(show.deployments).toEqual([]);
  });

  it('a record with no server target: 64 with a hint to add one; an unknown --target: 64', async () => {
    const env = await recordWith([issue(mdmTopic(), 365)]);
    let r = await cli(['deploy', 'acme'], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('hint: apns-cert target add acme --kind nanomdm');
    r = await cli(['deploy', 'acme', '--target', 'nope'], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('hint: apns-cert target list acme');
  });

  it('the built CLI deploys (one spawned run, with APNS_CERT_DEBUG=1)', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const server = await fake('nanomdm');
    await addTarget(env, 'nanomdm', server.url);
    const r = await runCli(['deploy', 'acme'], { env: { ...env, APNS_CERT_DEBUG: '1' } });
    outputs.push(r);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nanomdm\s+nanomdm\s+deployed\s+serial/);
    expect(uploads(server)).toHaveLength(1);
    // the credential sealed in the store, never in clear
    const store = env.APNS_CERT_STORE!;
    const files = readdirSync(store, { recursive: true, encoding: 'utf8' })
      .map((f) => join(store, f))
      .filter((p) => statSync(p).isFile());
    expect(files.filter((p) => readFileSync(p).includes(CREDENTIAL))).toEqual([]);
  });

  it('the credential appears in no output of any run', () => {
    expect(outputs.length).toBeGreaterThan(20);
    const forms = [CREDENTIAL, Buffer.from(`nanomdm:${CREDENTIAL}`).toString('base64')];
    for (const r of outputs) for (const form of forms) expect(r.stdout + r.stderr).not.toContain(form);
  });
});

/** MicroMDM reads back only a certificate whose stored key is PKCS#1. */
function pkcs1(keyPem: string): string {
  return createPrivateKey(keyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
}
