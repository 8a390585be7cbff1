/**
 * Options that several commands share, each defined once with its parser and its validation, so that
 * `--at`, `--password-file`, the thresholds and `--name` read and behave the same in every command.
 */
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { AppError } from '../../errors.js';
import type { Thresholds } from '../../core/expiry.js';
import { nameProblem } from '../../core/names.js';
import { CUSTODY_LIMITS, custodyTextProblem } from '../../core/index-model.js';

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

/** `--at`: everything the command prints (days left, expired or not, the chain check) is as of this instant. */
export const atOption = () =>
  new Option(
    '--at <iso-date>',
    'as of this instant instead of now: days left, expired or not, the chain check',
  ).argParser(isoInstant);

/** The instant a command works as of: --at, else now. */
export const asOf = (at: Date | undefined, now: () => Date): Date => at ?? now();

/** `--password-file` of a command that reads a .p12 (read through readCertificates). */
export const passwordFileOption = () =>
  new Option(
    '--password-file <file>',
    'password of a .p12 (else $APNS_CERT_P12_PASSWORD, else the empty password, else a prompt on a terminal)',
  );

/** `--name <name>`, one record (validated as a record name). */
export const nameOption = (description: string) => new Option('--name <name>', description).argParser(recordName);

/** `--name <name>`, repeatable. */
export const namesOption = (description: string) =>
  new Option('--name <name>', description)
    .argParser((value: string, previous: string[] = []) => [...previous, recordName(value)])
    .default([]);

/** `--warn-days` and `--critical-days` (whole numbers), with what each level is called by the command. */
export function addThresholdOptions(command: Command, words: { warn: string; critical: string }): Command {
  return command
    .option('--warn-days <days>', `${words.warn} below this many days left`, wholeNumber, 30)
    .option('--critical-days <days>', `${words.critical} below this many days left`, wholeNumber, 7);
}

/** The thresholds of `addThresholdOptions`, for every command the same rule: --critical-days not above --warn-days. */
export function thresholds(command: Command): Thresholds {
  const t = command.opts<Thresholds>();
  if (t.criticalDays > t.warnDays) {
    throw new AppError(
      'USAGE',
      `read thresholds: --critical-days (${t.criticalDays}) is larger than --warn-days (${t.warnDays})`,
      { hint: `apns-cert ${command.name()} --warn-days 30 --critical-days 7` },
    );
  }
  return { warnDays: t.warnDays, criticalDays: t.criticalDays };
}

/** `--ca-file <pem>`: CA certificates trusted besides Apple's bundled ones (a test vendor's root, a new Apple root). */
export const caFileOption = () =>
  new Option(
    '--ca-file <pem>',
    "CA certificates (PEM) to trust besides the bundled Apple CAs, for a request's chain: a test vendor's root, a new Apple root",
  );

/** commander argParser for --owner / --note: one line of printable text within its limit; empty (clear it) allowed. */
const custodyText = (what: keyof typeof CUSTODY_LIMITS) => (value: string) => {
  const problem = custodyTextProblem(value.trim(), what);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return value.trim();
};

/**
 * `--owner`, `--note` and `--remember-apple-id` of csr, import and renew: who owns the certificate and a note
 * (plain text in the index), and the Apple ID kept sealed under the master key (src/commands/shared/custody.ts).
 */
export function addCustodyOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--owner <text>',
        `who owns this certificate, e.g. a team mailbox (one line, at most ${CUSTODY_LIMITS.owner} characters; "" clears it)`,
      ).argParser(custodyText('owner')),
    )
    .addOption(
      new Option(
        '--note <text>',
        `a note, e.g. what the portal's Notes field says (one line, at most ${CUSTODY_LIMITS.note} characters; "" clears it)`,
      ).argParser(custodyText('note')),
    )
    .option(
      '--remember-apple-id',
      'keep the Apple ID itself, sealed under the master key, for the next renewal (show --reveal-apple-id)',
      false,
    );
}

/** The help notes of the custody options (csr, import, renew). */
export const CUSTODY_NOTES = [
  'Custody: --owner and --note are plain text in the index (list --json, show, check-expiry and its webhook show them);',
  '--remember-apple-id (with --apple-id) keeps the Apple ID itself sealed under the master key, beside its salted hash:',
  '`apns-cert show <name> --reveal-apple-id` prints it, the renew wizard offers it. A new one replaces the old.',
];
