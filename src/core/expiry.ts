export const DAY_MS = 86_400_000;

export type CertStatus = 'ok' | 'warning' | 'critical';
export type CheckStatus = CertStatus | 'unknown';

export interface ExpiryInput {
  name: string | null;
  source: string;
  topic: string | null;
  notAfter: Date;
  /** A store record's owner and note (null for a file, or when not given). */
  owner: string | null;
  note: string | null;
}

export interface ExpiryResult extends ExpiryInput {
  daysRemaining: number;
  status: CertStatus;
}

export interface Thresholds {
  warnDays: number;
  criticalDays: number;
}

const rank: Record<CheckStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

export function worst(statuses: Iterable<CheckStatus>): CheckStatus {
  let out: CheckStatus = 'ok';
  for (const s of statuses) if (rank[s] > rank[out]) out = s;
  return out;
}

/**
 * Whole days left, rounded down, and negative exactly when the certificate has expired (notAfter <= now):
 * -1 during the first day past notAfter, -(n + 1) when n whole days have passed since (15.2 days past: -16).
 */
export function daysRemaining(notAfter: Date, now: Date): number {
  const left = notAfter.getTime() - now.getTime();
  return left > 0 ? Math.floor(left / DAY_MS) : -Math.floor(-left / DAY_MS) - 1;
}

/** Whole days since expiry (rounded down) for a negative daysRemaining: -16 (15.2 days past) is 15. */
export function daysSinceExpiry(daysRemainingValue: number): number {
  return -daysRemainingValue - 1;
}

/**
 * A certificate is CRITICAL when it has expired or expires in less than `criticalDays` days
 * (like `openssl x509 -checkend`), WARNING in less than `warnDays` days, else OK.
 */
export function classifyExpiry(notAfter: Date, now: Date, t: Thresholds): CertStatus {
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0 || left < t.criticalDays * DAY_MS) return 'critical';
  if (left < t.warnDays * DAY_MS) return 'warning';
  return 'ok';
}

/**
 * The worst status of certificates given by their notAfter as toISOString writes it (24 characters, which sort as
 * the times do): the status of the soonest, found without a Date per certificate (on a 10 000-record store those
 * are most of check-expiry's work). Null when there is none, or a date is in another form: then classify each.
 */
export function worstOfIsoDates(notAfters: readonly string[], now: Date, t: Thresholds): CertStatus | null {
  let soonest: string | undefined;
  for (const iso of notAfters) {
    if (iso.length !== 24) return null;
    if (soonest === undefined || iso < soonest) soonest = iso;
  }
  const at = soonest === undefined ? NaN : Date.parse(soonest);
  return Number.isNaN(at) ? null : classifyExpiry(new Date(at), now, t);
}

/** Evaluates every certificate, worst first (then soonest first). */
export function evaluateExpiry(items: readonly ExpiryInput[], now: Date, t: Thresholds): ExpiryResult[] {
  return items
    .map(({ name, source, topic, notAfter, owner, note }) => ({
      name,
      source,
      topic,
      notAfter,
      owner,
      note,
      daysRemaining: daysRemaining(notAfter, now),
      status: classifyExpiry(notAfter, now, t),
    }))
    .sort((a, b) => rank[b.status] - rank[a.status] || a.notAfter.getTime() - b.notAfter.getTime());
}
