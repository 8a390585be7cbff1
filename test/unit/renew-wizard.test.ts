import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csr } from '../../src/commands/csr/run.js';
import { importCommand } from '../../src/commands/import/run.js';
import { renew } from '../../src/commands/renew/run.js';
import type { RenewOptions } from '../../src/commands/renew/run.js';
import { AppError } from '../../src/errors.js';
import { userError } from '../../src/commands/shared/errors.js';
import { MemoryVault } from '../helpers/memory-vault.js';
import { tempDir, treeDigest } from '../helpers/cli.js';
import { makeDeps } from '../helpers/deps.js';
import type { Answer } from '../helpers/deps.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const NOW = new Date('2026-11-29T12:00:00Z');
const ca = createFakeCa();
const APPLE_ID = 'mdm@acme.example';

interface Fixture {
  store: string;
  work: string;
  vault: MemoryVault;
  topic: string;
}

/** A store with "acme" holding one active certificate that expires in 20 days, created with APPLE_ID. */
async function storeWithAcme(extraNames: string[] = []): Promise<Fixture> {
  const store = tempDir();
  const work = tempDir();
  const vault = new MemoryVault();
  const topic = mdmTopic();
  for (const [i, name] of ['acme', ...extraNames].entries()) {
    const deps = makeDeps({ storeDir: store, now: daysFrom(NOW, -345), vault, interactive: false });
    const csrPath = join(work, `${name}-first.csr`);
    await csr.run(
      {
        name,
        out: csrPath,
        email: undefined,
        country: undefined,
        commonName: undefined,
        appleId: APPLE_ID,
        force: false,
        vendorCert: undefined,
        vendorKey: undefined,
        chain: undefined,
        requestOut: undefined,
      },
      deps,
    );
    const certPath = join(work, `${name}-first.pem`);
    signCsrFile(ca, csrPath, certPath, {
      topic: i === 0 ? topic : mdmTopic(),
      notBefore: daysFrom(NOW, -345),
      notAfter: daysFrom(NOW, 20 + i * 100),
    });
    await importCommand.run(
      { file: certPath, name, appleId: undefined, allowNewTopic: false, allowExpired: false, passwordFile: undefined },
      deps,
    );
  }
  return { store, work, vault, topic };
}

function options(f: Fixture, extra: Partial<RenewOptions> = {}): RenewOptions {
  return {
    name: undefined,
    appleId: undefined,
    csrOut: join(f.work, 'renew.csr'),
    reuseKey: false,
    yes: false,
    force: false,
    ...extra,
  };
}

/** An answer that plays Apple: signs the CSR the wizard just wrote and gives the certificate's path. */
function appleSigns(f: Fixture, topic: string = f.topic, csrFile = join(f.work, 'renew.csr')): Answer {
  return {
    input: () => {
      const out = join(f.work, `apple-${Math.random().toString(16).slice(2)}.pem`);
      signCsrFile(ca, csrFile, out, { topic, notBefore: daysFrom(NOW, -1), notAfter: daysFrom(NOW, 385) });
      return out;
    },
  };
}

async function runWizard(f: Fixture, answers: Answer[], extra: Partial<RenewOptions> = {}) {
  const deps = makeDeps({ storeDir: f.store, now: NOW, vault: f.vault, answers });
  let error: AppError | undefined;
  let code: number | undefined;
  try {
    code = await renew.run(options(f, extra), deps);
  } catch (caught) {
    const e = userError(caught, 'renew'); // what main.ts shows for it
    if (!(e instanceof AppError)) throw e;
    error = e;
  }
  return { deps, code, error, index: JSON.parse(readFileSync(join(f.store, 'index.json'), 'utf8')) };
}

describe('renew wizard', () => {
  it('happy path: confirm the only record, matching Apple ID, CSR, portal steps, import: renewed with the same topic', async () => {
    const f = await storeWithAcme();
    const { deps, code, index } = await runWizard(f, [
      { confirm: true },
      { input: APPLE_ID },
      { confirm: false },
      appleSigns(f),
    ]);
    expect(code).toBe(0);
    expect(deps.prompter.asked[0]).toMatch(/^confirm: Renew acme .* expires 2026-12-19 \(20 days left\)\?/);
    expect(deps.stderr()).toContain('✓ This is the Apple ID recorded for "acme"');
    expect(deps.stderr()).toContain(`Find the row whose topic is ${f.topic}`);
    expect(deps.stderr()).toContain('whose expiration date is 2026-12-19');
    expect(deps.stderr()).toMatch(/Press "Renew" on that row\. NOT "Create a Certificate"/);
    expect(deps.stdout()).toContain(`Renewed acme: same topic ${f.topic}`);
    expect(deps.stdout()).toMatch(/2026-12-19 -> 2027-12-19 \(385 days left\)/);
    expect(index.records.acme.certificates.map((c: { status: string }) => c.status)).toEqual(['superseded', 'active']);
    expect(index.records.acme.pendingKey).toBeNull();
  });

  it('given a name, it shows the record, its topic and its expiry before the first question', async () => {
    const f = await storeWithAcme(['beta']);
    const { deps, code } = await runWizard(f, [{ input: APPLE_ID }, { confirm: false }, appleSigns(f)], {
      name: 'acme',
    });
    expect(code).toBe(0);
    expect(deps.prompter.asked[0]).toBe('input: Apple ID used for this push certificate:');
    const before = deps.prompter.shownBefore[0]!;
    expect(before).toContain('Renewing acme');
    expect(before).toContain(`topic    ${f.topic}`);
    expect(before).toContain('expires  2026-12-19 (20 days left)');
  });

  it('lists several records soonest first and renews the one chosen', async () => {
    const f = await storeWithAcme(['beta']);
    const { deps, code } = await runWizard(f, [
      { select: /^acme / },
      { input: APPLE_ID },
      { confirm: false },
      appleSigns(f),
    ]);
    expect(code).toBe(0);
    expect(deps.prompter.asked[0]).toBe('select: Which push certificate do you want to renew?');
  });

  it('Apple ID mismatch declined: exit 1, nothing written', async () => {
    const f = await storeWithAcme();
    const before = treeDigest(f.store);
    const { error, deps } = await runWizard(f, [
      { confirm: true },
      { input: 'intern@acme.example' },
      { confirm: false },
    ]);
    expect(error?.code).toBe('APPLE_ID_MISMATCH');
    expect(error?.exitCode).toBe(1);
    expect(deps.stderr()).toMatch(/NOT the Apple ID recorded/);
    expect(deps.prompter.asked.at(-1)).toMatch(/Renew under this Apple ID anyway\?/);
    expect(treeDigest(f.store)).toBe(before);
    expect(readdirSync(f.work)).not.toContain('renew.csr');
  });

  it('Apple ID mismatch accepted: goes on to the CSR and the import', async () => {
    const f = await storeWithAcme();
    const { code } = await runWizard(f, [
      { confirm: true },
      { input: 'intern@acme.example' },
      { confirm: true },
      { confirm: false },
      appleSigns(f),
    ]);
    expect(code).toBe(0);
  });

  it('a wrong certificate path is explained and asked again', async () => {
    const f = await storeWithAcme();
    const { code, deps } = await runWizard(f, [
      { confirm: true },
      { input: APPLE_ID },
      { confirm: false },
      { input: join(f.work, 'missing.pem') },
      { input: join(f.work, 'renew.csr') },
      appleSigns(f),
    ]);
    expect(code).toBe(0);
    expect(deps.prompter.validationMessages).toHaveLength(2);
    expect(deps.prompter.validationMessages[0]).toMatch(/missing\.pem: no such file/);
    expect(deps.prompter.validationMessages[1]).toMatch(/certificate signing request/);
  });

  it('a certificate with another topic is refused, explained, and the old certificate stays active', async () => {
    const f = await storeWithAcme();
    const other = mdmTopic();
    const { error, index } = await runWizard(f, [
      { confirm: true },
      { input: APPLE_ID },
      { confirm: false },
      appleSigns(f, other),
    ]);
    expect(error?.code).toBe('TOPIC_CHANGED');
    expect(error?.exitCode).toBe(1);
    const details = error!.details.join('\n');
    expect(details).toContain(`revoke the certificate whose topic is ${other}`);
    expect(details).toContain(`Renew the row whose topic is ${f.topic}`);
    expect(index.records.acme.certificates).toHaveLength(1);
    expect(index.records.acme.certificates[0].status).toBe('active');
    expect(index.records.acme.pendingKey).not.toBeNull();
  });

  it('resumes a renewal left after the CSR: continue goes straight to the import', async () => {
    const f = await storeWithAcme();
    const first = await runWizard(f, [{ confirm: true }, { input: APPLE_ID }, { confirm: false }, 'cancel']);
    expect(first.error?.code).toBe('CANCELLED');
    expect(first.index.records.acme.pendingKey).not.toBeNull();
    const second = await runWizard(f, [{ confirm: true }, { select: /^Continue/ }, appleSigns(f)]);
    expect(second.code).toBe(0);
    expect(second.deps.prompter.asked.some((q) => q.includes('Apple ID'))).toBe(false);
    expect(second.index.records.acme.pendingKey).toBeNull();
  });

  it('answered yes, the Apple ID is remembered (sealed); a resumed renewal remembers one only given --apple-id', async () => {
    const f = await storeWithAcme();
    const yes = await runWizard(f, [{ confirm: true }, { input: APPLE_ID }, { confirm: true }, 'cancel']);
    expect(yes.deps.prompter.asked[2]).toBe(
      'confirm: Remember this Apple ID for the next renewal? (kept sealed in the store)',
    );
    const first = yes.index.records.acme.appleIdSecretId;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(join(f.store, 'secrets'))).toEqual([`${first}.sealed`]);

    const blind = await runWizard(f, [{ confirm: true }, { select: /^Continue/ }], { rememberAppleId: true });
    expect(blind.error?.exitCode).toBe(64);
    expect(blind.error?.message).toMatch(/--remember-apple-id needs the Apple ID/);
    const given = await runWizard(f, [{ confirm: true }, { select: /^Continue/ }, appleSigns(f)], {
      rememberAppleId: true,
      appleId: 'MDM@acme.example',
    });
    expect(given.code).toBe(0);
    const second = given.index.records.acme.appleIdSecretId;
    expect(second).not.toBe(first);
    expect(readdirSync(join(f.store, 'secrets'))).toEqual([`${second}.sealed`]);
  });

  it('a resumed renewal can start over with a new key', async () => {
    const f = await storeWithAcme();
    await runWizard(f, [{ confirm: true }, { input: APPLE_ID }, { confirm: false }, 'cancel']);
    const oldKey = JSON.parse(readFileSync(join(f.store, 'index.json'), 'utf8')).records.acme.pendingKey.keyId;
    const again = await runWizard(
      f,
      [{ confirm: true }, { select: /^Start over/ }, { input: APPLE_ID }, { confirm: false }, appleSigns(f)],
      { force: true },
    );
    expect(again.code).toBe(0);
    expect(again.index.records.acme.certificates.at(-1).keyId).not.toBe(oldKey);
  });

  it.each([
    ['choosing the record', ['cancel'] as Answer[]],
    ['answering the Apple ID', [{ confirm: true }, 'cancel'] as Answer[]],
    ['declining the only record', [{ confirm: false }] as Answer[]],
  ])('Ctrl-C while %s: exit 130 and the store is byte-for-byte unchanged', async (_step, answers) => {
    const f = await storeWithAcme();
    const before = treeDigest(f.store);
    const { error } = await runWizard(f, answers);
    expect(error?.code).toBe('CANCELLED');
    expect(error?.exitCode).toBe(130);
    expect(treeDigest(f.store)).toBe(before);
  });

  it('--reuse-key makes the CSR with the active key', async () => {
    const f = await storeWithAcme();
    const activeKey = JSON.parse(readFileSync(join(f.store, 'index.json'), 'utf8')).records.acme.certificates[0].keyId;
    const { code, index } = await runWizard(
      f,
      [{ confirm: true }, { input: APPLE_ID }, { confirm: false }, appleSigns(f)],
      {
        reuseKey: true,
      },
    );
    expect(code).toBe(0);
    expect(index.records.acme.certificates.map((c: { keyId: string }) => c.keyId)).toEqual([activeKey, activeKey]);
    expect(readdirSync(join(f.store, 'keys'))).toEqual([`${activeKey}.key`]);
  });
});

describe('renew without a terminal (scripted twin)', () => {
  const scripted = async (f: Fixture, extra: Partial<RenewOptions>, json = false) => {
    const deps = makeDeps({ storeDir: f.store, now: NOW, vault: f.vault, interactive: false, json });
    try {
      return { code: await renew.run(options(f, extra), deps), deps, error: undefined };
    } catch (e) {
      return { code: undefined, deps, error: userError(e, 'renew') as AppError };
    }
  };

  it('never prompts: a missing name or Apple ID is exit 64 naming what to pass', async () => {
    const f = await storeWithAcme();
    const noName = await scripted(f, {});
    expect(noName.error?.exitCode).toBe(64);
    expect(noName.error?.message).toMatch(/pass <name>/);
    const noId = await scripted(f, { name: 'acme' });
    expect(noId.error?.exitCode).toBe(64);
    expect(noId.error?.message).toMatch(/pass --apple-id <id>/);
    expect(noId.deps.prompter.asked).toEqual([]);
  });

  it('writes the CSR and prints JSON { name, topic, csrPath, appleIdMatches }', async () => {
    const f = await storeWithAcme();
    const r = await scripted(f, { name: 'acme', appleId: APPLE_ID }, true);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.deps.stdout())).toEqual({
      schemaVersion: 1,
      name: 'acme',
      topic: f.topic,
      csrPath: join(f.work, 'renew.csr'),
      appleIdMatches: true,
    });
  });

  it('an Apple ID mismatch is exit 1 without --yes, and goes on with --yes', async () => {
    const f = await storeWithAcme();
    const before = treeDigest(f.store);
    const refused = await scripted(f, { name: 'acme', appleId: 'other@acme.example' });
    expect(refused.error?.exitCode).toBe(1);
    // the Apple ID given is not echoed, nor anything of the hash on record
    const hash: string = JSON.parse(readFileSync(join(f.store, 'index.json'), 'utf8')).records.acme.appleIdHash;
    const said = [refused.error!.message, ...refused.error!.details, refused.error!.hint ?? ''].join('\n');
    expect(said).not.toMatch(/other@|acme\.example/i);
    for (const part of hash.split('$').filter((p) => p.length >= 8)) expect(said).not.toContain(part.slice(0, 8));
    expect(treeDigest(f.store)).toBe(before);
    const forced = await scripted(f, { name: 'acme', appleId: 'other@acme.example', yes: true });
    expect(forced.code).toBe(0);
    expect(forced.deps.stderr()).toMatch(/warning: renewing "acme" under an Apple ID that is not the recorded one/);
  });
});
