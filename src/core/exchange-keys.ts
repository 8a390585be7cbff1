import { certificateKeyIds, pendingKeyIds } from './index-model.js';
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
  const pending = pendingExchangeKeys(before);
  if (pending.length === 0) return [];
  const kept = new Set<string>();
  for (const r of Object.values(after.records))
    for (const id of [...pendingKeyIds(r.pendingKey), ...certificateKeyIds(r)]) kept.add(id);
  for (const v of Object.values(after.vendors)) kept.add(v.keyId);
  return [...new Set(pending)].filter((id) => !kept.has(id));
}
