/**
 * Does the server run what the store says? `deploy --check`, doctor's target lines and `check-expiry --targets`
 * against the loopback fakes of test/helpers/fake-mdm-servers.ts on the real file store: current, stale (the
 * "sticky" fake), foreign (another topic, or the record's), unknown (old NanoMDM, a silent server, 401, a file
 * target), all with no PUT/POST sent, and the credential in no output (APNS_CERT_DEBUG=1 too).
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';
import { startFakeApns } from '../helpers/fake-apns.js';
import type { FakeApns } from '../helpers/fake-apns.js';
import { startFakeMdm } from '../helpers/fake-mdm-servers.js';
import type { FakeMdm, FakeMdmKind, FakeMdmMode } from '../helpers/fake-mdm-servers.js';
import { inProcessEnv, runInProcess } from '../helpers/in-process.js';

const work = tempDir();
const CREDENTIAL = `api-${randomBytes(24).toString('base64url')}`;
const ca = createFakeCa();
const now = new Date();
const outputs: CliResult[] = [];
const fakes: FakeMdm[] = [];
const apnsServers: FakeApns[] = [];

async function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<CliResult> {
  const r = await runInProcess(args, {
    env: { APNS_CERT_DEBUG: outputs.length % 2 === 0 ? '1' : undefined, ...env },
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  });
  outputs.push(r);
  return r;
}

interface Issued {
  certPem: string;
  keyPem: string;
  file: string;
  serial: string;
  notAfter: string;
}

let count = 0;
function issue(topic: string, days: number): Issued {
  const key = newKeyPem();
  const certPem = issuePushCert(ca, {
    publicKeyPem: key.publicPem,
    topic,
    notBefore: daysFrom(now, -1),
    notAfter: daysFrom(now, days),
  });
  const file = join(work, `cert-${++count}.pem`);
  writeFileSync(file, certPem + key.privatePem);
  const x = new X509Certificate(certPem);
  return { certPem, keyPem: key.privatePem, file, serial: x.serialNumber, notAfter: new Date(x.validTo).toISOString() };
}

/** A store with the record `name` whose certificates are `certs` (imported in order; the last is active). */
async function recordWith(certs: Issued[], env = inProcessEnv({ APNS_CERT_DEPLOY_TIMEOUT_MS: '800' }), name = 'acme') {
  for (const c of certs) {
    const r = await cli(['import', c.file, '--name', name, '--allow-new-topic'], env);
    expect(r.code, r.stderr).toBe(0);
  }
  return env;
}

async function fake(kind: FakeMdmKind, mode: FakeMdmMode = 'normal', initial?: Issued, credential = CREDENTIAL) {
  const f = await startFakeMdm({
    kind,
    credential,
    mode,
    ...(initial
      ? { initial: { certPem: initial.certPem, keyPem: kind === 'micromdm' ? pkcs1(initial.keyPem) : initial.keyPem } }
      : {}),
    ...(kind === 'fleet' && initial ? { fleetKeyPem: initial.keyPem } : {}),
  });
  fakes.push(f);
  return f;
}

async function addTarget(env: NodeJS.ProcessEnv, kind: string, url: string, label = kind, name = 'acme') {
  const r = await cli(
    ['target', 'add', name, '--kind', kind, '--url', url, '--label', label, '--credential-file', file('cred')],
    env,
  );
  expect(r.code, r.stderr).toBe(0);
}

const file = (name: string) => join(work, name);
const uploads = (f: FakeMdm) => f.requests.filter((r) => r.method === 'PUT' || r.method === 'POST');

interface CheckDoc {
  schemaVersion: number;
  targets: Array<{
    name: string;
    label: string;
    kind: string;
    state: string;
    running: { serialNumber: string | null; notAfter: string | null; topic: string | null } | null;
    message: string;
  }>;
}
const checkJson = (r: CliResult) => JSON.parse(r.stdout) as CheckDoc;

beforeAll(() => {
  writeFileSync(file('cred'), `${CREDENTIAL}\n`);
});

afterAll(async () => {
  await Promise.all([...fakes, ...apnsServers].map((f) => f.close()));
});

describe('deploy --check', () => {
  it('current after a deploy (nanomdm, micromdm): exit 0, one line per target; the check sends no PUT', async () => {
    const topic = mdmTopic();
    const cert = issue(topic, 365);
    const env = await recordWith([cert]);
    const nano = await fake('nanomdm');
    const micro = await fake('micromdm');
    await addTarget(env, 'nanomdm', nano.url);
    await addTarget(env, 'micromdm', micro.url, 'mm');
    expect((await cli(['deploy', 'acme'], env)).code).toBe(0);
    const sent = [uploads(nano).length, uploads(micro).length];
    let r = await cli(['deploy', 'acme', '--check'], env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^acme {2}nanomdm {2}nanomdm {2}current {2}runs the active certificate/);
    expect(lines[1]).toMatch(new RegExp(`^acme {2}mm {2}micromdm {2}current {2}.*serial ${cert.serial}`));
    r = await cli(['deploy', 'acme', '--check', '--json'], env);
    expect(r.code).toBe(0);
    const doc = checkJson(r);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.targets).toMatchObject([
      { name: 'acme', label: 'nanomdm', kind: 'nanomdm', state: 'current', running: { topic, serialNumber: null } },
      { name: 'acme', label: 'mm', kind: 'micromdm', state: 'current', running: { topic, serialNumber: cert.serial } },
    ]);
    expect(Date.parse(doc.targets[0]!.running!.notAfter!)).toBe(Date.parse(cert.notAfter));
    expect([uploads(nano).length, uploads(micro).length]).toEqual(sent);
    // the built CLI, spawned, with APNS_CERT_DEBUG=1
    const spawned = await runCli(['deploy', '--check'], { env: { ...env, APNS_CERT_DEBUG: '1' } });
    outputs.push(spawned);
    expect(spawned.code, spawned.stderr).toBe(0);
    expect(spawned.stdout).toMatch(/^acme {2}nanomdm {2}nanomdm {2}current/);
    expect([uploads(nano).length, uploads(micro).length]).toEqual(sent);
  });

  it('stale: the sticky server still runs the previous certificate after the upload; exit 1 with a hint', async () => {
    const topic = mdmTopic();
    const old = issue(topic, 100);
    const cert = issue(topic, 365);
    const env = await recordWith([old, cert]);
    const server = await fake('nanomdm', 'sticky', old);
    await addTarget(env, 'nanomdm', server.url);
    expect((await cli(['deploy', 'acme'], env)).code).toBe(1); // mismatch
    const r = await cli(['deploy', 'acme', '--check'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`nanomdm {2}stale {2}runs the superseded certificate ${old.serial}`));
    expect(r.stdout).toContain(`active: ${cert.serial}`);
    expect(r.stderr).toContain('hint: apns-cert deploy acme --target nanomdm');
    expect(uploads(server)).toHaveLength(1); // the deploy's, none from --check
  });

  it('stale on Fleet: it runs a superseded certificate of the record, found by serial', async () => {
    const topic = mdmTopic();
    const old = issue(topic, 100);
    const env = await recordWith([old, issue(topic, 365)]);
    const server = await fake('fleet', 'normal', old);
    await addTarget(env, 'fleet', server.url);
    const r = await cli(['deploy', 'acme', '--check', '--json'], env);
    expect(r.code).toBe(1);
    expect(checkJson(r).targets[0]).toMatchObject({ state: 'stale', running: { serialNumber: old.serial, topic } });
    expect(uploads(server)).toEqual([]);
  });

  it("foreign: another topic (micromdm, fleet), or the record's topic but not its certificate (nanomdm)", async () => {
    const topic = mdmTopic();
    const otherTopic = mdmTopic();
    const env = await recordWith([issue(topic, 365)]);
    const micro = await fake('micromdm', 'normal', issue(otherTopic, 200));
    const fleetServer = await fake('fleet', 'normal', issue(otherTopic, 200));
    const nano = await fake('nanomdm', 'normal', issue(topic, 300));
    await addTarget(env, 'micromdm', micro.url);
    await addTarget(env, 'fleet', fleetServer.url);
    await addTarget(env, 'nanomdm', nano.url);
    const r = await cli(['deploy', 'acme', '--check'], env);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/micromdm {2}foreign {2}runs a certificate not in the record's history/);
    expect(lines[0]).toContain(`of another topic (${otherTopic}; the record's is ${topic})`);
    expect(lines[1]).toMatch(/fleet {2}foreign .*of another topic/);
    expect(lines[2]).toMatch(/nanomdm {2}foreign .*of the record's topic/);
    expect(r.stderr).toContain('--allow-new-topic');
    for (const f of [micro, fleetServer, nano]) expect(uploads(f)).toEqual([]);
  });

  it('unknown: an old NanoMDM (400 and 405 to GET), a server that never answers, 401; exit 1 (not 69/77), causes named', async () => {
    const env = await recordWith([issue(mdmTopic(), 365)]);
    const old400 = await fake('nanomdm', 'old-get-400');
    const old405 = await fake('nanohub', 'old-get-405');
    const silent = await fake('nanomdm', 'silent');
    const denied = await fake('micromdm', 'normal', undefined, 'another-key');
    await addTarget(env, 'nanomdm', old400.url, 'old400');
    await addTarget(env, 'nanohub', old405.url, 'old405');
    await addTarget(env, 'nanomdm', silent.url, 'silent');
    await addTarget(env, 'micromdm', denied.url, 'denied');
    const started = Date.now();
    const r = await cli(['deploy', 'acme', '--check', '--json'], env, 15_000);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(r.code, r.stderr).toBe(1);
    const t = checkJson(r).targets;
    expect(t.map((x) => [x.label, x.state, x.running])).toEqual([
      ['old400', 'unknown', null],
      ['old405', 'unknown', null],
      ['silent', 'unknown', null],
      ['denied', 'unknown', null],
    ]);
    expect(t[0]!.message).toMatch(/no read-back \(HTTP 400/);
    expect(t[1]!.message).toMatch(/no read-back \(HTTP 405/);
    expect(t[2]!.message).toMatch(/no complete answer within 0\.8 s/);
    expect(t[3]!.message).toMatch(/refused the credential \(HTTP 401\)/);
    const text = await cli(['deploy', 'acme', '--check', '--target', 'denied'], env);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('hint: apns-cert target add acme --kind micromdm --label denied');
    for (const f of [old400, old405, silent, denied]) expect(uploads(f)).toEqual([]);
  });

  it('file targets: the PEM at the path and a .p12 (with its sealed password) are read (current); a missing file is unknown', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const dir = tempDir();
    writeFileSync(join(dir, 'push.pem'), cert.certPem + cert.keyPem);
    writeFileSync(join(dir, 'p12-password'), 'p12 secret\n', { mode: 0o600 });
    for (const [label, path, extra] of [
      ['disk', join(dir, 'push.pem'), []],
      ['gone', join(dir, 'missing.pem'), []],
      ['bundle', join(dir, 'push.p12'), ['--format', 'p12', '--password-file', join(dir, 'p12-password')]],
    ] as const) {
      const r = await cli(['target', 'add', 'acme', '--kind', 'file', '--path', path, '--label', label, ...extra], env);
      expect(r.code, r.stderr).toBe(0);
    }
    const before = await cli(['deploy', 'acme', '--check', '--json'], env);
    expect(checkJson(before).targets.map((x) => x.state)).toEqual(['current', 'unknown', 'unknown']);
    const deployed = await cli(['deploy', 'acme', '--target', 'bundle'], env);
    expect(deployed.code, deployed.stderr).toBe(0);
    const r = await cli(['deploy', 'acme', '--check', '--json'], env);
    expect(r.code).toBe(1);
    const t = checkJson(r).targets;
    expect(t.map((x) => [x.label, x.kind, x.state])).toEqual([
      ['disk', 'file', 'current'],
      ['gone', 'file', 'unknown'],
      ['bundle', 'file', 'current'],
    ]);
    expect(t[1]!.message).toContain('no such file');
  });

  it('without a name: every record in service with targets (a retired one is skipped); usage errors', async () => {
    const cert = issue(mdmTopic(), 365);
    const env = await recordWith([cert]);
    const server = await fake('nanomdm', 'normal', cert);
    await addTarget(env, 'nanomdm', server.url);
    const other = issue(mdmTopic(), 365);
    await recordWith([other], env, 'beta');
    const otherServer = await fake('nanomdm', 'normal', other);
    await addTarget(env, 'nanomdm', otherServer.url, 'nanomdm', 'beta');
    await recordWith([issue(mdmTopic(), 365)], env, 'old');
    await addTarget(env, 'nanomdm', otherServer.url, 'nanomdm', 'old');
    expect((await cli(['retire', 'old', '--yes'], env)).code).toBe(0);
    let r = await cli(['deploy', '--check'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('  ').slice(0, 4).join(' ')),
    ).toEqual(['acme nanomdm nanomdm current', 'beta nanomdm nanomdm current']);
    r = await cli(['deploy'], env);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('only --check goes without one');
    r = await cli(['deploy', 'acme', '--check', '--dry-run'], env);
    expect(r.code).toBe(64);
    r = await cli(['deploy', 'acme', '--check', '--target', 'nope'], env);
    expect(r.code).toBe(64);
  });
});

describe('doctor and check-expiry --targets', () => {
  let env: NodeJS.ProcessEnv;
  let stale: FakeMdm;
  let current: FakeMdm;
  let foreign: FakeMdm;
  const topic = mdmTopic();
  const otherTopic = mdmTopic();

  let apns: FakeApns;
  /** doctor's network check and probe against loopback (a fake APNs that accepts the test CA's certificates). */
  const doctorApns = () => [
    '--apns-endpoint',
    new URL(apns.url).host,
    '--apns-url',
    apns.url,
    '--ca-file',
    file('apns-ca.pem'),
  ];

  beforeAll(async () => {
    apns = await startFakeApns(ca, 'answers');
    apnsServers.push(apns);
    writeFileSync(file('apns-ca.pem'), apns.serverCaPem);
    const old = issue(topic, 100);
    const cert = issue(topic, 365);
    env = await recordWith([old, cert]);
    current = await fake('nanomdm', 'normal', cert);
    stale = await fake('fleet', 'normal', old);
    await addTarget(env, 'nanomdm', current.url);
    await addTarget(env, 'fleet', stale.url);
  });

  it('doctor online: one line per target (stale warns); --offline skips them with a note', async () => {
    let r = await cli(['doctor', ...doctorApns()], env, 30_000);
    expect(r.code, r.stdout).toBe(0); // stale warns: a warning is no failure
    expect(r.stdout).toMatch(/ok {4}target acme\/nanomdm +nanomdm: current: runs the active certificate/);
    expect(r.stdout).toMatch(/warn {2}target acme\/fleet +fleet: stale: runs the superseded certificate/);
    expect(r.stdout).toContain('hint: apns-cert deploy acme --check --target fleet');
    const json = await cli(['doctor', '--json', ...doctorApns()], env, 30_000);
    const checks = (JSON.parse(json.stdout) as { checks: Array<{ check: string; status: string }> }).checks;
    expect(checks.filter((c) => c.check.startsWith('target '))).toMatchObject([
      { check: 'target acme/nanomdm', status: 'ok' },
      { check: 'target acme/fleet', status: 'warn' },
    ]);
    r = await cli(['doctor', '--offline'], env);
    expect(r.stdout).not.toContain('target acme');
    expect(r.stderr).toContain('the targets were not checked (--offline)');
  });

  it('check-expiry --targets: a stale target is WARNING in text, json, nagios and prometheus (promtool)', async () => {
    let r = await cli(['check-expiry', '--targets'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^WARNING: /);
    expect(r.stdout).toMatch(/target nanomdm \(nanomdm\) {2}current/);
    expect(r.stdout).toMatch(/target fleet \(fleet\) {2}stale/);
    r = await cli(['check-expiry', '--targets', '--json'], env);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { status: string; certificates: Array<{ targets: unknown[] }> };
    expect(doc.status).toBe('warning');
    expect(doc.certificates[0]!.targets).toMatchObject([
      { label: 'nanomdm', kind: 'nanomdm', state: 'current' },
      { label: 'fleet', kind: 'fleet', state: 'stale' },
    ]);
    // without --targets: no targets field, and no request to any server
    const before = current.requests.length + stale.requests.length;
    r = await cli(['check-expiry', '--json'], env);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { certificates: object[] }).certificates[0]).not.toHaveProperty('targets');
    expect(current.requests.length + stale.requests.length).toBe(before);
    r = await cli(['check-expiry', '--targets', '--format', 'nagios'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^APNS-CERT WARNING - acme target fleet stale: runs the superseded certificate/);
    expect(r.stdout).toContain("'acme/nanomdm_current'=1;;;0;1 'acme/fleet_current'=0;;;0;1");
    r = await cli(['check-expiry', '--targets', '--format', 'prometheus'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('# TYPE apns_cert_target_current gauge');
    expect(r.stdout).toContain('apns_cert_target_current{name="acme",target="nanomdm"} 1');
    expect(r.stdout).toContain('apns_cert_target_current{name="acme",target="fleet"} 0');
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: r.stdout, encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    // the webhook message names the target that is not current
    const posted: string[] = [];
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posted.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    r = await cli(['check-expiry', '--targets', '-q'], { ...env, APNS_CERT_NOTIFY_URL: hookUrl });
    await new Promise<void>((resolve) => hook.close(() => resolve()));
    expect(r.code, r.stderr).toBe(1);
    expect(posted).toHaveLength(1);
    const message = JSON.parse(posted[0]!) as { text: string };
    expect(message.text).toMatch(/^APNS-CERT WARNING: acme target fleet stale: /);
    expect(message.text).not.toContain('target nanomdm');
    r = await cli(['check-expiry', '--targets', file('cred')], env);
    expect(r.code).toBe(3); // --targets is for the store's records, not files
  });

  it('check-expiry --targets: a target of another topic is CRITICAL (2); of the same topic WARNING', async () => {
    foreign = await fake('micromdm', 'normal', issue(otherTopic, 300));
    await addTarget(env, 'micromdm', foreign.url, 'mm');
    let r = await cli(['check-expiry', '--targets', '--format', 'nagios'], env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^APNS-CERT CRITICAL - .*acme target mm foreign: .*of another topic/);
    const doctor = await cli(['doctor', ...doctorApns()], env, 30_000);
    expect(doctor.code, doctor.stdout).toBe(1); // foreign fails doctor
    expect(doctor.stdout).toMatch(/FAIL {2}target acme\/mm +micromdm: foreign: /);
    expect((await cli(['target', 'remove', 'acme', 'mm'], env)).code).toBe(0);
    const sameTopic = await fake('micromdm', 'normal', issue(topic, 300));
    await addTarget(env, 'micromdm', sameTopic.url, 'mm');
    r = await cli(['check-expiry', '--targets', '--json'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('"state": "foreign"');
    for (const f of [current, stale, foreign, sameTopic]) expect(uploads(f)).toEqual([]);
  });
});

describe('the credential', () => {
  it('appears in no output of any run (half of them with APNS_CERT_DEBUG=1)', () => {
    expect(outputs.length).toBeGreaterThan(40);
    const forms = [
      CREDENTIAL,
      ...['nanomdm', 'nanohub', 'micromdm'].map((u) => Buffer.from(`${u}:${CREDENTIAL}`).toString('base64')),
    ];
    for (const r of outputs) for (const form of forms) expect(r.stdout + r.stderr).not.toContain(form);
  });
});

/** MicroMDM reads back only a certificate whose stored key is PKCS#1. */
function pkcs1(keyPem: string): string {
  return createPrivateKey(keyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
}
