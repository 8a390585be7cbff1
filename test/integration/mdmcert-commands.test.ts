/**
 * csr --via mdmcert and mdmcert-decrypt, in process, against the loopback fake of mdmcert.download
 * (test/helpers/fake-mdmcert.ts, which follows MicroMDM's mdmctl and Commandment's mdmcert.py).
 */
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PushRecord, StoreIndex } from '../../src/core/index-model.js';
import { parseCsr } from '../../src/core/csr-parse.js';
import { pemBlocks } from '../../src/core/input.js';
import { parsePushRequest } from '../../src/core/push-request.js';
import { toPem } from '../../src/core/certificate.js';
import { cleanEnv, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsr } from '../helpers/fake-apple.js';
import { startFakeMdmcert } from '../helpers/fake-mdmcert.js';
import type { FakeMdmcert } from '../helpers/fake-mdmcert.js';
import { runInProcess } from '../helpers/in-process.js';

const API_KEY = 'f00dcafe0123456789abcdef0123456789abcdeff00dcafe0123456789abcdef';

let fake: FakeMdmcert;
let mailbox: string;
let store: string;
let work: string;
let keyFile: string;
let caFile: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  mailbox = tempDir('apns-mailbox-');
  fake = await startFakeMdmcert({ apiKey: API_KEY, mailbox });
  caFile = join(mailbox, 'test-root.pem');
  writeFileSync(caFile, fake.vendor.root.pem);
});

afterAll(() => fake.close());

beforeEach(() => {
  store = tempDir();
  work = tempDir();
  keyFile = join(work, 'api-key');
  writeFileSync(keyFile, `${API_KEY}\n`, { mode: 0o600 });
  env = cleanEnv({
    APNS_CERT_STORE: store,
    APNS_CERT_PASSPHRASE: 'mdmcert',
    APNS_CERT_MDMCERT_URL: fake.url,
    APNS_CERT_MDMCERT_TIMEOUT_MS: '1500',
  });
});

afterEach(() => {
  fake.options.mode = 'sign';
  fake.options.cipher = 'aes-256-cbc';
  delete fake.options.hexStyle;
});

const csrArgs = (name = 'acme', extra: string[] = []) => [
  'csr',
  '--name',
  name,
  '--via',
  'mdmcert',
  '--email',
  'admin@acme.example',
  '--country',
  'US',
  '--mdmcert-api-key-file',
  keyFile,
  '--out',
  join(work, `${name}.csr.pem`),
  ...extra,
];

/** The record as the store's index has it (read from disk, not through apns-cert). */
function rec(name = 'acme'): PushRecord {
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as StoreIndex;
  return index.records[name]!;
}

const pendingKeyId = () => rec().pendingKey!.keyId;

function noKey(text: string) {
  expect(text).not.toContain(API_KEY);
  expect(text).not.toContain(API_KEY.slice(0, 12));
}

function lastMail(): string {
  const file = fake.requests.at(-1)?.mailed;
  if (!file) throw new Error(`nothing mailed (${fake.requests.at(-1)?.refusal})`);
  return file;
}

describe('csr --via mdmcert', () => {
  it('makes the keys, sends the request and records how the record is signed', async () => {
    const r = await runInProcess([...csrArgs(), '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    noKey(r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ name: 'acme', requestSent: true });
    const sent = fake.requests.at(-1)!;
    expect(sent.refusal).toBeNull();
    expect(sent.body!.email).toBe('admin@acme.example');
    expect(sent.body!.key).toBe(API_KEY);
    // the CSR sent is the one written, carrying the pending key
    const csrPem = readFileSync(join(work, 'acme.csr.pem'), 'utf8');
    expect(Buffer.from(sent.body!.csr as string, 'base64').toString('utf8')).toBe(csrPem);
    const record = rec();
    expect(record.signing).toEqual({ via: 'mdmcert', email: 'admin@acme.example' });
    expect(record.pendingKey!.keyId).toBe(parseCsr(pemBlocks(csrPem)[0]!.der, 'csr').publicKeyId);
    const exchange = record.pendingKey!.mdmcert!;
    expect(exchange.email).toBe('admin@acme.example');
    // the exchange certificate posted is the one kept; its key is sealed in the store, never in clear
    const posted = pemBlocks(Buffer.from(sent.body!.encrypt as string, 'base64').toString('utf8'))[0]!.der;
    expect(posted.toString('base64')).toBe(exchange.exchangeCertificate);
    const keysDir = readdirSync(join(store, 'keys'));
    expect(keysDir.some((f) => f.startsWith(exchange.exchangeKeyId))).toBe(true);
    for (const f of keysDir) expect(readFileSync(join(store, 'keys', f), 'utf8')).not.toMatch(/PRIVATE KEY/);
  });

  it('prints the next steps: the mail to E, then mdmcert-decrypt', async () => {
    const r = await runInProcess(csrArgs(), { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('admin@acme.example');
    expect(r.stderr).toContain('apns-cert mdmcert-decrypt <that file> --name acme');
  });

  it('takes the API key from APNS_CERT_MDMCERT_API_KEY', async () => {
    const args = csrArgs().filter((a, i, all) => a !== keyFile && all[i + 1] !== keyFile);
    const r = await runInProcess(args, { env: { ...env, APNS_CERT_MDMCERT_API_KEY: API_KEY } });
    expect(r.code, r.stderr).toBe(0);
    noKey(r.stdout + r.stderr);
  });

  it('no API key: 64 with a hint how to get one, before any key is made', async () => {
    const args = csrArgs().filter((a, i, all) => a !== keyFile && all[i + 1] !== keyFile);
    const before = fake.requests.length;
    const r = await runInProcess(args, { env });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/API key/);
    expect(r.stderr).toContain('https://mdmcert.download');
    expect(r.stderr).toMatch(/hint: apns-cert csr --name acme --via mdmcert .*--mdmcert-api-key-file/);
    expect(fake.requests.length).toBe(before);
    expect(existsSync(join(work, 'acme.csr.pem'))).toBe(false);
    expect(existsSync(join(store, 'index.json'))).toBe(false);
  });

  it('a plain-HTTP URL to a non-loopback host is refused before any key is made (64)', async () => {
    const r = await runInProcess([...csrArgs(), '--mdmcert-url', 'http://mdmcert.example/api/v1/signrequest'], {
      env,
    });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/plain HTTP/);
    expect(existsSync(join(store, 'index.json'))).toBe(false);
  });

  it.each([
    ['a reason', 'failure', 65, /refused: invalid email domain/],
    ['HTTP 500', 'http-500', 65, /refused: HTTP 500/],
    ['no answer within the timeout', 'silent', 69, /no answer .*within 1\.5 s/],
  ] as const)(
    '%s (fake mode %s): exit %i, the pending key stays (said), no exchange key kept',
    async (_what, mode, code, message) => {
      fake.options.mode = mode;
      fake.options.failureReason = 'invalid email domain';
      const r = await runInProcess(csrArgs(), { env });
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/stayed as the pending key of "acme"/);
      noKey(r.stdout + r.stderr);
      const record = rec();
      expect(record.pendingKey).not.toBeNull();
      expect(record.pendingKey!.mdmcert).toBeUndefined();
      expect(record.signing).toEqual({ via: 'none' });
      // only the push key is in the store: the exchange key went with the failed request
      expect(readdirSync(join(store, 'keys')).filter((f) => !f.endsWith('.tmp'))).toHaveLength(1);
      // and a retry with --force sends a new request
      fake.options.mode = 'sign';
      const retry = await runInProcess([...csrArgs(), '--force'], { env });
      expect(retry.code, retry.stderr).toBe(0);
      expect(rec().signing.via).toBe('mdmcert');
      expect(readdirSync(join(store, 'keys'))).toHaveLength(2);
    },
  );

  it('--via none with a vendor identity, or --via mdmcert with one: 64, nothing made', async () => {
    for (const via of ['none', 'mdmcert']) {
      const before = readdirSync(work).sort();
      const r = await runInProcess(
        [
          'csr',
          '--name',
          'acme',
          '--via',
          via,
          '--email',
          'a@b.example',
          '--vendor',
          'ab12',
          '--out',
          join(work, 'n.csr'),
        ],
        { env },
      );
      expect(r.code, r.stderr).toBe(64);
      expect(readdirSync(work).sort()).toEqual(before);
    }
  });

  it('--via vendor without the vendor identity: 64 with a hint', async () => {
    const r = await runInProcess(['csr', '--name', 'acme', '--via', 'vendor', '--out', join(work, 'v.csr')], { env });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/hint: apns-cert csr --name acme --vendor <sha256-prefix> {3}# or --vendor-cert/);
  });
});

describe('mdmcert-decrypt', () => {
  async function sent(name = 'acme'): Promise<string> {
    const r = await runInProcess(csrArgs(name), { env });
    expect(r.code, r.stderr).toBe(0);
    return lastMail();
  }

  it('by --name: writes the request (0644), every check holds with the vendor root, portal steps', async () => {
    const mail = await sent();
    const out = join(work, 'acme.request.b64');
    const r = await runInProcess(['mdmcert-decrypt', mail, '--name', 'acme', '--out', out, '--ca-file', caFile], {
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    expect(statSync(out).mode & 0o777).toBe(0o644);
    const request = parsePushRequest(readFileSync(out), out);
    expect(request.csr.publicKeyId).toBe(pendingKeyId());
    for (const check of ['csr-signature', 'csr-key', 'vendor-signature', 'signature-hash', 'chain-root'])
      expect(r.stderr).toMatch(new RegExp(`^ok +${check}:`, 'm'));
    expect(r.stderr).not.toMatch(/^(FAIL|warn) /m);
    expect(r.stderr).toContain(`Upload the signed request ${out} (not the CSR)`);
    expect(r.stderr).toContain('apns-cert import <downloaded .pem> --name acme');
  });

  it('without --name: tries each pending request; default <name>.request.b64 in the working directory', async () => {
    await sent('other');
    const mail = await sent('acme');
    const r = await runInProcess(['mdmcert-decrypt', mail, '--ca-file', caFile, '--json'], { env, cwd: work });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ name: 'acme', requestPath: join(work, 'acme.request.b64'), ok: true });
    // verify's checks of a request for upload, with this record's pending key (src/core/request-checks.ts)
    expect(doc.checks.map((c: { check: string }) => c.check)).toEqual([
      'plist-keys',
      'csr-decodes',
      'chain-decodes',
      'signature-decodes',
      'csr-signature',
      'csr-key',
      'vendor-signature',
      'signature-hash',
      'chain-order',
      'chain-root',
      'chain-validity',
      'vendor-days-left',
    ]);
    expect(doc.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
  });

  it('3DES mail in upper-case hex with line breaks', async () => {
    fake.options.cipher = 'des-ede3-cbc';
    fake.options.hexStyle = 'upper-wrapped';
    const mail = await sent();
    expect(readFileSync(mail, 'utf8')).toMatch(/^[0-9A-F]+\r\n[0-9A-F]/);
    const out = join(work, 'r.b64');
    const r = await runInProcess(['mdmcert-decrypt', mail, '--out', out, '--ca-file', caFile], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(parsePushRequest(readFileSync(out), out).csr.publicKeyId).toBe(pendingKeyId());
  });

  it('without the vendor root: the chain check fails, exit 1, the file is kept', async () => {
    const mail = await sent();
    const out = join(work, 'r.b64');
    const r = await runInProcess(['mdmcert-decrypt', mail, '--out', out], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^FAIL +chain-root:/m);
    expect(existsSync(out)).toBe(true);
  });

  it('a file for another store: 65, nothing written', async () => {
    const mail = await sent();
    const otherEnv = { ...env, APNS_CERT_STORE: tempDir() };
    const made = await runInProcess([...csrArgs('acme').slice(0, -2), '--out', join(work, 'o.csr')], { env: otherEnv });
    expect(made.code, made.stderr).toBe(0);
    const out = join(work, 'x.b64');
    const r = await runInProcess(['mdmcert-decrypt', mail, '--out', out], { env: otherEnv });
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/not encrypted to any request pending/);
    expect(existsSync(out)).toBe(false);
    const named = await runInProcess(['mdmcert-decrypt', mail, '--name', 'acme', '--out', out], { env: otherEnv });
    expect(named.code).toBe(65);
    expect(existsSync(out)).toBe(false);
  });

  it('a damaged file: 65, nothing written', async () => {
    const mail = await sent();
    const hex = readFileSync(mail, 'utf8').trim();
    const cases = {
      'not hex': 'this is not the mailed file',
      truncated: hex.slice(0, hex.length / 2),
      // the last cipher block flipped: padding no longer decrypts
      'flipped content': `${hex.slice(0, -8)}${hex.slice(-8) === '00000000' ? 'ffffffff' : '00000000'}`,
    };
    for (const [what, text] of Object.entries(cases)) {
      const file = join(work, `${what}.p7`);
      writeFileSync(file, text);
      const out = join(work, `${what}.b64`);
      const r = await runInProcess(['mdmcert-decrypt', file, '--name', 'acme', '--out', out], { env });
      expect(r.code, `${what}: ${r.stderr}`).toBe(65);
      expect(existsSync(out), what).toBe(false);
    }
  });
});

describe('renew of a via-mdmcert record (scripted)', () => {
  it('without an API key: 64 before any key is made; with one: a new request, requestSent', async () => {
    expect((await runInProcess(csrArgs('acme', ['--apple-id', 'mdm@acme.example']), { env })).code).toBe(0);
    const out = join(work, 'acme.request.b64');
    expect((await runInProcess(['mdmcert-decrypt', lastMail(), '--out', out, '--ca-file', caFile], { env })).code).toBe(
      0,
    );
    const request = parsePushRequest(readFileSync(out), out);
    const now = new Date();
    const certFile = join(work, 'apple.pem');
    writeFileSync(
      certFile,
      signCsr(createFakeCa(), toPem(request.csr.der, 'CERTIFICATE REQUEST'), {
        topic: mdmTopic(),
        notBefore: daysFrom(now, -1),
        notAfter: daysFrom(now, 20),
      }),
    );
    expect((await runInProcess(['import', certFile, '--name', 'acme'], { env })).code).toBe(0);
    const before = fake.requests.length;
    const keysBefore = readdirSync(join(store, 'keys')).sort();
    const renewArgs = ['renew', 'acme', '--apple-id', 'mdm@acme.example', '--csr-out', join(work, 'r.csr'), '--json'];
    const refused = await runInProcess(renewArgs, { env });
    expect(refused.code, refused.stderr).toBe(64);
    expect(refused.stderr).toMatch(/hint: apns-cert renew acme --apple-id <id> --mdmcert-api-key-file/);
    expect(fake.requests.length).toBe(before);
    expect(rec().pendingKey).toBeNull();
    expect(readdirSync(join(store, 'keys')).sort()).toEqual(keysBefore);
    expect(existsSync(join(work, 'r.csr'))).toBe(false);

    const sent = await runInProcess([...renewArgs, '--mdmcert-api-key-file', keyFile], { env });
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ name: 'acme', csrPath: join(work, 'r.csr'), requestSent: true });
    expect(fake.requests.length).toBe(before + 1);
    expect(fake.requests.at(-1)!.body!.email).toBe('admin@acme.example');
    expect(rec().pendingKey!.mdmcert!.email).toBe('admin@acme.example');
    noKey(sent.stdout + sent.stderr + refused.stderr);
  });
});
