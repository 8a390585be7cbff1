import { chmodSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { startFakeApns } from '../helpers/fake-apns.js';
import type { FakeApns } from '../helpers/fake-apns.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem, signCsrFile } from '../helpers/fake-apple.js';

const NOW = new Date();
const ca = createFakeCa();
const topic = mdmTopic();
let store: string;
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  store = tempDir();
  work = tempDir();
  env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'ops' });
  for (const [name, days] of [['acme', 20], ['beta', 200]] as const) {
    expect((await runCli(['csr', '--name', name, '--out', join(work, `${name}.csr`)], { env })).code).toBe(0);
    signCsrFile(ca, join(work, `${name}.csr`), join(work, `${name}.pem`), { topic: name === 'acme' ? topic : mdmTopic(), notBefore: daysFrom(NOW, -10), notAfter: daysFrom(NOW, days) });
    expect((await runCli(['import', join(work, `${name}.pem`)], { env })).code).toBe(0);
  }
});

describe('check-expiry reads expiry.json, and only while it was made from the current index.json', () => {
  it('each change of the index leaves expiry.json (0600); check-expiry answers from it; a changed index makes it read the index', async () => {
    const summaryPath = join(store, 'expiry.json');
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8'));
    expect(statSync(summaryPath).mode & 0o777).toBe(0o600);
    expect(summary.records.map((r: { name: string }) => r.name).sort()).toEqual(['acme', 'beta']);
    const before = await runCli(['check-expiry', '--json', '--name', 'beta'], { env });
    expect(JSON.parse(before.stdout).status).toBe('ok');

    // Proof of which file was read: a summary that says beta expired (its stamp kept) is believed ...
    const saved = readFileSync(summaryPath);
    const indexPath = join(store, 'index.json');
    const savedIndex = readFileSync(indexPath);
    try {
      summary.records.find((r: { name: string }) => r.name === 'beta').notAfter = '2020-01-01T00:00:00.000Z';
      writeFileSync(summaryPath, JSON.stringify(summary));
      let r = await runCli(['check-expiry', '--json', '--name', 'beta'], { env });
      expect(r.code).toBe(2);
      // ... until index.json is no longer the file it was made from (here: the same records, re-indented),
      // then the index decides.
      writeFileSync(indexPath, JSON.stringify(JSON.parse(savedIndex.toString('utf8')), null, 1));
      r = await runCli(['check-expiry', '--json', '--name', 'beta'], { env });
      expect(r.code, r.stdout).toBe(0);
    } finally {
      writeFileSync(summaryPath, saved);
      writeFileSync(indexPath, savedIndex);
    }
  });
});

describe('check-expiry monitoring formats', () => {
  it('prometheus: one series per certificate and apns_cert_check_success', async () => {
    const r = await runCli(['check-expiry', '--format', 'prometheus'], { env });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    const value = (metric: string, name: string) => Number(lines.find((l) => l.startsWith(`${metric}{name="${name}"`))!.split(' ').pop());
    expect(value('apns_cert_status', 'acme')).toBe(1);
    expect(value('apns_cert_status', 'beta')).toBe(0);
    expect(value('apns_cert_expires_in_seconds', 'acme')).toBeGreaterThan(19 * 86400);
    expect(value('apns_cert_expires_in_seconds', 'acme')).toBeLessThanOrEqual(20 * 86400);
    expect(value('apns_cert_not_after_timestamp_seconds', 'acme')).toBe(Math.floor(daysFrom(NOW, 20).getTime() / 1000)); // X.509 keeps whole seconds
    expect(lines).toContain(`apns_cert_status{name="acme",topic="${topic}"} 1`);
    expect(lines).toContain('apns_cert_check_success 1');
    expect(lines.filter((l) => l.startsWith('# TYPE')).every((l) => l.endsWith(' gauge'))).toBe(true);
  });

  it('prometheus --output writes atomically, and reports check_success 0 when the store is missing', async () => {
    const dir = tempDir();
    const out = join(dir, 'apns_cert.prom');
    let r = await runCli(['check-expiry', '--format', 'prometheus', '--output', out], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toContain('apns_cert_check_success 1');
    expect(readdirSync(dir)).toEqual(['apns_cert.prom']);
    r = await runCli(['check-expiry', '--format', 'prometheus', '--output', out], { env: { ...env, APNS_CERT_STORE: join(dir, 'none') } });
    expect(r.code).toBe(3);
    expect(readFileSync(out, 'utf8')).toContain('apns_cert_check_success 0');
    r = await runCli(['check-expiry', '--format', 'prometheus', '--output', join(dir, 'missing-dir', 'x.prom')], { env });
    expect(r.code).toBe(3);
  });

  it('nagios: one status line with perfdata, Nagios exit codes', async () => {
    let r = await runCli(['check-expiry', '--format', 'nagios'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^APNS-CERT WARNING - acme expires \d{4}-\d{2}-\d{2} \((19|20) days left\) \| 'acme'=(19|20);30:;7: 'beta'=(199|200);30:;7:\n$/);
    r = await runCli(['check-expiry', '--format', 'nagios', '--name', 'beta'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^APNS-CERT OK - 1 certificate\(s\) OK, soonest beta in (199|200) days \| 'beta'=/);
    r = await runCli(['check-expiry', '--format', 'nagios', '--name', 'nobody'], { env });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^APNS-CERT UNKNOWN - nobody: no record "nobody" in the store/);
  });
});

describe('check-expiry --notify', () => {
  let server: Server;
  let url: string;
  const received: Array<{ body: Record<string, unknown>; contentType: string | undefined }> = [];
  let respond: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok');

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body: JSON.parse(body) as Record<string, unknown>, contentType: req.headers['content-type'] });
        respond(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('posts a Slack/Teams-style message with the structured result when WARNING or worse', async () => {
    received.length = 0;
    const r = await runCli(['check-expiry', '-q', '--notify', url], { env });
    expect(r.code).toBe(1);
    expect(received).toHaveLength(1);
    expect(received[0]!.contentType).toBe('application/json');
    expect(received[0]!.body.text).toMatch(/^APNS-CERT WARNING: acme expires/);
    expect(received[0]!.body).toMatchObject({ status: 'warning', warnDays: 30 });
  });

  it('sends nothing when all is OK', async () => {
    received.length = 0;
    expect((await runCli(['check-expiry', '--name', 'beta', '--notify', url], { env })).code).toBe(0);
    expect(received).toHaveLength(0);
  });

  it('a failed notification is reported on stderr and never hides the expiry status', async () => {
    respond = (_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    };
    let r = await runCli(['check-expiry', '-q', '--notify', url], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/notify http:\/\/127\.0\.0\.1:\d+: the webhook answered HTTP 500/);
    respond = () => undefined; // never answers
    r = await runCli(['check-expiry', '-q', '--notify', url], { env: { ...env, APNS_CERT_NOTIFY_TIMEOUT_MS: '400' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no answer within 0.4 s/);
    respond = (_req, res) => res.end('ok');
  });

  it('a URL that is not http(s) is UNKNOWN (3) before anything is checked', async () => {
    const r = await runCli(['check-expiry', '--notify', 'ftp://example.invalid/x'], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/only http\(s\) webhooks/);
  });
});

describe('probe against a loopback APNs', () => {
  let answers: FakeApns;
  let tls12: FakeApns;
  let tls13: FakeApns;
  beforeAll(async () => {
    [answers, tls12, tls13] = await Promise.all([startFakeApns(ca, 'answers'), startFakeApns(ca, 'refuses-tls12'), startFakeApns(ca, 'refuses-tls13')]);
    writeFileSync(join(work, 'server-ca.pem'), answers.serverCaPem + tls12.serverCaPem + tls13.serverCaPem);
  });
  afterAll(async () => {
    await Promise.all([answers.close(), tls12.close(), tls13.close()]);
  });
  const probe = (target: string, server: FakeApns, ...extra: string[]) =>
    runCli(['probe', target, '--apns-url', server.url, '--ca-file', join(work, 'server-ca.pem'), '--json', ...extra], { env });

  it('accepted: 400 BadDeviceToken for a store record; the push carried the topic and an MDM payload', async () => {
    answers.seen.length = 0;
    const r = await probe('acme', answers);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ accepted: true, verdict: 'accepted', status: 400, reason: 'BadDeviceToken', topic });
    expect(answers.seen[0]).toMatchObject({ topic, pushType: 'mdm', body: '{"mdm":"probe"}' });
    expect(answers.seen[0]!.path).toMatch(/^\/3\/device\/[0-9a-f]{64}$/);
  });

  it('rejected: an expired certificate gets 403 CertificateExpired', async () => {
    const keys = newKeyPem();
    writeFileSync(join(work, 'expired.pem'), issuePushCert(ca, { publicKeyPem: keys.publicPem, topic: mdmTopic(), notBefore: daysFrom(NOW, -400), notAfter: daysFrom(NOW, -35) }) + keys.privatePem);
    const r = await probe(join(work, 'expired.pem'), answers);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'rejected', status: 403, reason: 'CertificateExpired' });
  });

  it('rejected at the handshake: a certificate from another CA (TLS 1.2 alert, and TLS 1.3 close without an answer)', async () => {
    const otherCa = createFakeCa('Somebody Else CA');
    const keys = newKeyPem();
    writeFileSync(join(work, 'foreign.pem'), issuePushCert(otherCa, { publicKeyPem: keys.publicPem, topic: mdmTopic(), notBefore: daysFrom(NOW, -1), notAfter: daysFrom(NOW, 100) }) + keys.privatePem);
    let r = await probe(join(work, 'foreign.pem'), tls12);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).detail).toMatch(/TLS handshake failed/);
    r = await probe(join(work, 'foreign.pem'), tls13);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).verdict).toBe('rejected');
    // and the same servers accept a certificate of the right CA
    const good = await probe('acme', tls13);
    expect(good.code, good.stdout + good.stderr).toBe(0);
  });

  it('unreachable: exit 69 naming the port', async () => {
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await runCli(['probe', 'acme', '--apns-url', `https://127.0.0.1:${port}`], { env });
    expect(r.code).toBe(69);
    expect(r.stdout).toMatch(new RegExp(`no connection to port ${port}`));
  });
});

describe('doctor', () => {
  it('reports every check, with --offline skipping the network', async () => {
    const r = await runCli(['doctor', '--offline', '--json'], { env });
    const report = JSON.parse(r.stdout);
    expect(r.code, r.stdout).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c: { check: string }) => c.check)).toEqual(['store', 'secret-backend', 'store-files', 'store-orphans', 'store-temporary-files', 'store-permissions', 'expiry acme', 'expiry beta']);
    expect(report.checks.find((c: { check: string }) => c.check === 'expiry acme')).toMatchObject({ status: 'warn', hint: 'apns-cert renew acme' });
    for (const c of report.checks) expect(Object.keys(c).sort()).toEqual(['check', 'hint', 'message', 'status']);
  });

  it('checks TCP reachability of the given endpoints in parallel, and probes each active certificate', async () => {
    const listener = createTcpServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const open = (listener.address() as AddressInfo).port;
    const fake = await startFakeApns(ca, 'answers');
    writeFileSync(join(work, 'doctor-ca.pem'), fake.serverCaPem);
    try {
      const r = await runCli(['doctor', '--json', '--apns-endpoint', `127.0.0.1:${open}`, '--apns-endpoint', '127.0.0.1:1', '--apns-url', fake.url, '--ca-file', join(work, 'doctor-ca.pem')], { env });
      const report = JSON.parse(r.stdout);
      expect(r.code).toBe(1);
      const byName = Object.fromEntries(report.checks.map((c: { check: string }) => [c.check, c]));
      expect(byName[`network 127.0.0.1:${open}`].status).toBe('ok');
      expect(byName['network 127.0.0.1:1']).toMatchObject({ status: 'fail', message: 'no TCP connection: ECONNREFUSED' });
      expect(byName['probe acme'].status).toBe('ok');
      expect(byName['probe beta'].status).toBe('ok');
    } finally {
      listener.close();
      await fake.close();
    }
  });

  it('finds a missing key, an orphan key file and loose permissions', async () => {
    const copy = tempDir();
    const { cpSync } = await import('node:fs');
    cpSync(store, copy, { recursive: true });
    const denv = { ...env, APNS_CERT_STORE: copy };
    const index = JSON.parse(readFileSync(join(copy, 'index.json'), 'utf8'));
    rmSync(join(copy, 'keys', `${index.records.beta.certificates[0].keyId}.key`));
    writeFileSync(join(copy, 'keys', `${'0'.repeat(64)}.key`), '{}', { mode: 0o600 });
    writeFileSync(join(copy, 'index.json.4242.k3j5h2.tmp'), '{"sch', { mode: 0o600 }); // a write cut short
    chmodSync(join(copy, 'index.json'), 0o644);
    const r = await runCli(['doctor', '--offline', '--json'], { env: denv });
    expect(r.code).toBe(1);
    const byName = Object.fromEntries(JSON.parse(r.stdout).checks.map((c: { check: string }) => [c.check, c]));
    expect(byName['store-files'].message).toMatch(/beta: key .* is missing/);
    expect(byName['store-orphans'].status).toBe('warn');
    expect(byName['store-temporary-files']).toMatchObject({ status: 'warn', hint: `rm -f ${join(copy, 'index.json.4242.k3j5h2.tmp')}` });
    expect(byName['store-permissions']).toMatchObject({ status: 'fail', message: 'index.json is 644, not 600' });
  });

  it('a wrong passphrase fails the secret-backend check', async () => {
    const r = await runCli(['doctor', '--offline'], { env: { ...env, APNS_CERT_PASSPHRASE: 'wrong' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+secret-backend\s+passphrase: unlock the store: wrong passphrase/);
  });
});
