/**
 * Nothing from input steers the terminal: record names are validated by every command that takes one, and what
 * is echoed (file names, certificate subjects and topics, messages) reaches stdout and stderr with control
 * characters written out (\x1b, \u{202e}), while apns-cert's own colors still work.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir, treeDigest } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import forge from 'node-forge';
import { createFakeCa, daysFrom, issueCert, mdmTopic } from '../helpers/fake-apple.js';
import { Terminal, tmuxAvailable } from '../helpers/tmux.js';

/** Code points that must never reach a terminal raw (what src/output/output.ts escapes), newline aside. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/;

const NOW = new Date();
const ca = createFakeCa();
let store: string;
let work: string;
let env: NodeJS.ProcessEnv;
let evilCert: string;
const EVIL = 'x\u001b]0;pwned\u0007\u009b31m\u202eevil';
const evilTopic = `${mdmTopic()}\u001b[2J\u202e`;

beforeAll(async () => {
  store = tempDir();
  work = tempDir();
  env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'safe' });
  // a certificate (with its key) whose topic (the subject's UID) and CN carry escape sequences and a bidi override
  // forge UTF-8-encodes a UTF8String value itself
  const utf8 = (value: string) => ({ value, valueTagClass: forge.asn1.Type.UTF8 as number });
  const issued = issueCert(ca, {
    subject: [
      { type: '0.9.2342.19200300.100.1.1', ...utf8(evilTopic) },
      { name: 'commonName', ...utf8(`APSP:${EVIL}`) },
      { name: 'countryName', value: 'US' },
    ],
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 20),
  });
  evilCert = join(work, 'acme.pem');
  writeFileSync(evilCert, issued.pem);
  writeFileSync(join(work, 'acme-with-key.pem'), issued.pem + issued.privatePem);
  const imported = await runInProcess(['import', join(work, 'acme-with-key.pem'), '--name', 'acme'], { env });
  expect(imported.code, imported.stderr).toBe(0);
});

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('record names: the same rule for every command', () => {
  const commands: Array<[string, (name: string) => string[], number]> = [
    ['csr --name', (n) => ['csr', '--name', n, '--out', join(work, 'n.csr')], 64],
    ['import --name', (n) => ['import', evilCert, '--name', n], 64],
    ['show', (n) => ['show', n], 64],
    ['export', (n) => ['export', n, '--pem', join(work, 'n.pem')], 64],
    ['retire', (n) => ['retire', n, '--yes'], 64],
    ['renew', (n) => ['renew', n, '--apple-id', 'a@b.example'], 64],
    ['check-expiry --name', (n) => ['check-expiry', '--name', n], 3],
    ['verify --name', (n) => ['verify', evilCert, '--name', n], 64],
    ['probe', (n) => ['probe', n, '--apns-url', 'https://127.0.0.1:9'], 64],
  ];
  it.each(commands)(
    '%s refuses a name with an escape sequence or a newline, in one escaped line and a hint',
    async (_what, args, code) => {
      for (const bad of [EVIL, 'a\nb']) {
        const before = treeDigest(store);
        const r = await runInProcess(args(bad), { env });
        expect(r.code, r.stderr).toBe(code);
        expect(r.stderr).not.toMatch(RAW_CONTROL);
        expect(lines(r.stderr), r.stderr).toHaveLength(2);
        expect(r.stderr).toMatch(/names are 1-64 letters/);
        expect(r.stderr).toMatch(/^hint: apns-cert /m);
        expect(r.stderr).toContain(bad === EVIL ? 'x\\x1b]0;pwned\\x07\\x9b31m\\u{202e}evil' : 'a\\x0ab');
        expect(treeDigest(store)).toBe(before);
      }
    },
  );

  it('a name that is not valid UTF-8 (U+FFFD after decoding argv) is refused as such', () => {
    // bash passes the raw byte 0xff; node decodes argv to U+FFFD
    const script = `exec "${process.execPath}" "${BIN}" show $'acme\\xff'`;
    let stderr = '';
    let status = 0;
    try {
      execFileSync('bash', ['-c', script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const e = error as { status: number; stderr: Buffer };
      status = e.status;
      stderr = e.stderr.toString();
    }
    expect(status).toBe(64);
    expect(stderr).toMatch(/not valid UTF-8/);
  });

  it('"constructor" and "toString" are names like any other, not the prototype of the records', async () => {
    for (const name of ['constructor', 'toString']) {
      const show = await runInProcess(['show', name], { env });
      expect(show.code, show.stderr).toBe(64);
      expect(show.stderr).toContain(`no record "${name}"`);
      for (const args of [
        ['retire', name, '--yes'],
        ['export', name, '--pem', join(work, `${name}.pem`)],
        ['renew', name, '--apple-id', 'a@b.example'],
      ]) {
        const r = await runInProcess(args, { env });
        expect(r.code, r.stderr).toBe(64);
        expect(r.stderr).toContain(`no record "${name}"`);
      }
    }
    expect(
      (await runInProcess(['csr', '--name', 'constructor', '--out', join(work, 'constructor.csr')], { env })).code,
    ).toBe(0);
    const shown = await runInProcess(['show', 'constructor'], { env });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^status +pending$/m);
  });
});

describe('what is echoed from input is escaped', () => {
  it('a certificate subject and topic with escape sequences: list, show, inspect and check-expiry print them escaped', async () => {
    for (const args of [
      ['list'],
      ['show', 'acme'],
      ['inspect', evilCert],
      ['check-expiry'],
      ['check-expiry', evilCert],
    ]) {
      const r = await runInProcess(args, { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBeLessThan(3);
      expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(RAW_CONTROL);
      expect(r.stdout, args.join(' ')).toContain('\\x1b[2J\\u{202e}');
    }
    const inspected = await runInProcess(['inspect', evilCert], { env });
    expect(inspected.stdout).toContain('x\\x1b]0;pwned\\x07\\x9b31m\\u{202e}evil');
  });

  it('a file name with control characters is escaped in the error, also with stderr on a pipe', async () => {
    const name = join(work, `missing\u001b]8;;https:evil\u0007\u2066.pem`);
    for (const args of [
      ['inspect', name],
      ['check-expiry', name],
      ['verify', name, '--topic', 'x'],
    ]) {
      const r = await runInProcess(args, { env });
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(RAW_CONTROL);
      expect(r.stdout + r.stderr).toContain('missing\\x1b]8;;https:evil\\x07\\u{2066}.pem');
    }
  });

  it('prometheus stays valid (promtool) with a hostile topic, on stdout and in --output', async () => {
    const out = join(work, 'apns.prom');
    const r = await runInProcess(['check-expiry', '--format', 'prometheus'], { env });
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain('\\\\x1b[2J\\\\u{202e}');
    expect(
      (await runInProcess(['check-expiry', '--format', 'prometheus', '--output', out], { env })).code,
    ).toBeLessThan(3);
    for (const text of [r.stdout, readFileSync(out, 'utf8')]) {
      // Prometheus' own linter (the exposition format: only \\, \" and \n are escapes in a label value)
      execFileSync('promtool', ['check', 'metrics'], { input: text });
    }
  });

  it('--json stays JSON: C0 by JSON.stringify, C1 and bidi controls as \\u escapes, the same values when parsed', async () => {
    for (const args of [
      ['list', '--json'],
      ['show', 'acme', '--json'],
      ['inspect', evilCert, '--json'],
      ['check-expiry', '--json'],
    ]) {
      const r = await runInProcess(args, { env });
      expect(r.stdout, args.join(' ')).not.toMatch(RAW_CONTROL);
      expect(r.stdout).toContain('\\u001b[2J\\u202e');
      expect(JSON.stringify(JSON.parse(r.stdout))).toContain(JSON.stringify(evilTopic).slice(1, -1));
    }
  });

  it("apns-cert's own colors survive: they are applied after the escaping", async () => {
    const r = await runInProcess(['list'], { env: { ...env, FORCE_COLOR: '1' } });
    expect(r.stdout.startsWith('\u001b[1mNAME')).toBe(true);
    expect(r.stdout).toContain('\\x1b[2J\\u{202e}');
    // the only raw escapes are SGR color codes
    expect(r.stdout.replaceAll(new RegExp(String.raw`\u001b\[\d+m`, 'g'), '')).not.toMatch(RAW_CONTROL);
  });

  it.skipIf(!tmuxAvailable)('the renew wizard on a real terminal shows the topic escaped in its question', async () => {
    const term = new Terminal(`${process.execPath} ${BIN} renew`, { ...env, TERM: 'xterm' }, work);
    try {
      const screen = await term.waitFor(/Renew acme .*\?/);
      expect(screen).toContain('\\x1b[2J\\u{202e}');
      term.press('C-c');
      expect(await term.exitCode()).toBe(130);
    } finally {
      term.close();
    }
  });

  it('an input with a forged color mark does not become a color', async () => {
    const forged = join(work, 'forged\uE000deadbeefdeadbeef31\uE001.pem');
    writeFileSync(forged, 'not a certificate');
    const r = await runInProcess(['inspect', forged], { env: { ...env, FORCE_COLOR: '1' } });
    expect(r.code).toBe(65);
    expect(r.stderr).not.toContain('\u001b[31m');
  });
});
