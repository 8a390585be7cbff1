import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { startFakeApns } from '../helpers/fake-apns.js';
import type { FakeApns } from '../helpers/fake-apns.js';
import { startGoApns } from '../helpers/go-apns.js';
import type { GoApns } from '../helpers/go-apns.js';
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
  for (const [name, days] of [
    ['acme', 20],
    ['beta', 200],
  ] as const) {
    expect((await runInProcess(['csr', '--name', name, '--out', join(work, `${name}.csr`)], { env })).code).toBe(0);
    signCsrFile(ca, join(work, `${name}.csr`), join(work, `${name}.pem`), {
      topic: name === 'acme' ? topic : mdmTopic(),
      notBefore: daysFrom(NOW, -10),
      notAfter: daysFrom(NOW, days),
    });
    expect((await runInProcess(['import', join(work, `${name}.pem`)], { env })).code).toBe(0);
  }
});

describe('check-expiry reads expiry.json, and only while it was made from the current index.json', () => {
  it('each change of the index leaves expiry.json (0600); check-expiry answers from it; a changed index makes it read the index', async () => {
    const summaryPath = join(store, 'expiry.json');
    // the header line (version, the stamp of index.json), then the records, a line each
    const text = readFileSync(summaryPath, 'utf8');
    const header = text.slice(0, text.indexOf('\n'));
    const records = JSON.parse(text.slice(header.length + 1));
    expect(text.split('\n')).toHaveLength(1 + records.length + 3);
    expect(statSync(summaryPath).mode & 0o777).toBe(0o600);
    expect(records.map((r: { name: string }) => r.name).sort()).toEqual(['acme', 'beta']);
    const before = await runInProcess(['check-expiry', '--json', '--name', 'beta'], { env });
    expect(JSON.parse(before.stdout).status).toBe('ok');

    // Proof of which file was read: a summary that says beta expired (its stamp kept) is believed ...
    const saved = readFileSync(summaryPath);
    const indexPath = join(store, 'index.json');
    const savedIndex = readFileSync(indexPath);
    try {
      records.find((r: { name: string }) => r.name === 'beta').notAfter = '2020-01-01T00:00:00.000Z';
      writeFileSync(summaryPath, `${header}\n${JSON.stringify(records)}\n`);
      let r = await runInProcess(['check-expiry', '--json', '--name', 'beta'], { env });
      expect(r.code).toBe(2);
      // ... until index.json is no longer the file it was made from (here: the same records, re-indented),
      // then the index decides.
      writeFileSync(indexPath, JSON.stringify(JSON.parse(savedIndex.toString('utf8')), null, 1));
      r = await runInProcess(['check-expiry', '--json', '--name', 'beta'], { env });
      expect(r.code, r.stdout).toBe(0);
    } finally {
      writeFileSync(summaryPath, saved);
      writeFileSync(indexPath, savedIndex);
    }
  });
});

describe('check-expiry monitoring formats', () => {
  it('prometheus: one series per certificate and apns_cert_check_success', async () => {
    const r = await runInProcess(['check-expiry', '--format', 'prometheus'], { env });
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    const value = (metric: string, name: string) =>
      Number(
        lines
          .find((l) => l.startsWith(`${metric}{name="${name}"`))!
          .split(' ')
          .pop(),
      );
    expect(value('apns_cert_status', 'acme')).toBe(1);
    expect(value('apns_cert_status', 'beta')).toBe(0);
    expect(value('apns_cert_expires_in_seconds', 'acme')).toBeGreaterThan(19 * 86400);
    expect(value('apns_cert_expires_in_seconds', 'acme')).toBeLessThanOrEqual(20 * 86400);
    expect(value('apns_cert_not_after_timestamp_seconds', 'acme')).toBe(Math.floor(daysFrom(NOW, 20).getTime() / 1000)); // X.509 keeps whole seconds
    expect(lines).toContain(`apns_cert_status{name="acme",topic="${topic}"} 1`);
    expect(lines).toContain('apns_cert_check_success 1');
    expect(lines.filter((l) => l.startsWith('# TYPE')).every((l) => l.endsWith(' gauge'))).toBe(true);
  });

  it('prometheus names each unreadable file on stderr; stdout stays valid exposition format (promtool check metrics)', async () => {
    const hostile = join(work, 'quote"back\\slash\nline.pem');
    writeFileSync(hostile, readFileSync(join(work, 'beta.pem')));
    const missing = join(work, 'missing.pem');
    writeFileSync(join(work, 'garbage.pem'), 'not a certificate');
    const r = await runInProcess(
      ['check-expiry', '--format', 'prometheus', join(work, 'acme.pem'), hostile, missing, join(work, 'garbage.pem')],
      { env },
    );
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('apns_cert_check_success 0');
    const stderrLines = r.stderr.trim().split('\n');
    expect(stderrLines).toHaveLength(2);
    expect(stderrLines[0]).toMatch(new RegExp(`^apns-cert: check-expiry ${missing}: `));
    expect(stderrLines[1]).toMatch(new RegExp(`^apns-cert: check-expiry ${join(work, 'garbage.pem')}: `));
    for (const output of [r.stdout, (await runInProcess(['check-expiry', '--format', 'prometheus'], { env })).stdout]) {
      const lint = spawnSync('promtool', ['check', 'metrics'], { input: output, encoding: 'utf8' });
      expect(lint.error).toBeUndefined(); // promtool is installed (.ci/run installs prometheus)
      expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    }
    expect(r.stdout).toContain(`apns_cert_status{name="${join(work, 'quote\\"back\\\\slash\\nline.pem')}"`);
  });

  it('prometheus --output writes atomically, and reports check_success 0 when the store is missing', async () => {
    const dir = tempDir();
    const out = join(dir, 'apns_cert.prom');
    let r = await runInProcess(['check-expiry', '--format', 'prometheus', '--output', out], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toContain('apns_cert_check_success 1');
    expect(readdirSync(dir)).toEqual(['apns_cert.prom']);
    r = await runInProcess(['check-expiry', '--format', 'prometheus', '--output', out], {
      env: { ...env, APNS_CERT_STORE: join(dir, 'none') },
    });
    expect(r.code).toBe(3);
    expect(readFileSync(out, 'utf8')).toContain('apns_cert_check_success 0');
    expect(r.stderr).toContain(`no store at ${join(dir, 'none')}`);
    r = await runInProcess(['check-expiry', '--format', 'prometheus', '--output', join(dir, 'missing-dir', 'x.prom')], {
      env,
    });
    expect(r.code).toBe(3);
  });

  it('nagios: no | and no line break before the perfdata separator; labels quoted per the plugin guidelines', async () => {
    const hostile = join(work, "acme|x'y=z w.pem");
    writeFileSync(hostile, readFileSync(join(work, 'acme.pem')));
    const missing = join(work, 'gone|1\nline.pem');
    const r = await runInProcess(['check-expiry', '--format', 'nagios', hostile, missing], { env });
    expect(r.code).toBe(3);
    expect(r.stdout.endsWith('\n')).toBe(true);
    const lines = r.stdout.slice(0, -1).split('\n');
    expect(lines).toHaveLength(1);
    // Nagios splits the first line at its first |: status text on the left, perfdata on the right.
    const [text, perfdata] = [lines[0]!.slice(0, lines[0]!.indexOf('|')), lines[0]!.slice(lines[0]!.indexOf('|') + 1)];
    expect(text).toMatch(/^APNS-CERT UNKNOWN - /);
    expect(text).toContain("acme¦x'y=z w.pem");
    expect(text).toContain('gone¦1'); // and its line break is escaped: the output is one line
    // 'label'=value;warn;crit, space separated; inside the quotes '' is a quote, and no = may appear.
    const items = perfdata.trim().split(' ');
    expect(items).toHaveLength(1);
    const m = /^'((?:[^'=]|'')*)'=(-?\d+);30:;7:$/.exec(items[0]!);
    expect(m, items[0]).not.toBeNull();
    expect(m![1]!.replace(/''/g, "'")).toBe(`${work.replace(/[\s=|]/g, '_')}/acme_x'y_z_w.pem`);
  });

  it('nagios: one status line with perfdata, Nagios exit codes', async () => {
    let r = await runInProcess(['check-expiry', '--format', 'nagios'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^APNS-CERT WARNING - acme expires \d{4}-\d{2}-\d{2} \((19|20) days left\) \| 'acme'=(19|20);30:;7: 'beta'=(199|200);30:;7:\n$/,
    );
    r = await runInProcess(['check-expiry', '--format', 'nagios', '--name', 'beta'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^APNS-CERT OK - 1 certificate\(s\) OK, soonest beta in (199|200) days \| 'beta'=/);
    r = await runInProcess(['check-expiry', '--format', 'nagios', '--name', 'nobody'], { env });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^APNS-CERT UNKNOWN - nobody: no record "nobody" in the store/);
  });
});

describe('check-expiry wording', () => {
  it('15.2 days past expiry reads "expired 15 days ago" (text and nagios)', async () => {
    const at = new Date(daysFrom(NOW, 20).getTime() + 15.2 * 86_400_000).toISOString();
    const r = await runInProcess(['check-expiry', '--name', 'acme', '--at', at], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/acme .* expired 15 days ago\n/);
    const nagios = await runInProcess(['check-expiry', '--format', 'nagios', '--name', 'acme', '--at', at], { env });
    expect(nagios.stdout).toMatch(/^APNS-CERT CRITICAL - acme expired \d{4}-\d{2}-\d{2} \(expired 15 days ago\) \|/);
  });
});

describe('check-expiry --notify-file / APNS_CERT_NOTIFY_URL', () => {
  let server: Server;
  let origin: string;
  let url: string;
  const received: Array<{
    path: string | undefined;
    body: Record<string, unknown>;
    contentType: string | undefined;
    authorization: string | undefined;
  }> = [];
  let respond: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok');
  const urlFile = (value: string) => {
    const file = join(tempDir(), 'webhook-url');
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
    return file;
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({
          path: req.url,
          body: JSON.parse(body) as Record<string, unknown>,
          contentType: req.headers['content-type'],
          authorization: req.headers.authorization,
        });
        respond(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    url = `${origin}/hook`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('posts a Slack/Teams-style message with the structured result when WARNING or worse', async () => {
    received.length = 0;
    const r = await runCli(['check-expiry', '-q', '--notify-file', urlFile(url)], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe('');
    expect(received).toHaveLength(1);
    expect(received[0]!.contentType).toBe('application/json');
    expect(received[0]!.body.text).toMatch(/^APNS-CERT WARNING: acme expires/);
    expect(received[0]!.body).toMatchObject({ schemaVersion: 1, status: 'warning', warnDays: 30 });
    received.length = 0;
    expect((await runCli(['check-expiry', '-q'], { env: { ...env, APNS_CERT_NOTIFY_URL: url } })).code).toBe(1);
    expect(received).toHaveLength(1);
  });

  it('sends nothing when all is OK', async () => {
    received.length = 0;
    expect((await runInProcess(['check-expiry', '--name', 'beta', '--notify-file', urlFile(url)], { env })).code).toBe(
      0,
    );
    expect(received).toHaveLength(0);
  });

  it('--notify <url> is refused (3) without echoing the URL: a command-line value is in every process list', async () => {
    received.length = 0;
    const r = await runInProcess(['check-expiry', '-q', '--notify', `${url}/T000/SECRET-TOKEN`], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/--notify <url> is refused: a webhook URL is a secret/);
    expect(r.stderr).toMatch(/hint: .*--notify-file/);
    expect(r.stderr).not.toContain('SECRET-TOKEN');
    expect(received).toHaveLength(0);
    const help = await runInProcess(['check-expiry', '--help'], { env });
    expect(help.stdout).toMatch(/--notify-file <file>/);
    expect(help.stdout).toMatch(/webhook URL is a credential/);
    expect(help.stdout).not.toMatch(/--notify <url>/);
  });

  it('a URL with user:password@ and a query string is named by its origin only; the credentials go as Basic auth', async () => {
    received.length = 0;
    respond = (_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    };
    try {
      const secretUrl = `http://hookuser:pa55-SECRET@${origin.slice('http://'.length)}/services/T000/B000/PATH-SECRET?token=QUERY-SECRET`;
      for (const how of [['--notify-file', urlFile(secretUrl)], []]) {
        const r = await runInProcess(['check-expiry', '-q', ...how], {
          env: { ...env, APNS_CERT_NOTIFY_URL: how.length === 0 ? secretUrl : undefined },
        });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(
          new RegExp(
            `^apns-cert: notify ${origin.replace(/\./g, '\\.')}: the webhook answered HTTP 500\nhint: curl .*(\\$\\(cat '.*webhook-url'\\)|\\$APNS_CERT_NOTIFY_URL)"\n$`,
          ),
        );
        for (const secret of ['hookuser', 'pa55', 'PATH-SECRET', 'QUERY-SECRET'])
          expect(r.stderr).not.toContain(secret);
      }
      expect(received).toHaveLength(2);
      expect(received[0]!.path).toBe('/services/T000/B000/PATH-SECRET?token=QUERY-SECRET');
      expect(received[0]!.authorization).toBe(`Basic ${Buffer.from('hookuser:pa55-SECRET').toString('base64')}`);
      // a value that is no URL at all is not echoed either
      const r = await runInProcess(['check-expiry', '--notify-file', urlFile('hooks.example.com/NOT-A-URL-SECRET')], {
        env,
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/read --notify-file .*: the webhook URL is not a URL/);
      expect(r.stderr).not.toContain('NOT-A-URL-SECRET');
    } finally {
      respond = (_req, res) => res.end('ok');
    }
  });

  it('a failed notification is reported on stderr and never hides the expiry status; a redirect is not followed', async () => {
    respond = () => undefined; // never answers
    let r = await runInProcess(['check-expiry', '-q', '--notify-file', urlFile(url)], {
      env: { ...env, APNS_CERT_NOTIFY_TIMEOUT_MS: '400' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no complete answer within 0.4 s/);
    received.length = 0;
    respond = (_req, res) => {
      res.writeHead(302, { location: `${origin}/elsewhere` });
      res.end();
    };
    r = await runInProcess(['check-expiry', '-q', '--notify-file', urlFile(url)], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the webhook answered HTTP 302 \(a redirect; apns-cert does not follow it\)/);
    expect(received.map((x) => x.path)).toEqual(['/hook']);
    respond = (_req, res) => {
      res.statusCode = 204;
      res.end();
    };
    r = await runInProcess(['check-expiry', '-q', '--notify-file', urlFile(url)], { env });
    expect([r.code, r.stderr]).toEqual([1, '']);
    respond = (_req, res) => res.end('ok');
  });

  it('the timeout covers the whole answer: a 200 that drips its body a byte every 0.5 s is a failure at the limit', async () => {
    const timers: NodeJS.Timeout[] = [];
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      timers.push(setInterval(() => res.write('o'), 500));
    };
    try {
      const r = await runInProcess(['check-expiry', '-q', '--notify-file', urlFile(url)], {
        env: { ...env, APNS_CERT_NOTIFY_TIMEOUT_MS: '2000' },
        timeoutMs: 30_000,
      });
      expect(r.code, 'killed by the 30 s timer: the drip kept it running').toBe(1);
      expect(r.stderr).toMatch(/no complete answer within 2 s/);
    } finally {
      for (const t of timers) clearInterval(t);
      respond = (_req, res) => res.end('ok');
    }
  });

  it('the answer is read up to a few KB: a 200 that streams without end is a failure, not a success', async () => {
    let sent = 0;
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (!res.destroyed && sent < 4 * 1024 ** 3) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
    };
    try {
      const r = await runInProcess(['check-expiry', '-q', '--notify-file', urlFile(url)], {
        env: { ...env, APNS_CERT_NOTIFY_TIMEOUT_MS: '20000' },
        timeoutMs: 30_000,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the webhook's answer \(HTTP 200\) is longer than 4096 bytes/);
    } finally {
      respond = (_req, res) => res.end('ok');
    }
  });

  it('a URL that is not http(s) is UNKNOWN (3) before anything is checked', async () => {
    const r = await runInProcess(['check-expiry', '--notify-file', urlFile('ftp://example.invalid/x')], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/only http\(s\) webhooks/);
  });

  it('warns when the URL file is readable by others', async () => {
    const file = urlFile(url);
    chmodSync(file, 0o644);
    const r = await runInProcess(['check-expiry', '-q', '--notify-file', file], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`warning: ${file} holds a webhook URL (a secret) and is mode 644: chmod 600 ${file}`);
  });
});

describe('probe against a loopback APNs', () => {
  let answers: FakeApns;
  let tls12: FakeApns;
  let tls13: FakeApns;
  beforeAll(async () => {
    [answers, tls12, tls13] = await Promise.all([
      startFakeApns(ca, 'answers'),
      startFakeApns(ca, 'refuses-tls12'),
      startFakeApns(ca, 'refuses-tls13'),
    ]);
    writeFileSync(join(work, 'server-ca.pem'), answers.serverCaPem + tls12.serverCaPem + tls13.serverCaPem);
  });
  afterAll(async () => {
    await Promise.all([answers.close(), tls12.close(), tls13.close()]);
  });
  const probe = (target: string, server: FakeApns, ...extra: string[]) =>
    runInProcess(
      ['probe', target, '--apns-url', server.url, '--ca-file', join(work, 'server-ca.pem'), '--json', ...extra],
      {
        env,
      },
    );

  it('accepted: 400 BadDeviceToken for a store record; the push carried the topic and an MDM payload', async () => {
    answers.seen.length = 0;
    const r = await probe('acme', answers);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      accepted: true,
      verdict: 'accepted',
      status: 400,
      reason: 'BadDeviceToken',
      topic,
    });
    expect(answers.seen[0]).toMatchObject({ topic, pushType: 'mdm', body: '{"mdm":"probe"}' });
    expect(answers.seen[0]!.path).toMatch(/^\/3\/device\/[0-9a-f]{64}$/);
  });

  it('rejected: an expired certificate gets 403 CertificateExpired', async () => {
    const keys = newKeyPem();
    writeFileSync(
      join(work, 'expired.pem'),
      issuePushCert(ca, {
        publicKeyPem: keys.publicPem,
        topic: mdmTopic(),
        notBefore: daysFrom(NOW, -400),
        notAfter: daysFrom(NOW, -35),
      }) + keys.privatePem,
    );
    const r = await probe(join(work, 'expired.pem'), answers);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'rejected', status: 403, reason: 'CertificateExpired' });
  });

  it("rejected at the handshake by node's TLS server: a certificate from another CA (TLS 1.2 and 1.3: closed without an answer)", async () => {
    const otherCa = createFakeCa('Somebody Else CA');
    const keys = newKeyPem();
    writeFileSync(
      join(work, 'foreign.pem'),
      issuePushCert(otherCa, {
        publicKeyPem: keys.publicPem,
        topic: mdmTopic(),
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 100),
      }) + keys.privatePem,
    );
    let r = await probe(join(work, 'foreign.pem'), tls12);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).detail).toMatch(
      /refused the certificate in the TLS handshake \(the server closed the connection during the handshake\)/,
    );
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
    const r = await runInProcess(['probe', 'acme', '--apns-url', `https://127.0.0.1:${port}`], { env });
    expect(r.code).toBe(69);
    expect(r.stdout).toMatch(new RegExp(`no connection to port ${port}`));
  });
});

describe("probe against Go's crypto/tls (RequireAndVerifyClientCert, a CA that did not sign the client certificate)", () => {
  let servers: Record<'tls13' | 'tls12' | 'plain-http', GoApns>;
  beforeAll(async () => {
    const [tls13, tls12, plain] = await Promise.all([
      startGoApns(ca, 'tls13'),
      startGoApns(ca, 'tls12'),
      startGoApns(ca, 'plain-http'),
    ]);
    servers = { tls13: tls13!, tls12: tls12!, 'plain-http': plain! };
    writeFileSync(join(work, 'go-server-ca.pem'), tls13!.serverCaPem + tls12!.serverCaPem);
    const keys = newKeyPem();
    const stranger = createFakeCa('Not The Client CA Of This Server');
    writeFileSync(
      join(work, 'go-foreign.pem'),
      issuePushCert(stranger, {
        publicKeyPem: keys.publicPem,
        topic: mdmTopic(),
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 100),
      }) + keys.privatePem,
    );
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
  });
  // A probe that waited for its timeout would say "unreachable": the 60 s timeout below is never the verdict.
  const goProbe = (target: string, server: GoApns) =>
    runInProcess(['probe', target, '--apns-url', server.url, '--ca-file', join(work, 'go-server-ca.pem'), '--json'], {
      env: { ...env, APNS_CERT_PROBE_TIMEOUT_MS: '60000' },
      timeoutMs: 50_000,
    });

  it.each(['tls13', 'tls12'] as const)(
    '%s: the alert is REJECTED (exit 1); a certificate of the right CA is ACCEPTED',
    async (mode) => {
      const r = await goProbe(join(work, 'go-foreign.pem'), servers[mode]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({
        verdict: 'rejected',
        reason: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      });
      expect(JSON.parse(r.stdout).detail).toMatch(/TLS alert 42, bad certificate/);
      const good = await goProbe('acme', servers[mode]);
      expect(good.code, good.stdout + good.stderr).toBe(0);
      expect(JSON.parse(good.stdout)).toMatchObject({ verdict: 'accepted', status: 400, reason: 'BadDeviceToken' });
    },
  );

  it('a plain-HTTP port is unreachable / not TLS (69), not REJECTED', async () => {
    const r = await goProbe('acme', servers['plain-http']);
    expect(r.code, r.stdout + r.stderr).toBe(69);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'unreachable', reason: 'NotTls' });
    expect(JSON.parse(r.stdout).detail).toContain(`port ${servers['plain-http'].port} does not answer as a TLS server`);
  });

  it('a port that accepts and closes at once, without a TLS answer, is unreachable (69), not REJECTED', async () => {
    const closer = createTcpServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (closer.address() as AddressInfo).port;
      const r = await runInProcess(['probe', 'acme', '--apns-url', `https://127.0.0.1:${port}`, '--json'], { env });
      expect(r.code, r.stdout + r.stderr).toBe(69);
      expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'unreachable', reason: 'NotTls' });
    } finally {
      closer.close();
    }
  });
});

describe('doctor', () => {
  it('reports every check, with --offline skipping the network', async () => {
    const r = await runCli(['doctor', '--offline', '--json'], { env });
    const report = JSON.parse(r.stdout);
    expect(r.code, r.stdout).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c: { check: string }) => c.check)).toEqual([
      'store',
      'secret-backend',
      'store-files',
      'store-orphans',
      'store-temporary-files',
      'store-permissions',
      'expiry acme',
      'expiry beta',
    ]);
    expect(report.checks.find((c: { check: string }) => c.check === 'expiry acme')).toMatchObject({
      status: 'warn',
      hint: 'apns-cert renew acme',
    });
    for (const c of report.checks) expect(Object.keys(c).sort()).toEqual(['check', 'hint', 'message', 'status']);
  });

  it('checks TCP reachability of the given endpoints in parallel, and probes each active certificate', async () => {
    const listener = createTcpServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const open = (listener.address() as AddressInfo).port;
    const fake = await startFakeApns(ca, 'answers');
    writeFileSync(join(work, 'doctor-ca.pem'), fake.serverCaPem);
    try {
      const r = await runInProcess(
        [
          'doctor',
          '--json',
          '--apns-endpoint',
          `127.0.0.1:${open}`,
          '--apns-endpoint',
          '127.0.0.1:1',
          '--apns-url',
          fake.url,
          '--ca-file',
          join(work, 'doctor-ca.pem'),
        ],
        { env },
      );
      const report = JSON.parse(r.stdout);
      expect(r.code).toBe(1);
      const byName = Object.fromEntries(report.checks.map((c: { check: string }) => [c.check, c]));
      expect(byName[`network 127.0.0.1:${open}`].status).toBe('ok');
      expect(byName['network 127.0.0.1:1']).toMatchObject({
        status: 'fail',
        message: 'no TCP connection: ECONNREFUSED',
      });
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
    const r = await runInProcess(['doctor', '--offline', '--json'], { env: denv });
    expect(r.code).toBe(1);
    const byName = Object.fromEntries(JSON.parse(r.stdout).checks.map((c: { check: string }) => [c.check, c]));
    expect(byName['store-files'].message).toMatch(/beta: key .* is missing/);
    expect(byName['store-orphans'].status).toBe('warn');
    expect(byName['store-temporary-files']).toMatchObject({
      status: 'warn',
      hint: `rm -f ${join(copy, 'index.json.4242.k3j5h2.tmp')}`,
    });
    expect(byName['store-permissions']).toMatchObject({ status: 'fail', message: 'index.json is 644, not 600' });
  });

  it('a wrong passphrase fails the secret-backend check', async () => {
    const r = await runInProcess(['doctor', '--offline'], { env: { ...env, APNS_CERT_PASSPHRASE: 'wrong' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+secret-backend\s+passphrase: unlock the store: wrong passphrase/);
  });
});

describe("README's operations examples", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('the systemd units pass systemd-analyze verify, with the real path of the bin in ExecStart', () => {
    const block = /systemd timer[\s\S]*?```ini\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(readme).toContain('command -v apns-cert');
    const units = block!.split(/^(?=# apns-cert-expiry\.(?:service|timer)$)/m).filter((u) => u.trim() !== '');
    expect(units.map((u) => u.split('\n')[0])).toEqual(['# apns-cert-expiry.service', '# apns-cert-expiry.timer']);
    expect(units[0]).toMatch(/^ExecStart=\/usr\/local\/bin\/apns-cert /m);
    const dir = tempDir();
    writeFileSync(
      join(dir, 'apns-cert-expiry.service'),
      units[0]!.replace(/^ExecStart=\/usr\/local\/bin\/apns-cert /m, `ExecStart=${BIN} `),
    );
    writeFileSync(join(dir, 'apns-cert-expiry.timer'), units[1]!);
    const verify = spawnSync(
      'systemd-analyze',
      ['verify', join(dir, 'apns-cert-expiry.service'), join(dir, 'apns-cert-expiry.timer')],
      { encoding: 'utf8' },
    );
    expect(verify.error).toBeUndefined(); // systemd-analyze is installed (.ci/run installs systemd)
    expect(verify.status, verify.stderr).toBe(0);
    // warnings (an unknown key, a setting that is ignored) exit 0 too: none may name these units
    expect(verify.stderr.split('\n').filter((l) => l.includes('apns-cert-expiry'))).toEqual([]);
  });

  it('no example puts a webhook URL on the command line', async () => {
    const help = (await runInProcess(['check-expiry', '--help'])).stdout;
    for (const text of [readme, help]) {
      for (const line of text.split('\n').filter((l) => /apns-cert\b.*\bcheck-expiry\b/.test(l)))
        expect(line).not.toMatch(/https?:\/\//);
    }
  });
});
