import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import { Terminal, tmuxAvailable } from '../helpers/tmux.js';

if (!tmuxAvailable && process.env.CI) throw new Error('tmux is required for the pseudo-terminal tests in CI');
if (!tmuxAvailable)
  console.warn('skipping the renew wizard terminal tests: tmux is not installed (apt-get install tmux)');

const NOW = new Date();
const ca = createFakeCa();
let term: Terminal | undefined;
let store: string;
let work: string;
let env: NodeJS.ProcessEnv;
const topic = mdmTopic();

afterEach(() => term?.close());

beforeEach(async () => {
  store = tempDir();
  work = tempDir();
  env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'wizard', TERM: 'xterm', COLUMNS: '160' });
  expect(
    (
      await runInProcess(
        ['csr', '--name', 'acme-prod', '--apple-id', 'mdm@acme.example', '--out', join(work, 'first.csr')],
        {
          env,
        },
      )
    ).code,
  ).toBe(0);
  signCsrFile(ca, join(work, 'first.csr'), join(work, 'first.pem'), {
    topic,
    notBefore: daysFrom(NOW, -340),
    notAfter: daysFrom(NOW, 25),
  });
  expect((await runInProcess(['import', join(work, 'first.pem')], { env })).code).toBe(0);
});

/** Plays Apple: signs the renewal CSR the wizard wrote into `work`. */
function downloadFromApple(withTopic = topic): string {
  const csrName = readdirSync(work).find((f) => /^acme-prod-renew-\d{8}\.csr\.pem$/.test(f));
  expect(csrName, 'the wizard writes <name>-renew-<yyyymmdd>.csr.pem').toBeDefined();
  const path = join(work, 'MDM_ ACME_Certificate.pem');
  signCsrFile(ca, join(work, csrName!), path, {
    topic: withTopic,
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 390),
  });
  return path;
}

describe.skipIf(!tmuxAvailable)('renew wizard in a real terminal (built CLI)', () => {
  it('walks an admin through a renewal to the end', async () => {
    term = new Terminal(`${process.execPath} ${BIN} renew`, env, work);
    await term.waitFor(/Renew acme-prod .* expires .* \(2[45] days left\)\?/);
    term.press('Enter');
    await term.waitFor(/Apple ID used for this push certificate/);
    term.type('MDM@acme.example');
    term.press('Enter');
    await term.waitFor(/Remember this Apple ID for the next renewal\?.*\(y\/N\)/);
    term.press('Enter'); // no: nothing is remembered
    await term.waitFor(/Path of the certificate downloaded from Apple/);
    const screen = term.screen();
    expect(screen).toContain('This is the Apple ID recorded for "acme-prod"');
    expect(screen).toContain(`Find the row whose topic is ${topic}`);
    expect(screen).toMatch(/Press "Renew" on that row/);

    // a wrong path first: the wizard says why and asks again
    term.type(join(work, 'nope.pem'));
    term.press('Enter');
    await term.waitFor(/nope\.pem: no such file/);
    term.press('C-u');
    // then the file from Apple, dragged in with quotes as terminals do
    term.type(`'${downloadFromApple()}'`);
    term.press('Enter');
    expect(await term.exitCode()).toBe(0);
    const done = term.screen();
    expect(done).toContain(`Renewed acme-prod: same topic ${topic}`);
    expect(done).toMatch(/not after: .* -> .* \((389|390) days left\)/);

    const show = JSON.parse((await runInProcess(['show', 'acme-prod', '--json'], { env })).stdout);
    expect(show.history.map((c: { status: string }) => c.status)).toEqual(['active', 'superseded']);
  });

  it('asks to remember the Apple ID; answered yes, the next renewal shows it and offers it as the answer', async () => {
    term = new Terminal(`${process.execPath} ${BIN} renew acme-prod`, env, work);
    await term.waitFor(/Apple ID used for this push certificate/);
    expect(term.screen()).not.toContain('Last renewed with Apple ID');
    term.type('mdm@acme.example');
    term.press('Enter');
    await term.waitFor(/Remember this Apple ID for the next renewal\? \(kept sealed in the store\) \(y\/N\)/);
    term.type('y');
    term.press('Enter');
    await term.waitFor(/Path of the certificate downloaded from Apple/);
    term.type(downloadFromApple());
    term.press('Enter');
    expect(await term.exitCode()).toBe(0);
    term.close();
    const revealed = await runInProcess(['show', 'acme-prod', '--reveal-apple-id', '--json'], { env });
    expect(revealed.code, revealed.stderr).toBe(0);
    expect(JSON.parse(revealed.stdout).appleId).toBe('mdm@acme.example');

    term = new Terminal(`${process.execPath} ${BIN} renew acme-prod --force`, env, work);
    const screen = await term.waitFor(/Apple ID used for this push certificate: \(mdm@acme\.example\)/);
    expect(screen).toContain('Last renewed with Apple ID mdm@acme.example (remembered in the store).');
    term.press('Enter'); // the remembered one, checked against the recorded hash as a typed one is
    const next = await term.waitFor(/Path of the certificate downloaded from Apple/);
    expect(next).toContain('This is the Apple ID recorded for "acme-prod"');
    expect(next).not.toContain('Remember this Apple ID'); // it is the remembered one already
    term.press('C-c');
    expect(await term.exitCode()).toBe(130);
  });

  it('given a name, it says which record, topic and expiry it renews before asking for the Apple ID', async () => {
    term = new Terminal(`${process.execPath} ${BIN} renew acme-prod`, env, work);
    const screen = await term.waitFor(/Apple ID used for this push certificate/);
    const beforeQuestion = screen.slice(0, screen.indexOf('Apple ID used for this push certificate'));
    expect(beforeQuestion).toContain('Renewing acme-prod');
    expect(beforeQuestion).toContain(`topic    ${topic}`);
    expect(beforeQuestion).toMatch(/expires {2}\d{4}-\d{2}-\d{2} \(2[45] days left\)/);
    term.press('C-c');
    expect(await term.exitCode()).toBe(130);
  });

  it('refuses a certificate with a new topic and says what to do; the old one stays active', async () => {
    term = new Terminal(`${process.execPath} ${BIN} renew acme-prod --apple-id mdm@acme.example`, env, work);
    await term.waitFor(/Path of the certificate downloaded from Apple/);
    const wrongTopic = mdmTopic();
    term.type(downloadFromApple(wrongTopic));
    term.press('Enter');
    expect(await term.exitCode()).toBe(1);
    const screen = term.screen();
    expect(screen).toContain(wrongTopic);
    expect(screen).toMatch(/revoke the certificate whose topic is/);
    const list = JSON.parse((await runInProcess(['list', '--json'], { env })).stdout);
    expect(list.certificates[0]).toMatchObject({ name: 'acme-prod', topic, status: 'active' });
  });

  it('Ctrl-C at the path prompt leaves a pending renewal, which the next run offers to continue', async () => {
    term = new Terminal(`${process.execPath} ${BIN} renew acme-prod`, env, work);
    await term.waitFor(/Apple ID used for this push certificate/);
    term.type('mdm@acme.example');
    term.press('Enter');
    await term.waitFor(/Remember this Apple ID for the next renewal\?/);
    term.press('Enter');
    await term.waitFor(/Path of the certificate downloaded from Apple/);
    term.press('C-c');
    expect(await term.exitCode()).toBe(130);
    term.close();
    expect((await runInProcess(['list'], { env })).stdout).toContain('(pending key)');

    term = new Terminal(`${process.execPath} ${BIN} renew acme-prod`, env, work);
    await term.waitFor(/A renewal of "acme-prod" is in progress/);
    term.press('Enter'); // Continue
    await term.waitFor(/Path of the certificate downloaded from Apple/);
    term.type(downloadFromApple());
    term.press('Enter');
    expect(await term.exitCode()).toBe(0);
    expect(term.screen()).toContain('Renewed acme-prod');
  });

  it('retire asks first: "no" keeps everything, "yes" retires', async () => {
    term = new Terminal(`${process.execPath} ${BIN} retire acme-prod`, env, work);
    await term.waitFor(/Retire "acme-prod"[\s\S]*\(y\/N\)/);
    term.press('Enter');
    expect(await term.exitCode()).toBe(130);
    term.close();
    expect(JSON.parse((await runInProcess(['list', '--json'], { env })).stdout).certificates[0].status).toBe('active');

    term = new Terminal(`${process.execPath} ${BIN} retire acme-prod`, env, work);
    await term.waitFor(/Retire "acme-prod"/);
    term.type('y');
    term.press('Enter');
    expect(await term.exitCode()).toBe(0);
    expect(JSON.parse((await runInProcess(['list', '--json'], { env })).stdout).certificates[0].status).toBe('retired');
  });
});
