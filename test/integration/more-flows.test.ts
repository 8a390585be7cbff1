import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REAL, cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const NOW = new Date();
const ca = createFakeCa();

describe('import of a certificate that carries its own key', () => {
  it('creates the store, keeps the key encrypted, and the key verifies against the certificate', async () => {
    const store = join(tempDir(), 'new-store');
    const work = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'p' });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const certPem = issuePushCert(ca, {
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -10),
      notAfter: daysFrom(NOW, 200),
    });
    writeFileSync(join(work, 'bundle.pem'), keyPem + certPem);
    writeFileSync(join(work, 'key.pem'), keyPem);

    let r = await runInProcess(['import', join(work, 'bundle.pem')], { env });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--name/);

    r = await runInProcess(['import', join(work, 'bundle.pem'), '--name', 'legacy', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ schemaVersion: 1, name: 'legacy', keySource: 'file', renewal: false, kind: 'mdm' });
    expect(readFileSync(join(store, 'index.json'), 'utf8')).not.toContain('PRIVATE');

    r = await runInProcess(['verify', join(work, 'bundle.pem'), '--key', join(work, 'key.pem')], { env });
    expect(r.code, r.stderr).toBe(0);
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    writeFileSync(join(work, 'other.pem'), otherKey);
    r = await runInProcess(['verify', join(work, 'bundle.pem'), '--key', join(work, 'other.pem')], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAIL\s+key-match/);
  });
});

describe('csr with an Apple ID', () => {
  it('keeps only a salted hash, and warns when a renewal CSR names another Apple ID', async () => {
    const store = tempDir();
    const work = tempDir(); // the CSRs go outside the store: it refuses output files inside itself
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'p' });
    let r = await runInProcess(
      ['csr', '--name', 'acme', '--apple-id', 'Admin@Acme.example', '--out', join(work, '1.csr')],
      {
        env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const index = readFileSync(join(store, 'index.json'), 'utf8');
    expect(index.toLowerCase()).not.toContain('admin@acme.example');
    r = await runInProcess(['show', 'acme', '--json'], { env });
    expect(JSON.parse(r.stdout).appleIdRecorded).toBe(true);
    r = await runInProcess(
      ['csr', '--name', 'acme', '--apple-id', ' admin@acme.EXAMPLE ', '--out', join(work, '2.csr')],
      {
        env,
      },
    );
    expect(r.stderr).not.toMatch(/not the one recorded/);
    r = await runInProcess(
      ['csr', '--name', 'acme', '--apple-id', 'intern@acme.example', '--out', join(work, '3.csr')],
      {
        env,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: the Apple ID given is not the one recorded for "acme"/);
  });
});

describe('inspect, hash and check-expiry on files', () => {
  const real = join(REAL, 'mdm-push_abacus_APSP-51423b26_2020.pem');

  it('inspect reads stdin and pins its JSON fields', async () => {
    const r = await runInProcess(['inspect', '-', '--json'], { input: readFileSync(real) });
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(Object.keys(info).sort()).toEqual(
      [
        'schemaVersion',
        'file',
        'kind',
        'uid',
        'topic',
        'topicHash',
        'topics',
        'environment',
        'subject',
        'issuer',
        'appleChain',
        'serialNumber',
        'notBefore',
        'notAfter',
        'daysRemaining',
        'expired',
        'fingerprints',
        'key',
        'otherCertificates',
        'privateKeyInFile',
      ].sort(),
    );
    expect(info).toMatchObject({
      kind: 'mdm',
      topic: 'com.apple.mgmt.External.51423b26-0538-4293-a457-59906d6963bc',
      serialNumber: '44D89E3DD8B013F2',
      expired: true,
      key: { type: 'rsa', size: 2048 },
    });
  });

  it('check-expiry on files, as of a date inside and outside their validity', async () => {
    const files = [real, join(REAL, 'mdm-push_nanomdm-e2e_APSP-e0bd1eac_2021.pem')];
    let r = await runInProcess(['check-expiry', ...files, '--at', '2020-06-01T00:00:00Z', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).certificates.map((c: { file: string }) => c.file)).toEqual(
      expect.arrayContaining(files),
    );
    r = await runInProcess(['check-expiry', ...files]);
    expect(r.code).toBe(2);
    r = await runInProcess([
      'check-expiry',
      real,
      join(REAL, 'negative_msft365dsc_FakeCert-mdm-push.txt'),
      '--at',
      '2020-06-01',
    ]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/UNKNOWN/);
  });

  const ANSI = new RegExp(String.fromCharCode(27) + '\\[');
  it('colors only when asked for on a non-terminal, never with NO_COLOR, --no-color or --json', async () => {
    const args = ['check-expiry', real];
    expect((await runInProcess(args)).stdout).not.toMatch(ANSI);
    expect((await runInProcess(args, { env: cleanEnv({ FORCE_COLOR: '1' }) })).stdout).toMatch(ANSI);
    expect((await runInProcess(args, { env: cleanEnv({ FORCE_COLOR: '1', NO_COLOR: '1' }) })).stdout).not.toMatch(ANSI);
    expect((await runInProcess(['--no-color', ...args], { env: cleanEnv({ FORCE_COLOR: '1' }) })).stdout).not.toMatch(
      ANSI,
    );
    expect((await runInProcess(['--json', ...args], { env: cleanEnv({ FORCE_COLOR: '1' }) })).stdout).not.toMatch(ANSI);
  });
});

describe('a renewal imported without --name', () => {
  it('finds its record by the pending key, and warns when it expires sooner than the active one', async () => {
    const store = tempDir();
    const work = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'p' });
    const topic = mdmTopic();
    await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'a.csr')], { env });
    signCsrFile(ca, join(work, 'a.csr'), join(work, 'a.pem'), {
      topic,
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 100),
    });
    expect((await runInProcess(['import', join(work, 'a.pem')], { env })).code).toBe(0);
    await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'b.csr')], { env });
    signCsrFile(ca, join(work, 'b.csr'), join(work, 'b.pem'), {
      topic,
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 50),
    });
    const r = await runInProcess(['import', join(work, 'b.pem')], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no later than the active one/);
  });
});

/** A store of 3000 records without certificates: `list` prints about 200 KB, more than a pipe holds. */
function bigStore(): string {
  const store = tempDir();
  const records: Record<string, unknown> = {};
  for (let i = 0; i < 3000; i++) {
    const iso = '2026-11-29T00:00:00.000Z';
    records[`r${i}`] = {
      name: `r${i}`,
      topic: `com.apple.mgmt.External.${i}`,
      topicHash: null,
      appleIdHash: null,
      createdAt: iso,
      updatedAt: iso,
      pendingKey: null,
      retiredAt: null,
      certificates: [],
    };
  }
  writeFileSync(
    join(store, 'index.json'),
    JSON.stringify({
      schemaVersion: 1,
      storeId: randomUUID(),
      secretBackend: 'passphrase',
      createdAt: '2026-11-29T00:00:00.000Z',
      records,
    }),
  );
  return store;
}

/** Runs the CLI with its stdout on a non-blocking pipe that nobody reads for half a second (python3 sets it up). */
const SLOW_NONBLOCKING_READER = `
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
child = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(0.5)
out = b''
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out)
sys.exit(child.wait())
`;

describe('readers of the output', () => {
  it('a slow reader on a non-blocking pipe (the write would block): the whole output arrives, exit 0', async () => {
    const { spawnSync } = await import('node:child_process');
    const store = bigStore();
    const { BIN } = await import('../helpers/cli.js');
    const expected = await runCli(['list'], { env: cleanEnv({ APNS_CERT_STORE: store }) });
    expect(expected.stdout.length).toBeGreaterThan(150_000);
    const r = spawnSync('python3', ['-c', SLOW_NONBLOCKING_READER, process.execPath, BIN, 'list'], {
      env: cleanEnv({ APNS_CERT_STORE: store }),
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected.stdout);
  });

  it('`apns-cert list | head -1`: no EPIPE stack trace, the command ends with its own exit code', async () => {
    const { spawn } = await import('node:child_process');
    const store = bigStore();
    const { BIN } = await import('../helpers/cli.js');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'list'], {
        env: cleanEnv({ APNS_CERT_STORE: store }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(result.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(result.code).toBe(0);
  });
});
