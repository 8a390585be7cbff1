/**
 * Does a target run what the store says? The certificate a server reads back, compared with a record's history:
 * `current` (its active certificate), `stale` (a superseded one of its history), `foreign` (none of its history).
 * `unknown` (no read-back) is decided by whoever asked the server; this module only compares.
 */

export type TargetState = 'current' | 'stale' | 'foreign' | 'unknown';

/** One certificate of a record's history. */
export interface HistoryEntry {
  /** Uppercase hex (as the index keeps it). */
  serialNumber: string;
  /** ISO 8601. */
  notAfter: string;
  topic: string | null;
  active: boolean;
}

/** What a server says it runs (any field may be missing: NanoMDM gives no serial, Fleet no topic). */
export interface RunningFacts {
  serialNumber?: string | undefined;
  notAfter?: string | undefined;
  topic?: string | undefined;
  commonName?: string | undefined;
}

export interface Classified {
  state: Exclude<TargetState, 'unknown'>;
  /** The running certificate's topic as far as it is known (its own, its history entry's, or its APSP name). */
  topic: string | null;
  /** The topic is the record's; null when no topic is known. */
  sameTopic: boolean | null;
  /** The history entry it matched (current, stale). */
  entry: HistoryEntry | null;
}

/** A serial compared as deploy compares it: uppercase hex without leading zeros. */
export const serialKey = (serial: string): string => serial.replace(/^0+/, '').toUpperCase();
export const sameSerial = (a: string, b: string): boolean => serialKey(a) === serialKey(b);
/** Two instants in the same second (servers write RFC 3339 without milliseconds). */
export const sameTime = (a: string, b: string): boolean =>
  Math.floor(Date.parse(a) / 1000) === Math.floor(Date.parse(b) / 1000);

/** Apple's push certificates are CN "APSP:<uuid>" for the topic com.apple.mgmt.External.<uuid>. */
export function topicOfCommonName(cn: string | undefined): string | null {
  const uuid = /^APSP:([0-9A-Fa-f-]{36})$/.exec(cn ?? '')?.[1];
  return uuid === undefined ? null : `com.apple.mgmt.External.${uuid}`;
}

/**
 * The history entry the running certificate is: by serial when the server gives one (and its notAfter, when
 * given too, must agree); else by notAfter within the running topic (NanoMDM answers topic and not_after only).
 */
export function matchHistory(history: readonly HistoryEntry[], running: RunningFacts): HistoryEntry | null {
  if (running.serialNumber !== undefined) {
    const bySerial = history.find((e) => sameSerial(e.serialNumber, running.serialNumber!));
    if (bySerial === undefined) return null;
    return running.notAfter === undefined || sameTime(bySerial.notAfter, running.notAfter) ? bySerial : null;
  }
  if (running.notAfter === undefined) return null;
  const candidates = history.filter(
    (e) => sameTime(e.notAfter, running.notAfter!) && (running.topic === undefined || e.topic === running.topic),
  );
  // Two certificates of one topic expiring in the same second cannot be told apart: the active one wins only
  // when it is the only candidate, else the first superseded one is named (never a false "current").
  if (candidates.length === 1) return candidates[0]!;
  return candidates.find((e) => !e.active) ?? null;
}

/** current / stale / foreign, with the running certificate's topic compared with the record's. */
export function classifyRunning(
  history: readonly HistoryEntry[],
  recordTopic: string | null,
  running: RunningFacts,
): Classified {
  const entry = matchHistory(history, running);
  const topic = running.topic ?? entry?.topic ?? topicOfCommonName(running.commonName) ?? null;
  const sameTopic = topic === null || recordTopic === null ? null : topic === recordTopic;
  if (entry === null) return { state: 'foreign', topic, sameTopic, entry };
  return { state: entry.active ? 'current' : 'stale', topic, sameTopic, entry };
}

/**
 * What a target's state weighs in check-expiry's status: stale and unknown are WARNING, foreign is CRITICAL unless
 * its topic is the record's (then WARNING: devices still answer it, but it is not the store's certificate).
 */
export function targetSeverity(state: TargetState, sameTopic: boolean | null): 'ok' | 'warning' | 'critical' {
  if (state === 'current') return 'ok';
  if (state === 'foreign' && sameTopic !== true) return 'critical';
  return 'warning';
}
