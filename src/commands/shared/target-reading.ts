/**
 * What a record's targets run: the per-kind read-back (shared by deploy's topic guard and `deploy --check`,
 * doctor and `check-expiry --targets`), and the check of each target against the record's history.
 */
import { isAppError } from '../../errors.js';
import { certificateInService } from '../../core/index-model.js';
import type { FileTarget, PushRecord, ServerTarget, StoreIndex, Target, TargetKind } from '../../core/index-model.js';
import { decodeCertificateFile } from '../../core/input.js';
import { classifyRunning } from '../../core/target-state.js';
import type { HistoryEntry, TargetState } from '../../core/target-state.js';
import { mdmClient } from '../../net/mdm/index.js';
import type { RunningCertificate } from '../../net/mdm/index.js';
import type { Deps } from '../kit.js';
import { causeOf, credentialOf } from './mdm-target.js';
import type { MdmFailure } from './mdm-target.js';
import { certificateIn } from './file-certificate.js';

/** What a target answered about the certificate it runs. */
export type Reading =
  | { kind: 'running'; running: RunningCertificate }
  /** It runs none (nothing configured, no certificate for the topic, a missing file). */
  | { kind: 'none'; cause: string }
  /** It cannot tell (NanoMDM before 2026-03, a .p12 file). */
  | { kind: 'no-read-back'; cause: string }
  /** The call failed (401, unreachable, a bad answer, not sent). */
  | { kind: 'failed'; failure: MdmFailure };

/**
 * What a server runs. NanoMDM and NanoHUB keep a certificate per topic: they are asked for each of `topics` in
 * turn (the record's first) until one is held; the others run one certificate.
 */
export async function readServer(
  t: ServerTarget,
  credential: string,
  topics: readonly string[],
  timeoutMs: number,
): Promise<Reading> {
  const client = mdmClient(t.kind);
  const endpoint = { url: t.url, caPem: t.caPem };
  if (t.kind === 'nanomdm' || t.kind === 'nanohub') {
    for (const topic of topics) {
      const r = await client.readBack(endpoint, credential, timeoutMs, topic);
      if (r.kind === 'ok') return { kind: 'running', running: { topic, ...r.running } };
      if (r.kind === 'not-supported') return { kind: 'no-read-back', cause: causeOf(r) };
      if (r.kind !== 'refused') return { kind: 'failed', failure: r };
      // refused: the server holds no certificate for this topic
    }
    return { kind: 'none', cause: `the server holds no certificate for ${topics.join(' or ') || 'the topic'}` };
  }
  const r = await client.readBack(endpoint, credential, timeoutMs);
  if (r.kind === 'ok')
    return r.running === undefined
      ? { kind: 'none', cause: 'the server runs no certificate' }
      : { kind: 'running', running: r.running };
  // Fleet: 404 when none is set; MicroMDM: 500 when none is set (or its key cannot be parsed)
  if (r.kind === 'refused') return { kind: 'none', cause: `the server has no certificate to show (${causeOf(r)})` };
  if (r.kind === 'not-supported') return { kind: 'no-read-back', cause: causeOf(r) };
  return { kind: 'failed', failure: r };
}

/** The certificate a file target holds (PEM, DER, or a .p12 opened with the target's sealed password). */
async function readFileTarget(index: StoreIndex, t: FileTarget, deps: Deps): Promise<Reading> {
  let password: string | undefined;
  if (t.passwordId !== undefined) {
    try {
      password = await credentialOf(deps, index, t);
    } catch (error) {
      if (!isAppError(error)) throw error;
      return { kind: 'none', cause: `its .p12 password could not be opened: ${error.message}` };
    }
  }
  const found = await certificateIn(t.path, password, deps);
  if ('cause' in found) return { kind: 'none', cause: found.cause };
  const running: RunningCertificate = {
    serialNumber: found.cert.serialNumber,
    notAfter: found.cert.notAfter.toISOString(),
  };
  if (found.cert.topic !== null) running.topic = found.cert.topic;
  return { kind: 'running', running };
}

/** Every certificate of the record with its topic (read from the certificate files). */
export async function recordHistory(record: PushRecord, deps: Deps): Promise<HistoryEntry[]> {
  const active = certificateInService(record);
  const out: HistoryEntry[] = [];
  for (const entry of record.certificates) {
    const pem = Buffer.from(await deps.store.certificatePem(entry));
    const topic = decodeCertificateFile(pem, entry.file).certificates[0]?.topic ?? null;
    out.push({ serialNumber: entry.serialNumber, notAfter: entry.notAfter, topic, active: entry === active });
  }
  return out;
}

/** One target's state, as `deploy --check --json` shows it. */
export interface TargetCheck {
  name: string;
  label: string;
  kind: TargetKind;
  state: TargetState;
  running: { serialNumber: string | null; notAfter: string | null; topic: string | null } | null;
  /** For `foreign`: the running certificate's topic is the record's (null: not known, or not foreign). */
  sameTopic: boolean | null;
  message: string;
}

function describe(running: RunningCertificate): string {
  const parts = [
    running.serialNumber !== undefined ? `serial ${running.serialNumber}` : '',
    running.notAfter !== undefined ? `expiring ${running.notAfter}` : '',
  ].filter((s) => s !== '');
  return parts.length === 0 ? 'a certificate' : parts.join(', ');
}

function judged(record: PushRecord, t: Target, history: HistoryEntry[], reading: Reading): TargetCheck {
  const base = { name: record.name, label: t.label, kind: t.kind, sameTopic: null };
  if (reading.kind !== 'running') {
    const message = reading.kind === 'failed' ? causeOf(reading.failure) : reading.cause;
    return { ...base, state: 'unknown', running: null, message };
  }
  const r = reading.running;
  const c = classifyRunning(history, record.topic, r);
  const running = { serialNumber: r.serialNumber ?? null, notAfter: r.notAfter ?? null, topic: c.topic };
  const active = history.find((e) => e.active);
  const activeText = active === undefined ? 'the record has no active certificate' : `active: ${active.serialNumber}`;
  if (c.state === 'current')
    return { ...base, state: 'current', running, message: `runs the active certificate (${describe(r)})` };
  if (c.state === 'stale') {
    const former = c.sameTopic === false ? ` of the former topic ${c.topic}` : '';
    const message = `runs the superseded certificate ${c.entry!.serialNumber}${former} (expiring ${c.entry!.notAfter}; ${activeText})`;
    return { ...base, state: 'stale', running, message };
  }
  const whose =
    c.sameTopic === true
      ? "of the record's topic"
      : c.topic === null
        ? 'of an unknown topic'
        : `of another topic (${c.topic}; the record's is ${record.topic ?? 'none'})`;
  return {
    ...base,
    state: 'foreign',
    running,
    sameTopic: c.sameTopic,
    message: `runs a certificate not in the record's history (${describe(r)}), ${whose}`,
  };
}

async function readTarget(index: StoreIndex, t: ServerTarget, topics: string[], deps: Deps): Promise<Reading> {
  let credential: string;
  try {
    credential = await credentialOf(deps, index, t);
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { kind: 'none', cause: `its credential could not be opened: ${error.message}` };
  }
  return readServer(t, credential, topics, deps.settings.deployTimeoutMs);
}

/** What each of `targets` (of `record`) runs, compared with the record's history; reads only, never uploads. */
export async function checkTargets(
  index: StoreIndex,
  record: PushRecord,
  targets: readonly Target[],
  deps: Deps,
): Promise<TargetCheck[]> {
  if (targets.length === 0) return [];
  const history = await recordHistory(record, deps);
  const topics = [...new Set([record.topic, ...history.map((e) => e.topic)].filter((x): x is string => x !== null))];
  const out: TargetCheck[] = [];
  for (const t of targets) {
    const reading = t.kind === 'file' ? await readFileTarget(index, t, deps) : await readTarget(index, t, topics, deps);
    out.push(judged(record, t, history, reading));
  }
  return out;
}

/** The records a check over the whole store covers: those in service (not retired, a certificate) with targets. */
export function checkedRecords(index: StoreIndex): PushRecord[] {
  return Object.values(index.records)
    .filter((r) => certificateInService(r) !== undefined && r.targets.length > 0)
    .sort((a, b) => a.name.localeCompare(b.name));
}
