import { createPrivateKey, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/core/certificate.js';
import { fleet, micromdm, nanohub, nanomdm } from '../../src/net/mdm/index.js';
import type { MdmClient, MdmResult } from '../../src/net/mdm/index.js';
import { createFakeCa, issueCert, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';
import { startFakeMdm } from '../helpers/fake-mdm-servers.js';
import type { FakeMdm, FakeMdmKind, FakeMdmOptions } from '../helpers/fake-mdm-servers.js';

const ca = createFakeCa();
const credential = `cred-${randomBytes(12).toString('hex')}`;
const open: FakeMdm[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});
async function fake(options: Omit<FakeMdmOptions, 'credential'> & { credential?: string }) {
  const f = await startFakeMdm({ credential, ...options });
  open.push(f);
  return f;
}
function pushPair(topic = mdmTopic()) {
  const keys = newKeyPem();
  const certPem = issuePushCert(ca, {
    publicKeyPem: keys.publicPem,
    topic,
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2027-01-01T00:00:00Z'),
  });
  const info = parseCertificate(new Uint8Array(Buffer.from(certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
  return { certPem, keyPem: keys.privatePem, topic, info };
}
const noSecret = (r: unknown) =>
  expect(JSON.stringify(r, (_k, v: unknown) => (v instanceof Uint8Array ? '' : v))).not.toContain(credential);
const writes = (f: FakeMdm) => f.requests.filter((r) => r.method !== 'GET');

const keyed: [FakeMdmKind, MdmClient][] = [
  ['nanomdm', nanomdm],
  ['nanohub', nanohub],
  ['micromdm', micromdm],
];

describe.each(keyed)('%s client', (kind, client) => {
  it('uploads, then reads back the uploaded topic and notAfter', async () => {
    const f = await fake({ kind });
    const p = pushPair();
    const up = await client.upload({ url: f.url }, p, credential);
    expect(up.kind).toBe('ok');
    const back = await client.readBack({ url: f.url }, credential, 5000, p.topic);
    expect(back).toMatchObject({ kind: 'ok', running: { topic: p.topic, notAfter: p.info.notAfter.toISOString() } });
    if (kind === 'micromdm') expect(back.kind === 'ok' && back.running?.serialNumber).toBe(p.info.serialNumber);
    noSecret([up, back, f.requests]);
  });

  it('a wrong credential is unauthorized', async () => {
    const f = await fake({ kind, credential: 'the-right-one' });
    const r = await client.upload({ url: f.url }, pushPair(), credential);
    expect(r).toEqual({ kind: 'unauthorized', status: 401 });
  });

  it('a sticky server reads back the old certificate', async () => {
    const old = pushPair();
    // What mdmctl would have put there: a PKCS#1 key (MicroMDM reads nothing else).
    const initial = {
      certPem: old.certPem,
      keyPem: createPrivateKey(old.keyPem).export({ type: 'pkcs1', format: 'pem' }).toString(),
    };
    const f = await fake({ kind, mode: 'sticky', initial });
    const p = pushPair(old.topic);
    expect((await client.upload({ url: f.url }, p, credential)).kind).toBe('ok');
    const back = await client.readBack({ url: f.url }, credential, 5000, p.topic);
    expect(back.kind).toBe('ok');
    if (back.kind === 'ok') expect(back.running?.notAfter).toBe(old.info.notAfter.toISOString());
    if (kind === 'micromdm' && back.kind === 'ok') expect(back.running?.serialNumber).toBe(old.info.serialNumber);
  });
});

describe('nanomdm specifics', () => {
  it('an encrypted key is refused with the server text', async () => {
    const f = await fake({ kind: 'nanomdm' });
    const p = pushPair();
    const legacy = createPrivateKey(p.keyPem)
      .export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'x' })
      .toString();
    const r = await nanomdm.upload({ url: f.url }, { certPem: p.certPem, keyPem: legacy }, credential);
    expect(r).toEqual({ kind: 'refused', status: 400, message: 'HTTP 400: private key PEM appears to be encrypted' });
  });
  it.each(['old-get-400', 'old-get-405'] as const)('%s: read-back is not supported', async (mode) => {
    const f = await fake({ kind: 'nanomdm', mode });
    const r = await nanomdm.readBack({ url: f.url }, credential, 5000, mdmTopic());
    expect(r.kind).toBe('not-supported');
  });
  it('nanohub on nanomdm v0.9.0 (GET reaches the PUT handler) is not supported', async () => {
    const f = await fake({ kind: 'nanohub', mode: 'old-get-400' });
    expect((await nanohub.readBack({ url: f.url }, credential, 5000, mdmTopic())).kind).toBe('not-supported');
  });
});

describe('micromdm specifics', () => {
  it('receives a PKCS#1 key when given PKCS#8', async () => {
    const f = await fake({ kind: 'micromdm' });
    const p = pushPair();
    expect(p.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    await micromdm.upload({ url: f.url }, p, credential);
    const held = f.running.get('')!;
    expect(held.keyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const sent = createPrivateKey(held.keyPem!).export({ type: 'pkcs8', format: 'der' });
    expect(sent.equals(createPrivateKey(p.keyPem).export({ type: 'pkcs8', format: 'der' }))).toBe(true);
  });
  it('a server holding a PKCS#8 key (uploaded by hand) fails its read-back with its error', async () => {
    const p = pushPair();
    const f = await fake({ kind: 'micromdm', initial: p });
    const r = await micromdm.readBack({ url: f.url }, credential);
    expect(r.kind).toBe('refused');
    if (r.kind === 'refused') expect(r.message).toMatch(/^HTTP 500: .*parse push certificate key/);
  });
});

describe('fleet client', () => {
  it('uploads a certificate for its own key, reads back serial and date, and gives its CSR', async () => {
    const fleetKey = newKeyPem();
    const f = await fake({ kind: 'fleet', fleetKeyPem: fleetKey.privatePem });
    const certPem = issuePushCert(ca, {
      publicKeyPem: fleetKey.publicPem,
      topic: mdmTopic(),
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2027-02-01T00:00:00Z'),
    });
    const info = parseCertificate(new Uint8Array(Buffer.from(certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));
    expect(await fleet.upload({ url: f.url }, { certPem }, credential)).toEqual({ kind: 'ok' });
    const back = await fleet.readBack({ url: f.url }, credential);
    expect(back).toMatchObject({
      kind: 'ok',
      running: { serialNumber: info.serialNumber, notAfter: '2027-02-01T00:00:00.000Z' },
    });
    const csr = await fleet.requestCsr({ url: f.url }, credential);
    expect(csr.kind).toBe('csr');
    expect(f.requests[0]!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    noSecret([back, csr, f.requests]);
  });
  it('a certificate that does not pair with its key is "Invalid certificate"', async () => {
    const f = await fake({ kind: 'fleet', fleetKeyPem: newKeyPem().privatePem });
    const r = await fleet.upload({ url: f.url }, { certPem: pushPair().certPem }, credential);
    expect(r.kind).toBe('refused');
    if (r.kind === 'refused') expect(r.message).toMatch(/^HTTP 422: Invalid certificate/);
    expect(f.running.size).toBe(0);
  });
  it('a wrong token is unauthorized', async () => {
    const f = await fake({ kind: 'fleet', credential: 'other' });
    expect(await fleet.readBack({ url: f.url }, credential)).toEqual({ kind: 'unauthorized', status: 401 });
  });
});

describe('transport', () => {
  it.each(['silent', 'drip'] as const)('%s server: unreachable within the deadline', async (mode) => {
    const f = await fake({ kind: 'nanomdm', mode, dripMs: 300 });
    const started = Date.now();
    const r: MdmResult = await nanomdm.upload({ url: f.url }, pushPair(), credential, 700);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r.kind).toBe('unreachable');
    noSecret(r);
  });
  it('plain HTTP to a non-loopback host is not sent', async () => {
    const r = await micromdm.upload({ url: 'http://192.0.2.1:9' }, pushPair(), credential);
    expect(r.kind).toBe('not-sent');
  });
  it('HTTPS: the test CA given is trusted; without it the TLS check fails', async () => {
    const serverCa = issueCert(null, {
      subject: [{ name: 'commonName', value: 'Test MDM CA' }],
      notBefore: new Date(Date.now() - 86_400_000),
      notAfter: new Date(Date.now() + 86_400_000),
      isCa: true,
    });
    const leaf = issueCert(serverCa, {
      subject: [{ name: 'commonName', value: '127.0.0.1' }],
      notBefore: new Date(Date.now() - 86_400_000),
      notAfter: new Date(Date.now() + 86_400_000),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const f = await fake({ kind: 'nanomdm', tls: { certPem: leaf.pem, keyPem: leaf.privatePem } });
    const p = pushPair();
    expect((await nanomdm.upload({ url: f.url, caPem: serverCa.pem }, p, credential)).kind).toBe('ok');
    const bad = await nanomdm.readBack({ url: f.url }, credential, 5000, p.topic);
    expect(bad.kind).toBe('unreachable');
    noSecret(bad);
  });
  it('nothing was written by a refused request (the fake records methods)', async () => {
    const f = await fake({ kind: 'micromdm' });
    await micromdm.readBack({ url: f.url }, credential);
    expect(writes(f)).toEqual([]);
  });
});
