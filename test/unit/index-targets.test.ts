/** Issue 12's additions to the index: a record's deploy targets and deployments, validated strictly. */
import { describe, expect, it } from 'vitest';
import { parseIndex, serializeIndex, targetUrlProblem } from '../../src/core/index-model.js';
import { damageOf, indexText, INDEX_NOW, v010Index } from '../helpers/index-text.js';

const NOW = INDEX_NOW;
const AT = NOW.toISOString();
const SECRET_ID = 'ab'.repeat(32);

const SERVER = {
  label: 'nanomdm',
  kind: 'nanomdm',
  url: 'https://mdm.example.com',
  credentialId: SECRET_ID,
  addedAt: AT,
};
const FILE = { label: 'disk', kind: 'file', path: '/etc/mdm/push.pem', format: 'pem', keyFormat: 'pkcs1', addedAt: AT };
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';
const DEPLOYMENT = { target: 'nanomdm', serialNumber: '0A1B', at: AT, result: 'deployed' };

const indexWith = (mutate: (record: Record<string, unknown>) => void) =>
  indexText((index) => mutate(index.records.acme as Record<string, unknown>));
const damage = damageOf;

describe('targets and deployments in the index', () => {
  it('an index written by 0.1.0 reads with no targets and no deployments on every record', () => {
    const index = v010Index();
    for (const record of Object.values(index.records)) {
      expect(record.targets).toEqual([]);
      expect(record.deployments).toEqual([]);
    }
  });

  it('keeps a server target, a file target and a deployment through a round trip', () => {
    const text = indexWith((r) => {
      r.targets = [
        { ...SERVER, caPem: CA_PEM },
        { ...FILE, after: 'systemctl restart mdm' },
        { label: 'local', kind: 'fleet', url: 'http://127.0.0.1:8080/base', addedAt: AT },
        { ...FILE, label: 'p12', format: 'p12', passwordId: SECRET_ID },
        // a .p12 target added before its password was kept: read as it is (deploy asks for the password)
        { ...FILE, label: 'old-p12', format: 'p12' },
      ];
      r.deployments = [DEPLOYMENT, { ...DEPLOYMENT, target: 'disk', result: 'after failed' }];
    });
    const index = parseIndex(text, 'index.json');
    expect(parseIndex(serializeIndex(index), 'index.json')).toEqual(index);
    expect(index.records.acme!.targets.map((t) => t.kind)).toEqual(['nanomdm', 'file', 'fleet', 'file', 'file']);
    expect(index.records.acme!.deployments.map((d) => d.result)).toEqual(['deployed', 'after failed']);
  });

  it.each([
    ['a label that leads out', { ...SERVER, label: '../x' }, /label breaks the naming rule/],
    ['a credential id that is a path', { ...SERVER, credentialId: '../../k' }, /credentialId is not a secret id/],
    ['an upper-case credential id', { ...SERVER, credentialId: 'AB'.repeat(32) }, /credentialId/],
    ['an unknown kind', { ...SERVER, kind: 'jamf' }, /kind is not one of/],
    ['http to another host', { ...SERVER, url: 'http://mdm.example.com' }, /url is not https/],
    ['a URL with a password', { ...SERVER, url: 'https://u:p@mdm.example.com' }, /url is not https/],
    ['a server target with file options', { ...SERVER, path: '/x' }, /file options/],
    ['a caPem that is not certificates', { ...SERVER, caPem: 'ca' }, /caPem is not PEM certificates/],
    [
      'a caPem with more than certificates',
      { ...SERVER, caPem: `${CA_PEM}-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----\n` },
      /caPem/,
    ],
    ['no addedAt', { ...SERVER, addedAt: undefined }, /addedAt/],
    ['a relative path', { ...FILE, path: 'push.pem' }, /path is not an absolute path/],
    ['a file target with a url', { ...FILE, url: 'https://x.example' }, /a file target has a url/],
    ['a file target with a credential', { ...FILE, credentialId: SECRET_ID }, /a file target has/],
    ['another format', { ...FILE, format: 'der' }, /format/],
    ['another key format', { ...FILE, keyFormat: 'sec1' }, /keyFormat/],
    ['an empty --after', { ...FILE, after: '' }, /after/],
    ['a password id that is a path', { ...FILE, format: 'p12', passwordId: '../k' }, /passwordId is not a secret id/],
    ['a password on a pem file target', { ...FILE, passwordId: SECRET_ID }, /a pem file target has a passwordId/],
    ['a server target with a password id', { ...SERVER, passwordId: SECRET_ID }, /file options/],
  ])('refuses %s as a damaged index', (_what, target, why) => {
    expect(damage(indexWith((r) => (r.targets = [target])))).toMatch(why);
  });

  it('refuses a label there twice, targets that are not a list, and malformed deployments', () => {
    expect(damage(indexWith((r) => (r.targets = [SERVER, { ...FILE, label: 'nanomdm' }])))).toMatch(/twice/);
    expect(damage(indexWith((r) => (r.targets = { a: SERVER })))).toMatch(/targets is not a list/);
    expect(damage(indexWith((r) => (r.deployments = [{ ...DEPLOYMENT, result: 'ok' }])))).toMatch(/deployments\[0\]/);
    expect(damage(indexWith((r) => (r.deployments = [{ ...DEPLOYMENT, target: '../x' }])))).toMatch(/deployments/);
    expect(damage(indexWith((r) => (r.deployments = [{ ...DEPLOYMENT, serialNumber: 'zz' }])))).toMatch(/deploy/);
  });

  it('takes https:// anywhere and http:// only to a loopback host', () => {
    for (const ok of [
      'https://mdm.example.com',
      'https://mdm.example.com:8443/nanomdm',
      'http://127.0.0.1:9000',
      'http://localhost/x',
      'http://[::1]:80',
    ])
      expect(targetUrlProblem(ok), ok).toBeNull();
    expect(targetUrlProblem('http://10.0.0.1')).toMatch(/loopback/);
    expect(targetUrlProblem('http://127.0.0.1.example.com')).toMatch(/loopback/);
    expect(targetUrlProblem('ftp://x.example')).toMatch(/not https/);
    expect(targetUrlProblem('mdm.example.com')).toMatch(/not a URL/);
    expect(targetUrlProblem('https://key@mdm.example.com')).toMatch(/user or password/);
    expect(targetUrlProblem('https://mdm.example.com/?token=x')).toMatch(/query/);
  });
});
