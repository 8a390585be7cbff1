/** Index texts for the index model's tests: a fresh index with one record "acme", changed by the test. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { DamagedIndex } from '../../src/core/errors.js';
import { emptyIndex, newRecord, parseIndex, serializeIndex } from '../../src/core/index-model.js';
import type { StoreIndex } from '../../src/core/index-model.js';
import { ROOT } from './cli.js';

export const INDEX_NOW = new Date('2026-12-01T12:00:00Z');
export const INDEX_STORE_ID = '353dbf35-0c97-435c-b914-ed167eb61b92';

/** The text of an index holding the record "acme" (as newRecord makes it), after `mutate` changed the parsed JSON. */
export function indexText(
  mutate: (index: Record<string, unknown> & { records: Record<string, object> }) => void,
): string {
  const index = JSON.parse(serializeIndex(emptyIndex(INDEX_STORE_ID, 'passphrase', INDEX_NOW)));
  index.records.acme = newRecord('acme', INDEX_NOW.toISOString());
  mutate(index);
  return JSON.stringify(index);
}

/** Why parseIndex calls `text` damaged (the test fails when it parses). */
export function damageOf(text: string): string {
  try {
    parseIndex(text, '/s/index.json');
  } catch (error) {
    expect(error).toBeInstanceOf(DamagedIndex);
    return (error as DamagedIndex).why;
  }
  throw new Error('parsed');
}

/** The index of the store 0.1.0 wrote (test/fixtures/stores/v0.1.0-passphrase), as this version reads it. */
export function v010Index(): StoreIndex {
  return parseIndex(
    readFileSync(join(ROOT, 'test/fixtures/stores/v0.1.0-passphrase/index.json'), 'utf8'),
    'index.json',
  );
}
