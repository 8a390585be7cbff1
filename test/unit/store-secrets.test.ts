/** Sealed secrets through the Store interface on a real file store (in process, an in-memory vault). */
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { isDomainError } from '../../src/core/errors.js';
import { openSecret, sealSecret } from '../../src/core/sealed.js';
import type { SecretKind } from '../../src/core/sealed.js';
import { isAppError } from '../../src/errors.js';
import { tempDir } from '../helpers/cli.js';
import { fileStore } from '../helpers/deps.js';
import { MemoryVault } from '../helpers/memory-vault.js';

const ID = 'a1'.repeat(32);
const OTHER = 'b2'.repeat(32);
const SECRET = Buffer.from('the-api-key-5a9c1e');

async function storeWithSecret() {
  const dir = tempDir();
  const vault = new MemoryVault();
  const store = fileStore(dir, { vault });
  await store.change(async (tx) => {
    await tx.putSecret(ID, SECRET, 'target-credential');
    await tx.commit(tx.index);
  });
  return { dir, vault, store };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    if (isAppError(error)) return error.code;
    if (isDomainError(error)) return error.kind;
    throw error;
  }
  return 'resolved';
}

describe('sealed secrets in the file store', () => {
  it('seals a secret in secrets/<id>.sealed (not in clear) and opens it with the master key', async () => {
    const { dir, store } = await storeWithSecret();
    const text = readFileSync(join(dir, 'secrets', `${ID}.sealed`), 'utf8');
    expect(text).not.toContain(SECRET.toString());
    expect(text).not.toContain(SECRET.toString('base64'));
    expect(JSON.parse(text)).toMatchObject({ version: 1, alg: 'aes-256-gcm' });
    const index = (await store.read())!;
    expect(await store.secret(index, ID, 'target-credential')).toEqual(SECRET);
  });

  it('binds the box to its id: the same box under another id does not open (a damaged store file, 65)', async () => {
    const { dir, store } = await storeWithSecret();
    copyFileSync(join(dir, 'secrets', `${ID}.sealed`), join(dir, 'secrets', `${OTHER}.sealed`));
    const index = (await store.read())!;
    expect(await code(store.secret(index, OTHER, 'target-credential'))).toBe('damaged-store-file');
  });

  it('binds the box to its kind: a secret sealed as one kind does not open as another', () => {
    const key = randomBytes(32);
    const box = sealSecret(SECRET, key, ID, 'target-credential');
    expect(openSecret(box, key, ID, 'target-credential', 'f')).toEqual(SECRET);
    expect(() => openSecret(box, key, ID, 'another-kind' as SecretKind, 'f')).toThrow(
      /does not open it as a another-kind/,
    );
  });

  it('refuses an id that is not 64 hex digits before any path is built from it (65)', async () => {
    const { store } = await storeWithSecret();
    const index = (await store.read())!;
    expect(await code(store.secret(index, '../../keys/x', 'target-credential'))).toBe('STORE_CORRUPT');
    expect(await code(store.change(async (tx) => tx.putSecret('../x', SECRET, 'target-credential')))).toBe(
      'STORE_CORRUPT',
    );
  });

  it('a change that fails leaves no secret behind; removeSecret deletes one after the commit', async () => {
    const { dir, store } = await storeWithSecret();
    await expect(
      store.change(async (tx) => {
        await tx.putSecret(OTHER, SECRET, 'target-credential');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(readdirSync(join(dir, 'secrets'))).toEqual([`${ID}.sealed`]);
    await store.change(async (tx) => {
      await tx.commit(tx.index);
      await tx.removeSecret(ID);
    });
    expect(existsSync(join(dir, 'secrets', `${ID}.sealed`))).toBe(false);
  });

  it('audit lists a secret no target names as an orphan', async () => {
    const { store } = await storeWithSecret();
    const audit = await store.audit();
    expect(audit.orphanSecrets).toEqual([`${ID}.sealed`]);
    expect(audit.missing).toEqual([]);
  });
});
