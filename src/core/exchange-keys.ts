import { certificateKeyIds, pendingKeyIds } from './index-model.js';
import type { StoreIndex } from './index-model.js';
import { recordsMentioning } from './lazy-records.js';

/** The exchange keys of requests pending at mdmcert.download in `index`. */
function pendingExchangeKeys(index: StoreIndex): string[] {
  return recordsMentioning(index.records, '"exchangeKeyId":').flatMap((r) => {
    const id = r.pendingKey?.mdmcert?.exchangeKeyId;
    return id === undefined ? [] : [id];
  });
}

/**
 * The exchange keys `before` keeps for a pending mdmcert.download request that `after` no longer refers to (the
 * pending key was imported, replaced or retired): to remove from the store once `after` is committed.
 */
export function droppedExchangeKeys(before: StoreIndex, after: StoreIndex): string[] {
  const pending = [...new Set(pendingExchangeKeys(before))];
  if (pending.length === 0) return [];
  const kept = new Set<string>();
  for (const id of pending)
    for (const r of recordsMentioning(after.records, id))
      for (const k of [...pendingKeyIds(r.pendingKey), ...certificateKeyIds(r)]) kept.add(k);
  for (const v of Object.values(after.vendors)) kept.add(v.keyId);
  return pending.filter((id) => !kept.has(id));
}
