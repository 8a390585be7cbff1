import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsr } from '../helpers/fake-apple.js';

const HEAVY = ['node-forge', '@inquirer', '@napi-rs/keyring'];
const TRACER = join(ROOT, 'test/helpers/trace-imports.mjs');
let store: string;
let certFile: string;

async function traced(args: string[], extraEnv: Record<string, string> = {}) {
  const trace = join(tempDir(), 'trace.txt');
  const env = cleanEnv({ APNS_CERT_STORE: store, NODE_OPTIONS: `--import=${TRACER}`, APNS_CERT_TRACE_FILE: trace, ...extraEnv });
  const r = await runCli(args, { env });
  const modules = existsSync(trace) ? readFileSync(trace, 'utf8') : '';
  return { r, modules };
}

beforeAll(async () => {
  store = tempDir();
  const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'p' });
  const csrFile = join(store, 'a.csr');
  expect((await runCli(['csr', '--name', 'a', '--out', csrFile], { env })).code).toBe(0);
  certFile = join(store, 'a.pem');
  writeFileSync(certFile, signCsr(createFakeCa(), readFileSync(csrFile, 'utf8'), { topic: mdmTopic(), notBefore: daysFrom(new Date(), -1), notAfter: daysFrom(new Date(), 90) }));
  expect((await runCli(['import', certFile], { env })).code).toBe(0);
});

describe('the cron path loads no heavy module', () => {
  it('the tracer sees node-forge when csr runs (control)', async () => {
    const { r, modules } = await traced(['csr', '--name', 'b', '--out', join(store, 'b.csr')], { APNS_CERT_PASSPHRASE: 'p' });
    expect(r.code, r.stderr).toBe(0);
    expect(modules).toContain('node-forge');
  });
  it.each([
    [['check-expiry']],
    [['list']],
    [['show', 'a']],
    [['inspect', 'CERT']],
    [['hash', 'CERT']],
    [['check-expiry', 'CERT']],
  ])('%j loads neither forge, inquirer nor the keychain binding', async (args) => {
    const { r, modules } = await traced(args.map((a) => (a === 'CERT' ? certFile : a)));
    expect(r.code, r.stderr).toBe(0);
    expect(modules).toContain('check-expiry.js');
    for (const heavy of HEAVY) expect(modules).not.toContain(heavy);
  });
});
