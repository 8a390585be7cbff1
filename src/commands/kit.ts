import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { nameProblem } from '../core/names.js';
import type { Output } from '../output/output.js';
import type { Store } from '../store/store.js';

/** What a command needs from the outside world; tests pass fakes. */
export interface Deps {
  /** The store and its secrets; a new one gets the backend chosen in src/cli/deps.ts. */
  store: Store;
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
  input(
    message: string,
    opts?: { default?: string; validate?: (value: string) => Promise<true | string> },
  ): Promise<string>;
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

/** A date (UTC midnight), or a date and time with Z or an offset: 2027-01-31, 2027-01-31T12:00Z, 2027-01-31T12:00:00.5+02:00. */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

const isLeapYear = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const daysInMonth = (y: number, m: number) =>
  m === 2 ? (isLeapYear(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;

/**
 * commander argParser for an ISO-8601 instant. Strict: every field is checked against the calendar, where
 * `new Date()` would roll 2027-02-30 over to March 2 and ignore what follows a date it can read.
 */
export function isoInstant(value: string): Date {
  const refuse = (why: string) =>
    new InvalidArgumentError(
      `${why}; expected an ISO-8601 date such as 2027-01-31, or a date and time with Z or an offset such as 2027-01-31T12:00:00Z`,
    );
  const m = ISO_INSTANT.exec(value);
  if (m === null) throw refuse('not an ISO-8601 date');
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zone = m[8];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month))
    throw refuse(`${m[1]}-${m[2]} has no day ${m[3]}`);
  if (hour > 23 || minute > 59 || second > 59) throw refuse('the time of day is out of range');
  if (m[4] !== undefined && zone === undefined) throw refuse('a time needs Z or an offset (+02:00)');
  const offsetHours = zone === undefined || zone === 'Z' ? 0 : Number(zone.slice(1, 3));
  const offsetMinutes = zone === undefined || zone === 'Z' ? 0 : Number(zone.slice(4, 6));
  if (offsetHours > 23 || offsetMinutes > 59) throw refuse('the offset is out of range');
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, m[7] === undefined ? 0 : Math.floor(Number(m[7]) * 1000));
  const sign = zone?.startsWith('-') ? -1 : 1;
  return new Date(date.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
}

/** commander argParser for a record name (the rule of src/core/names.ts). */
export function recordName(value: string): string {
  const problem = nameProblem(value);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return value;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
