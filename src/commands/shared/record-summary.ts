import { daysRemaining } from '../../core/expiry.js';
import { activeCertificate } from '../../core/index-model.js';
import type { PushRecord } from '../../core/index-model.js';

/** A record as list and show print it. */
export type RecordStatus = 'active' | 'expired' | 'pending' | 'retired';

export function recordSummary(record: PushRecord, now: Date) {
  const active = activeCertificate(record);
  const status: RecordStatus =
    record.retiredAt !== null
      ? 'retired'
      : active === undefined
        ? 'pending'
        : Date.parse(active.notAfter) <= now.getTime()
          ? 'expired'
          : 'active';
  return {
    name: record.name,
    topic: record.topic,
    topicHash: record.topicHash,
    notAfter: active?.notAfter ?? null,
    daysRemaining: active === undefined ? null : daysRemaining(new Date(active.notAfter), now),
    status,
    serialNumber: active?.serialNumber ?? null,
    pendingKey: record.pendingKey !== null,
  };
}
