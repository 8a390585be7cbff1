import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import type { SecretBackendName } from '../core/index-model.js';
import type { Output } from '../output/output.js';
import type { FileStore } from '../store/file-store.js';
import type { VaultFactory } from '../store/private-keys.js';

/** What a command needs from the outside world; tests pass fakes. */
export interface Deps {
  store: FileStore;
  vaults: VaultFactory;
  /** The backend a new store gets (--secret-backend > APNS_CERT_SECRET_BACKEND > passphrase if one is given > keychain). */
  backendForNewStore: SecretBackendName;
  now: () => Date;
  out: Output;
  readInput: (path: string) => Promise<Buffer>;
  /** A person at a terminal can answer prompts. */
  interactive: boolean;
  /** Questions for that person (stderr); only used when `interactive`. Ctrl-C throws CANCELLED (130). */
  prompter: Prompter;
  env: NodeJS.ProcessEnv;
}

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
}

export interface Prompter {
  select<T>(message: string, choices: Array<Choice<T>>): Promise<T>;
  /** `validate` returns true, or the message to show before asking again. */
  input(message: string, opts?: { default?: string; validate?: (value: string) => Promise<true | string> }): Promise<string>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
  /** Hidden input; may be empty. */
  password(message: string): Promise<string>;
}

export interface CommandModule<O> {
  /** The command word, as `define` registers it. */
  readonly name: string;
  /** Adds the command, its options and its help (EXIT CODES, EXAMPLES) to the program. */
  define(program: Command): Command;
  /** Typed options from commander's parse. */
  options(command: Command): O;
  /** Does the work and prints; returns the exit code. */
  run(options: O, deps: Deps): Promise<number>;
  /** Reads the whole program (completion): every command must be defined. */
  needsAllCommands?: boolean;
  /** Exit code for any error (check-expiry: 3, Nagios UNKNOWN); default: the error's own. */
  errorExitCode?: number;
}

export interface HelpSpec {
  exitCodes: Array<[number, string]>;
  examples: string[];
  notes?: string[];
}

export function helpFooter(spec: HelpSpec): string {
  const lines = ['', 'EXIT CODES'];
  for (const [code, meaning] of spec.exitCodes) lines.push(`  ${String(code).padEnd(4)} ${meaning}`);
  lines.push('', 'EXAMPLES');
  for (const example of spec.examples) lines.push(`  ${example}`);
  if (spec.notes) lines.push('', ...spec.notes);
  return `${lines.join('\n')}\n`;
}

export function withHelp(command: Command, spec: HelpSpec): Command {
  return command.addHelpText('after', helpFooter(spec));
}

/** Exit codes every store-touching command can produce. */
export const COMMON_ERRORS: Array<[number, string]> = [
  [64, 'usage error (bad option, unknown name)'],
  [65, 'bad input data, or a damaged store index'],
  [66, 'input file missing or unreadable'],
  [70, 'internal error (rerun with APNS_CERT_DEBUG=1 and report it)'],
];

/** commander argParser for whole numbers >= 0. */
export function wholeNumber(value: string): number {
  if (!/^\d{1,6}$/.test(value)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  return Number(value);
}

/** commander argParser for an ISO-8601 instant. */
export function isoInstant(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(`expected an ISO-8601 date such as 2027-01-31 or 2027-01-31T12:00:00Z, got "${value}"`);
  }
  return date;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
