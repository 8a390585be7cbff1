import { daysSinceExpiry } from '../core/expiry.js';

/** The few styles apns-cert uses; chalk provides them when colors are on. */
export interface Style {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  magenta(text: string): string;
  bold(text: string): string;
}

const same = (text: string) => text;
export const plainStyle: Style = { green: same, red: same, yellow: same, magenta: same, bold: same };

/** chalk, loaded only when colors are on (never on the cron path). */
export async function colorStyle(): Promise<Style> {
  const { Chalk } = await import('chalk');
  return new Chalk({ level: 1 });
}

export const JSON_SCHEMA_VERSION = 1;

export interface Sink {
  write(text: string): unknown;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  style: Style;
  stdout: Sink;
  stderr: Sink;
}

/** stdout carries data; stderr carries messages. `-q` silences messages, never data or errors. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly style: Style;
  private readonly stdout: Sink;
  private readonly stderr: Sink;

  constructor(opts: OutputOptions) {
    this.json = opts.json;
    this.quiet = opts.quiet;
    this.style = opts.style;
    this.stdout = opts.stdout;
    this.stderr = opts.stderr;
  }

  /** A line of data on stdout. */
  data(line: string): void {
    this.stdout.write(`${line}\n`);
  }

  /** Text already formatted (ends with its own newline). */
  raw(text: string): void {
    this.stdout.write(text);
  }

  /** The JSON document of a command, with its schemaVersion. */
  document(body: object): void {
    this.stdout.write(`${JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, ...body }, null, 2)}\n`);
  }

  /** A message for the person at the terminal (stderr); silent under -q. */
  info(line: string): void {
    if (!this.quiet) this.stderr.write(`${line}\n`);
  }

  /** A warning (stderr); shown even under -q. */
  warn(line: string): void {
    this.stderr.write(`${this.style.yellow('warning:')} ${line}\n`);
  }

  /** An error line (stderr). */
  error(line: string): void {
    this.stderr.write(`${line}\n`);
  }
}

/** Colors only on a terminal, and never under NO_COLOR, --no-color or --json. */
export function useColor(opts: { isTTY: () => boolean; env: NodeJS.ProcessEnv; noColorFlag: boolean; json: boolean }): boolean {
  if (opts.noColorFlag || opts.json) return false;
  if (opts.env.NO_COLOR !== undefined && opts.env.NO_COLOR !== '') return false;
  if (opts.env.FORCE_COLOR !== undefined && opts.env.FORCE_COLOR !== '0') return true;
  return opts.isTTY();
}

export function isoDate(date: Date | string): string {
  return (typeof date === 'string' ? new Date(date) : date).toISOString();
}

/** "2026-12-01" for human text. */
export function shortDate(date: Date | string): string {
  return isoDate(date).slice(0, 10);
}

/** "15 days left", "expired 15 days ago": whole days, rounded down either way (`days` as daysRemaining gives it). */
export function daysText(days: number): string {
  if (days >= 0) return `${days} day${days === 1 ? '' : 's'} left`;
  const ago = daysSinceExpiry(days);
  return ago === 0 ? 'expired less than a day ago' : `expired ${ago} day${ago === 1 ? '' : 's'} ago`;
}
