import type { Command } from 'commander';
import type { Output } from '../output/output.js';
import type { Store } from '../store/store.js';

/** What a command needs from the outside world; tests pass fakes. */
export interface Deps {
  /** The store and its secrets; a new one gets the backend chosen in src/cli/deps.ts. */
  store: Store;
  /** Another store, at a directory or PostgreSQL URL as --store names one (store copy); the caller closes it. */
  openStore: (location: string) => Promise<Store>;
  now: () => Date;
  out: Output;
  readInput: (path: string) => Promise<Buffer>;
  /** A person at a terminal can answer prompts. */
  interactive: boolean;
  /** Questions for that person (stderr); only used when `interactive`. Ctrl-C throws CANCELLED (130). */
  prompter: Prompter;
  /** What the environment says, read once (src/cli/deps.ts); commands never read the environment. */
  settings: Settings;
  /** What the running command tells the audit log (commands that change the store: CommandDefinition.changesStore). */
  audit: AuditNotes;
}

/** What a command adds to its audit log entry beyond what main.ts knows: the record it chose, the certificate. */
export interface AuditNote {
  record?: string | undefined;
  serialNumber?: string | undefined;
  topic?: string | undefined;
  /** The store the entry goes to when it is not --store's (store copy: the destination), as --store names one. */
  store?: string | undefined;
}

export interface AuditNotes {
  /** Adds to (and overrides) what was noted before; main.ts writes the entry when the command ends. */
  note(fields: AuditNote): void;
}

/** The settings commands take from the environment. */
export interface Settings {
  /** $APNS_CERT_P12_PASSWORD: a .p12's password (may be empty: an empty password is a password). */
  p12Password: string | undefined;
  /** $APNS_CERT_PROBE_TIMEOUT_MS */
  probeTimeoutMs: number;
  /** $APNS_CERT_NOTIFY_URL (empty: none) */
  notifyUrl: string | undefined;
  /** $APNS_CERT_NOTIFY_TIMEOUT_MS */
  notifyTimeoutMs: number;
  /** $APNS_CERT_MDMCERT_API_KEY (empty: not set): the admin's mdmcert.download API key. */
  mdmcertApiKey: string | undefined;
  /** $APNS_CERT_MDMCERT_URL (empty: the service's own). */
  mdmcertUrl: string | undefined;
  /** $APNS_CERT_MDMCERT_TIMEOUT_MS: how long the sign request may take (default 10 s). */
  mdmcertTimeoutMs: number;
  /** $APNS_CERT_DEPLOY_TIMEOUT_MS: how long one request to an MDM server may take (default 10 s). */
  deployTimeoutMs: number;
  /** $APNS_CERT_AFTER_TIMEOUT_MS: how long a file target's --after command may run (default 60 s). */
  afterTimeoutMs: number;
  /** The environment of a command apns-cert runs (deploy's --after): ours, without apns-cert's secrets. */
  childEnvironment: Readonly<Record<string, string>>;
}

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
}

export interface Prompter {
  select<T>(message: string, choices: Array<Choice<T>>): Promise<T>;
  /** `validate` returns true, or the message to show before asking again. */
  input(
    message: string,
    opts?: { default?: string; validate?: (value: string) => Promise<true | string> },
  ): Promise<string>;
  confirm(message: string, defaultValue: boolean): Promise<boolean>;
  /** Hidden input; may be empty. */
  password(message: string): Promise<string>;
}

/** Every exit code a command can end with, and what it means: the command's help lists exactly these. */
export type ExitCodes = ReadonlyArray<readonly [number, string]>;

/**
 * What is known of a command before it runs: its word, options, help and exit codes. Static and small:
 * main.ts defines the running command (every command for help, mistakes and completion) from these, and
 * loads only the running command's `Runner` (`load`, one import()).
 */
export interface CommandDefinition<O> {
  /** The command word, as `define` registers it. */
  readonly name: string;
  /** The subcommand word of a group (`vendor import`), as `define` registers it under `name`. */
  readonly subcommand?: string;
  /** Every exit code of the command; its help's EXIT CODES table is made from this list. */
  readonly exitCodes: ExitCodes;
  readonly examples: readonly string[];
  readonly notes?: readonly string[];
  /** Adds the command and its options to the program (main.ts adds the help footer). */
  define(program: Command): Command;
  /** Typed, validated options from commander's parse (a bad value throws a usage error). */
  options(command: Command): O;
  /** The module that does the work. */
  load(): Promise<Runner<O>>;
  /** Reads the whole program (completion): every command must be defined. */
  needsAllCommands?: boolean;
  /**
   * The command changes the store (always, or for these options): main.ts appends an audit log entry when it
   * ends, whatever its exit code. The record is the options' `name` unless the command notes another.
   */
  changesStore?(options: O): boolean;
  /** Exit code for any error (check-expiry: 3, Nagios UNKNOWN); default: the error's own. */
  errorExitCode?: number;
}

/** The work of a command (src/commands/<command>/run.ts). */
export interface Runner<O> {
  /** Does the work and prints; returns the exit code. */
  run(options: O, deps: Deps): Promise<number>;
}

export interface HelpSpec {
  exitCodes: ExitCodes;
  examples: readonly string[];
  notes?: readonly string[] | undefined;
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
export const COMMON_ERRORS: ExitCodes = [
  [64, 'usage error (bad option, unknown name)'],
  [65, 'bad input data, or a damaged store index'],
  [66, 'input file missing or unreadable'],
  [70, 'internal error (rerun with APNS_CERT_DEBUG=1 and report it)'],
];

/** For a command that reads a .p12. */
export const WRONG_P12_PASSWORD = [77, 'wrong .p12 password'] as const;

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
