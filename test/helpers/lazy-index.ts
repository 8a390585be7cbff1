/** An index as a change of the file store reads it: written by serializeIndex, its records parsed as they are read. */
import { parseOwnIndexForChange, serializeIndex } from '../../src/core/index-model.js';
import type { StoreIndex } from '../../src/core/index-model.js';

const UUID = '7a1f3c2e-0b4d-4e8f-9a6b-5c3d2e1f0a9b';

/**
 * `index` written and read back as FileStore.change reads its own index (parseOwnIndexForChange), its store id kept
 * (the text needs a UUID); an index without records is returned as it is (its text is not laid out a record a line).
 */
export function readLazily(index: StoreIndex): StoreIndex {
  if (Object.keys(index.records).length === 0) return index;
  const lazy = parseOwnIndexForChange(serializeIndex({ ...index, storeId: UUID }), '/s/index.json');
  if (lazy === null) throw new Error('serializeIndex did not write a record a line');
  return { ...lazy, storeId: index.storeId };
}

/** A plain copy of an index (lazy or not) as its text says: what the next reader of the store gets. */
export const asWritten = (index: StoreIndex): StoreIndex => JSON.parse(serializeIndex(index)) as StoreIndex;
