/**
 * Custody of a record (issue 13): an owner and a note in clear, and with --remember-apple-id the Apple ID itself
 * sealed under the master key beside its salted hash. The Apple ID is in no store file in clear (nor as base64 or
 * hex), and in no output unless `show --reveal-apple-id` unlocks the store for it.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const NOW = new Date();
const ca = createFakeCa();
const APPLE_ID = 'Custody.Admin@acme.example';
const OTHER_APPLE_ID = 'successor@acme.example';
const OWNER = 'it-mdm@acme.example';
const NOTE = 'Acme MDM prod (portal Notes: "acme prod 2026")';

let store: string;
let work: string;
let env: NodeJS.ProcessEnv;

/** Every file of the store, recursively. */
function storeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? storeFiles(path) : [path];
  });
}

/** The ways a text can sit in a file: as it is, lower- or upper-cased, as hex, or inside any base64 run. */
function holds(bytes: Buffer, secret: string): boolean {
  const text = bytes.toString('latin1');
  const forms = [secret, secret.toLowerCase(), secret.toUpperCase()];
  const hex = Buffer.from(secret, 'utf8').toString('hex');
  if (forms.some((f) => text.includes(f)) || text.toLowerCase().includes(hex)) return true;
  for (const run of text.match(/[A-Za-z0-9+/_-]{16,}/g) ?? []) {
    for (let shift = 0; shift < 4; shift++) {
      const decoded = Buffer.from(run.slice(shift), run.includes('-') || run.includes('_') ? 'base64url' : 'base64');
      if (forms.some((f) => decoded.toString('latin1').toLowerCase().includes(f.toLowerCase()))) return true;
    }
  }
  return false;
}

function inClear(secret: string): string[] {
  return storeFiles(store).filter((path) => holds(readFileSync(path), secret));
}

/** csr for `name` with `args`, Apple signs it (expiring in `days`), import: the record has a certificate. */
async function certify(name: string, days: number, csrArgs: string[] = [], importArgs: string[] = []) {
  const csr = await runInProcess(['csr', '--name', name, '--out', join(work, `${name}.csr`), ...csrArgs], { env });
  expect(csr.code, csr.stderr).toBe(0);
  signCsrFile(ca, join(work, `${name}.csr`), join(work, `${name}.pem`), {
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -10),
    notAfter: daysFrom(NOW, days),
  });
  const imported = await runInProcess(['import', join(work, `${name}.pem`), ...importArgs], { env });
  expect(imported.code, imported.stderr).toBe(0);
}

beforeEach(() => {
  store = tempDir();
  work = tempDir();
  env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'custody' });
});

describe('the search for the Apple ID in files and output', () => {
  it('finds it as it is, in another case, as hex, and inside base64 at any alignment', () => {
    for (const prefix of ['', 'x', 'xy', 'xyz']) {
      const b64 = Buffer.from(prefix + APPLE_ID.toLowerCase()).toString('base64');
      expect(holds(Buffer.from(`{"c":"${b64}"}`), APPLE_ID), prefix).toBe(true);
    }
    expect(holds(Buffer.from(Buffer.from(APPLE_ID).toString('hex').toUpperCase()), APPLE_ID)).toBe(true);
    expect(holds(Buffer.from(`a ${APPLE_ID.toUpperCase()} b`), APPLE_ID)).toBe(true);
    expect(holds(Buffer.from(OWNER), APPLE_ID)).toBe(false);
  });
});

describe('custody options are checked before anything is done', () => {
  it('--remember-apple-id without the Apple ID is a usage error (64) with a hint that gives it', async () => {
    for (const args of [
      ['csr', '--name', 'acme', '--out', join(work, 'a.csr'), '--remember-apple-id'],
      ['import', join(work, 'missing.pem'), '--name', 'acme', '--remember-apple-id'],
    ]) {
      const r = await runInProcess(args, { env });
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(/--remember-apple-id needs the Apple ID/);
      expect(r.stderr).toMatch(/hint: apns-cert .* --apple-id <id> --remember-apple-id/);
    }
    expect(readdirSync(store)).toEqual([]);
  });

  it.each([
    ['--owner', 'two\nlines'],
    ['--owner', 'a\u001b[2Jb'],
    ['--owner', 'x'.repeat(201)],
    ['--note', 'x'.repeat(1001)],
    ['--note', 'bidi \u202e trick'],
  ])('%s %j: exit 64, nothing written', async (flag, value) => {
    const r = await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'a.csr'), flag, value], { env });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/one line without control characters|characters long; at most/);
    expect(readdirSync(store)).toEqual([]);
  });

  it('at the limits (200 and 1000 characters) it is taken', async () => {
    const owner = 'o'.repeat(200);
    const note = 'n'.repeat(1000);
    await certify('acme', 100, ['--owner', owner, '--note', note]);
    const shown = JSON.parse((await runInProcess(['show', 'acme', '--json'], { env })).stdout);
    expect([shown.owner, shown.note]).toEqual([owner, note]);
  });
});

describe('owner, note and a remembered Apple ID', () => {
  it('are kept; the Apple ID only sealed, shown only with --reveal-apple-id; owner and note everywhere', async () => {
    await certify(
      'acme',
      20,
      ['--apple-id', APPLE_ID, '--remember-apple-id', '--owner', OWNER],
      ['--name', 'acme', '--note', NOTE],
    );
    await certify('beta', 200, ['--owner', 'beta-team@acme.example']);
    expect(inClear(APPLE_ID)).toEqual([]);
    expect(readdirSync(join(store, 'secrets'))).toHaveLength(1);
    const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8'));
    expect(index.records.acme).toMatchObject({ owner: OWNER, note: NOTE });
    expect(index.records.acme.appleIdSecretId).toMatch(/^[0-9a-f]{64}$/);
    expect(index.records.beta).toMatchObject({ owner: 'beta-team@acme.example', note: null, appleIdSecretId: null });

    const outputs: string[] = [];
    const list = await runInProcess(['list', '--json'], { env });
    outputs.push(list.stdout, list.stderr);
    const rows = JSON.parse(list.stdout).certificates;
    expect(rows.map((r: { name: string; owner: string; note: string }) => [r.name, r.owner, r.note])).toEqual([
      ['acme', OWNER, NOTE],
      ['beta', 'beta-team@acme.example', null],
    ]);
    const showJson = await runInProcess(['show', 'acme', '--json'], { env });
    outputs.push(showJson.stdout, showJson.stderr);
    const shown = JSON.parse(showJson.stdout);
    expect(shown).toMatchObject({ owner: OWNER, note: NOTE, appleIdRecorded: true, appleIdRemembered: true });
    expect(shown).not.toHaveProperty('appleId');
    const showText = await runInProcess(['show', 'acme'], { env });
    outputs.push(showText.stdout, showText.stderr);
    expect(showText.stdout).toMatch(/^owner {8}it-mdm@acme\.example$/m);
    expect(showText.stdout).toContain(`note         ${NOTE}`);
    expect(showText.stdout).toContain('remembered (sealed: show acme --reveal-apple-id)');

    // check-expiry needs no master key for it: no passphrase at all
    const monitor = cleanEnv({ APNS_CERT_STORE: store });
    const text = await runInProcess(['check-expiry'], { env: monitor });
    outputs.push(text.stdout, text.stderr);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/WARNING +acme .* (19|20) days left {2}owner it-mdm@acme\.example\n/);
    expect(text.stdout).toMatch(/OK +beta .* days left\n/); // an OK line names no owner
    const json = await runInProcess(['check-expiry', '--json'], { env: monitor });
    outputs.push(json.stdout, json.stderr);
    expect(JSON.parse(json.stdout).certificates).toEqual([
      expect.objectContaining({ name: 'acme', status: 'warning', owner: OWNER, note: NOTE }),
      expect.objectContaining({ name: 'beta', status: 'ok', owner: 'beta-team@acme.example', note: null }),
    ]);
    const nagios = await runInProcess(['check-expiry', '--format', 'nagios'], { env: monitor });
    outputs.push(nagios.stdout);
    expect(nagios.stdout).toMatch(/acme expires .* days left\), owner it-mdm@acme\.example \|/);
    for (const out of outputs) expect(holds(Buffer.from(out), APPLE_ID), out).toBe(false);

    const revealed = await runInProcess(['show', 'acme', '--reveal-apple-id'], { env });
    expect(revealed.code, revealed.stderr).toBe(0);
    expect(revealed.stdout).toMatch(/^apple id {5}Custody\.Admin@acme\.example$/m);
    expect(revealed.stderr).toMatch(/Unlocked the store .* to reveal the Apple ID/);
    const revealedJson = JSON.parse(
      (await runInProcess(['show', 'acme', '--reveal-apple-id', '--json'], { env })).stdout,
    );
    expect(revealedJson.appleId).toBe(APPLE_ID);
    const none = await runInProcess(['show', 'beta', '--reveal-apple-id', '--json'], { env });
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout).appleId).toBeNull();
    expect(none.stderr).toMatch(/no Apple ID is remembered for "beta"/);

    const doctor = await runInProcess(['doctor', '--offline', '--json'], { env });
    expect(doctor.code, doctor.stdout).toBe(0);
    const checks = JSON.parse(doctor.stdout).checks as Array<{ check: string; status: string }>;
    expect(checks.find((c) => c.check === 'store-orphans')).toMatchObject({ status: 'ok' });
  });

  it('a new remembered Apple ID replaces the old one (its secret removed); owner and note are changed or cleared', async () => {
    await certify('acme', 100, ['--apple-id', APPLE_ID, '--remember-apple-id', '--owner', OWNER, '--note', NOTE]);
    const [first] = readdirSync(join(store, 'secrets'));
    const r = await runInProcess(
      [
        'renew',
        'acme',
        '--apple-id',
        OTHER_APPLE_ID,
        '--yes',
        '--remember-apple-id',
        '--owner',
        'new-team@acme.example',
        '--note',
        '',
        '--csr-out',
        join(work, 'renew.csr'),
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const secrets = readdirSync(join(store, 'secrets'));
    expect(secrets).toHaveLength(1);
    expect(secrets).not.toContain(first);
    expect(inClear(OTHER_APPLE_ID)).toEqual([]);
    const shown = JSON.parse((await runInProcess(['show', 'acme', '--json', '--reveal-apple-id'], { env })).stdout);
    expect(shown).toMatchObject({ appleId: OTHER_APPLE_ID, owner: 'new-team@acme.example', note: null });
    // the hash is today's: the recorded Apple ID is still the first
    const again = await runInProcess(
      ['renew', 'acme', '--apple-id', OTHER_APPLE_ID, '--csr-out', join(work, 'again.csr')],
      { env },
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not the one recorded/);
  });

  it('renew without --apple-id and --remember-apple-id: 64 (scripted: nothing to remember)', async () => {
    await certify('acme', 100);
    const r = await runInProcess(['renew', 'acme', '--remember-apple-id', '--csr-out', join(work, 'r.csr')], { env });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/pass --apple-id/);
  });

  it('retire keeps the sealed Apple ID with the record; retire --purge removes it', async () => {
    await certify('acme', 100, ['--apple-id', APPLE_ID, '--remember-apple-id']);
    expect((await runInProcess(['retire', 'acme', '--yes'], { env })).code).toBe(0);
    expect(readdirSync(join(store, 'secrets'))).toHaveLength(1);
    expect((await runInProcess(['show', 'acme', '--json', '--reveal-apple-id'], { env })).stdout).toContain(APPLE_ID);
    expect((await runInProcess(['retire', 'acme', '--purge', '--yes'], { env })).code).toBe(0);
    expect(readdirSync(join(store, 'secrets'))).toEqual([]);
    expect((await runInProcess(['doctor', '--offline'], { env })).code).toBe(0);
  });
});

describe('the built CLI', () => {
  let server: Server;
  let url: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    // A webhook receiver as Slack's incoming webhooks are (https://api.slack.com/messaging/webhooks): a POST of JSON
    // with `text`, answered 200 "ok".
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('--reveal-apple-id with a wrong passphrase is 77; the webhook body has the owner and note, not the Apple ID', async () => {
    await certify('acme', 5, ['--apple-id', APPLE_ID, '--remember-apple-id', '--owner', OWNER, '--note', NOTE]);
    const wrong = await runCli(['show', 'acme', '--reveal-apple-id'], { env: { ...env, APNS_CERT_PASSPHRASE: 'no' } });
    expect(wrong.code).toBe(77);
    expect(wrong.stdout).toBe('');
    expect(holds(Buffer.from(wrong.stderr), APPLE_ID)).toBe(false);
    const right = await runCli(['show', 'acme', '--reveal-apple-id', '--json'], { env });
    expect(right.code, right.stderr).toBe(0);
    expect(JSON.parse(right.stdout).appleId).toBe(APPLE_ID);

    const hook = join(tempDir(), 'webhook-url');
    writeFileSync(hook, `${url}\n`, { mode: 0o600 });
    const r = await runCli(['check-expiry', '-q', '--notify-file', hook], {
      env: cleanEnv({ APNS_CERT_STORE: store }),
    });
    expect(r.code, r.stderr).toBe(2);
    expect(bodies).toHaveLength(1);
    const body = JSON.parse(bodies[0]!);
    expect(body.text).toMatch(/^APNS-CERT CRITICAL: acme expires .*, owner it-mdm@acme\.example$/);
    expect(body.certificates[0]).toMatchObject({ name: 'acme', owner: OWNER, note: NOTE });
    expect(holds(Buffer.from(bodies[0]!), APPLE_ID)).toBe(false);
  });
});
