import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyIndex, parseIndex, serializeIndex } from '../../src/core/index-model.js';
import { validateName } from '../../src/core/names.js';
import {
  openPrivateKey,
  parseWrappedMasterKey,
  sealPrivateKey,
  unwrapMasterKey,
  wrapMasterKey,
} from '../../src/core/sealed.js';
import type { AppError } from '../../src/errors.js';
import { BadName, DamagedIndex, DamagedStoreFile, WrongPassphrase } from '../../src/core/errors.js';
import { userError } from '../../src/commands/shared/errors.js';
import { replaceFileAtomically } from '../../src/io/files.js';
import { tempDir } from '../helpers/cli.js';

const NOW = new Date('2026-11-29T12:00:00Z');
const STORE_ID = '6f1c2b8e-3d4a-4e5f-9a0b-1c2d3e4f5a6b';
const KEY_ID = 'ab'.repeat(32);
const FP = 'cd'.repeat(32);
const ISO = '2026-01-01T00:00:00.000Z';
/** An index the tool could have written, with one record whose fields `edit` changes. */
function indexWith(edit: (record: Record<string, unknown>, cert: Record<string, unknown>) => void): string {
  const cert: Record<string, unknown> = {
    serialNumber: '0A1B',
    fingerprintSha256: FP,
    notBefore: ISO,
    notAfter: ISO,
    importedAt: ISO,
    keyId: KEY_ID,
    status: 'active',
    file: `certs/${FP}.pem`,
  };
  const record: Record<string, unknown> = {
    name: 'acme',
    topic: 't',
    topicHash: null,
    appleIdHash: null,
    createdAt: ISO,
    updatedAt: ISO,
    pendingKey: { keyId: KEY_ID, createdAt: ISO, csrPath: null },
    certificates: [cert],
    retiredAt: null,
  };
  edit(record, cert);
  return JSON.stringify({
    schemaVersion: 1,
    storeId: STORE_ID,
    secretBackend: 'passphrase',
    createdAt: ISO,
    records: { acme: record },
  });
}

describe('index.json', () => {
  it('round-trips', () => {
    const index = emptyIndex(STORE_ID, 'keychain', NOW);
    expect(parseIndex(serializeIndex(index), 'index.json')).toEqual(index);
  });
  it.each([
    ['', /not valid JSON/],
    ['{"schemaVersion":1', /not valid JSON/],
    ['[]', /not a JSON object/],
    [
      '{"schemaVersion":2,"storeId":"x","secretBackend":"keychain","createdAt":"2026-01-01T00:00:00Z","records":{}}',
      /schemaVersion 2/,
    ],
    [
      '{"schemaVersion":1,"storeId":"x","secretBackend":"vault","createdAt":"2026-01-01T00:00:00Z","records":{}}',
      /secretBackend/,
    ],
    [
      `{"schemaVersion":1,"storeId":"${STORE_ID}","secretBackend":"keychain","createdAt":"2026-01-01T00:00:00Z","records":{"a":{"name":"b"}}}`,
      /record "a"/,
    ],
    [
      '{"schemaVersion":1,"storeId":"../x","secretBackend":"keychain","createdAt":"2026-01-01T00:00:00Z","records":{}}',
      /storeId is not a UUID/,
    ],
    // ids and file names from the index become paths in the store: only the format the tool writes is accepted
    [
      indexWith((r) => ((r.pendingKey as Record<string, unknown>).keyId = '../../x')),
      /pendingKey.keyId is not a key id/,
    ],
    [indexWith((_r, c) => (c.keyId = '../../../etc/ssl/private/server')), /certificates\[0\] keyId is not a key id/],
    [indexWith((_r, c) => (c.keyId = KEY_ID.toUpperCase())), /keyId is not a key id/],
    [indexWith((_r, c) => (c.file = `certs/../../${FP}.pem`)), /file is not certs\/<fingerprintSha256>.pem/],
    [indexWith((_r, c) => (c.file = `/etc/${FP}.pem`)), /file is not certs/],
    [indexWith((_r, c) => (c.file = 'certs/x.pem')), /file is not certs/],
    [
      indexWith((_r, c) => ((c.fingerprintSha256 = '../x'), (c.file = 'certs/../x.pem'))),
      /fingerprintSha256 is not 64 hex digits/,
    ],
    [indexWith((r) => (r.topicHash = '../x')), /record "acme" is malformed/],
    // custody: the sealed Apple ID's id names a file; owner and note are one line of printable text
    [indexWith((r) => (r.appleIdSecretId = '../../x')), /appleIdSecretId is not a secret id/],
    [indexWith((r) => (r.appleIdSecretId = 'AB'.repeat(32))), /appleIdSecretId is not a secret id/],
    [indexWith((r) => (r.owner = 'two\nlines')), /owner is malformed/],
    [indexWith((r) => (r.owner = 'o'.repeat(201))), /owner is malformed/],
    [indexWith((r) => (r.note = 42)), /note is malformed/],
    [indexWith((r) => (r.note = 'a\u202eb')), /note is malformed/],
  ])('reports a damaged index %#', (text, message) => {
    let error: unknown;
    try {
      parseIndex(text, '/store/index.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DamagedIndex);
    expect((error as DamagedIndex).path).toBe('/store/index.json');
    expect((error as DamagedIndex).why).toMatch(message);
    const shown = userError(error, 'list') as AppError;
    expect(shown.code).toBe('STORE_CORRUPT');
    expect(shown.exitCode).toBe(65);
    expect(shown.message).toMatch(message);
  });
  it('reads a record without custody fields (an older store) as none; keeps them when there', () => {
    const old = parseIndex(
      indexWith(() => undefined),
      'index.json',
    ).records.acme!;
    expect([old.appleIdSecretId, old.owner, old.note]).toEqual([null, null, null]);
    const kept = parseIndex(
      indexWith((r) => Object.assign(r, { appleIdSecretId: 'ef'.repeat(32), owner: 'it@acme.example', note: 'n' })),
      'index.json',
    ).records.acme!;
    expect([kept.appleIdSecretId, kept.owner, kept.note]).toEqual(['ef'.repeat(32), 'it@acme.example', 'n']);
  });
  it('accepts the ids and file names the tool writes', () => {
    expect(
      parseIndex(
        indexWith(() => undefined),
        'index.json',
      ).records.acme!.certificates[0]!.file,
    ).toBe(`certs/${FP}.pem`);
  });
  it('refuses names that are not file- and shell-safe', () => {
    expect(validateName('acme-prod.2027')).toBe('acme-prod.2027');
    for (const bad of ['', '../x', '-rf', 'a b', 'x'.repeat(65)]) expect(() => validateName(bad)).toThrow(BadName);
  });
});

describe('sealed keys and the wrapped master key', () => {
  const master = randomBytes(32);
  it('opens a sealed key with the same master key and key id only', () => {
    const box = sealPrivateKey(Buffer.from('pkcs8'), master, 'kid');
    expect(openPrivateKey(box, master, 'kid').toString()).toBe('pkcs8');
    expect(() => openPrivateKey(box, randomBytes(32), 'kid')).toThrow(DamagedStoreFile);
    expect(() => openPrivateKey(box, master, 'other-kid')).toThrow(DamagedStoreFile);
    const tampered = { ...box, ciphertext: Buffer.from('x' + box.ciphertext).toString('base64') };
    expect(() => openPrivateKey(tampered, master, 'kid')).toThrow(DamagedStoreFile);
  });
  it('unwraps the master key with the right passphrase, and says "wrong passphrase" (77) otherwise', async () => {
    const wrapped = parseWrappedMasterKey(JSON.stringify(await wrapMasterKey(master, 'correct horse')));
    expect((await unwrapMasterKey(wrapped, 'correct horse')).equals(master)).toBe(true);
    try {
      await unwrapMasterKey(wrapped, 'wrong');
      expect.fail('should throw');
    } catch (error) {
      expect(error).toBeInstanceOf(WrongPassphrase);
      const shown = userError(error, 'export') as AppError;
      expect(shown.code).toBe('WRONG_PASSPHRASE');
      expect(shown.exitCode).toBe(77);
      expect(shown.hint).toBe('APNS_CERT_PASSPHRASE=... apns-cert export ...   # or --passphrase-file <file>');
    }
  });
});

describe('atomic file replacement', () => {
  it('replaces the file with the given mode whatever the umask, leaving no temporary file', () => {
    const dir = tempDir();
    const path = join(dir, 'index.json');
    writeFileSync(path, 'old');
    const umask = process.umask(0o077);
    try {
      replaceFileAtomically(path, 'new', { mode: 0o644, fsync: true });
    } finally {
      process.umask(umask);
    }
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o644);
    replaceFileAtomically(path, Buffer.from('bytes'), { mode: 0o600, fsync: false });
    expect(readFileSync(path, 'utf8')).toBe('bytes');
    expect(readdirSync(dir)).toEqual(['index.json']);
  });

  it('a write that fails (the target is a directory) throws, keeps what was there and leaves no temporary file', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'index.json'));
    expect(() => replaceFileAtomically(join(dir, 'index.json'), 'new', { mode: 0o600, fsync: true })).toThrow();
    expect(statSync(join(dir, 'index.json')).isDirectory()).toBe(true);
    expect(readdirSync(dir)).toEqual(['index.json']);
  });
});
