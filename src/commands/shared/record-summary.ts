import { daysRemaining } from '../../core/expiry.js';
import { activeCertificate, recordStatus } from '../../core/index-model.js';
import type { PushRecord } from '../../core/index-model.js';

/** The active certificate's key is kept by its server (imported with --no-key): no export of the key, no probe. */
export const isKeyless = (record: PushRecord): boolean => activeCertificate(record)?.keyless === true;

/** A record as list and show print it. */
export function recordSummary(record: PushRecord, now: Date) {
  const active = activeCertificate(record);
  return {
    name: record.name,
    topic: record.topic,
    topicHash: record.topicHash,
    notAfter: active?.notAfter ?? null,
    daysRemaining: active === undefined ? null : daysRemaining(new Date(active.notAfter), now),
    status: recordStatus(record, now),
    serialNumber: active?.serialNumber ?? null,
    pendingKey: record.pendingKey !== null,
    signing: record.signing,
    owner: record.owner,
    note: record.note,
  };
}
