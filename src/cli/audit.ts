import { hostname, userInfo } from 'node:os';
import { isAppError } from '../errors.js';
import { MAX_AUDIT_FIELD, auditResult } from '../core/audit-log.js';
import type { AuditEntry } from '../core/audit-log.js';
import type { AuditNote, AuditNotes, CommandDefinition, Deps } from '../commands/kit.js';
import { escapeControl } from '../output/output.js';
import type { Output } from '../output/output.js';

/** What the running command noted for its audit log entry (Deps.audit). */
export class AuditNotebook implements AuditNotes {
  fields: AuditNote = {};
  note(fields: AuditNote): void {
    for (const [key, value] of Object.entries(fields) as Array<[keyof AuditNote, string | undefined]>)
      if (value !== undefined) this.fields[key] = value;
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A text field as the log keeps it: control characters escaped, cut to MAX_AUDIT_FIELD, well-formed, never empty. */
function text(value: string): string {
  const escaped = escapeControl(value);
  const cut = escaped.length > MAX_AUDIT_FIELD ? `${escaped.slice(0, MAX_AUDIT_FIELD - 1)}…` : escaped;
  return cut === '' ? '?' : cut.replace(LONE_SURROGATE, '\ufffd');
}

function osUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME ?? '?'; // no passwd entry for this uid (a container)
  }
}

/** A command run that may change the store: what its entry is made from. */
export interface AuditedRun {
  mod: CommandDefinition<never>;
  /** undefined until they parsed */
  options: unknown;
  deps: Deps;
  notebook: AuditNotebook;
}

/** Whether this run of `mod` (with these options; unknown when they did not parse) changes the store. */
export function changesStore(mod: CommandDefinition<never>, options: unknown): boolean {
  if (mod.changesStore === undefined) return false;
  return options === undefined || mod.changesStore(options as never);
}

/**
 * Appends the entry of a command that changes the store, once it has ended with `exitCode` (and `error`,
 * when it threw). Nothing when the store does not exist (the command did not create it). An entry that
 * cannot be written is a warning on stderr and never changes the exit code: the change itself is done (or
 * was refused) and the command says so; failing it now would have a script retry a change that happened.
 */
export async function recordChange(
  { mod, options, deps, notebook }: AuditedRun,
  outcome: { exitCode: number; error?: unknown },
  env: NodeJS.ProcessEnv,
  out: Output,
): Promise<void> {
  const noted = notebook.fields;
  const named = (options as { name?: unknown } | undefined)?.name;
  const record = noted.record ?? (typeof named === 'string' ? named : undefined);
  const entry: AuditEntry = {
    at: deps.now().toISOString(),
    user: text(osUser(env)),
    host: text(hostname()),
    command: [mod.name, ...(mod.subcommand === undefined ? [] : [mod.subcommand])].join(' '),
    record: record === undefined ? null : text(record),
    result: auditResult(outcome.exitCode),
    exitCode: outcome.exitCode,
  };
  if (noted.serialNumber !== undefined) entry.serialNumber = noted.serialNumber;
  if (noted.topic !== undefined) entry.topic = text(noted.topic);
  if (outcome.error !== undefined) {
    const message = isAppError(outcome.error)
      ? outcome.error.message
      : `internal error: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`;
    entry.message = text(message.split('\n')[0]!);
  }
  try {
    if (noted.store === undefined) await deps.store.appendLog(entry);
    else {
      const other = await deps.openStore(noted.store);
      try {
        await other.appendLog(entry);
      } finally {
        await other.close();
      }
    }
  } catch (error) {
    // The command failed because the store could not be opened, and said so: nothing changed, and the same words
    // again as a warning would only be noise.
    if (isAppError(error) && isAppError(outcome.error) && error.message === outcome.error.message) return;
    const message = error instanceof Error ? error.message : String(error);
    out.warn(`this command is not in the audit log: ${message}`);
    if (isAppError(error) && error.hint !== undefined) out.error(`hint: ${error.hint}`);
  }
}
