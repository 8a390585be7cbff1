import { certificateKeyIds } from './index-model.js';
import type { StoreIndex } from './index-model.js';

/** The exchange keys of requests pending at mdmcert.download in `index`. */
function pendingExchangeKeys(index: StoreIndex): string[] {
  return Object.values(index.records).flatMap((r) => {
    const id = r.pendingKey?.mdmcert?.exchangeKeyId;
    return id === undefined ? [] : [id];
  });
}

/**
 * The exchange keys `before` keeps for a pending mdmcert.download request that `after` no longer refers to (the
 * pending key was imported, replaced or retired): to remove from the store once `after` is committed.
 */
export function droppedExchangeKeys(before: StoreIndex, after: StoreIndex): string[] {
  const kept = new Set(pendingExchangeKeys(after));
  for (const r of Object.values(after.records)) {
    if (r.pendingKey?.keyId) kept.add(r.pendingKey.keyId);
    for (const id of certificateKeyIds(r)) kept.add(id);
  }
  for (const v of Object.values(after.vendors)) kept.add(v.keyId);
  return [...new Set(pendingExchangeKeys(before))].filter((id) => !kept.has(id));
}
