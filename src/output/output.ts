import { daysSinceExpiry } from '../core/expiry.js';
import { unsafeTextPattern } from '../core/unsafe-text.js';

/**
 * The few styles apns-cert uses. With colors on they do not return terminal codes but marks that only this
 * process can write (a random token inside private-use characters): Output escapes the text first, so no
 * control character from input reaches the terminal, and then `finish` turns the marks into codes.
 */
export interface Style {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  magenta(text: string): string;
  bold(text: string): string;
  /** Escaped text with this style's marks turned into terminal codes. */
  finish(escaped: string): string;
}

const same = (text: string) => text;
export const plainStyle: Style = { green: same, red: same, yellow: same, magenta: same, bold: same, finish: same };

/** SGR codes (16 colors): each style's opening code and the one that ends it. */
const SGR = { green: [32, 39], red: [31, 39], yellow: [33, 39], magenta: [35, 39], bold: [1, 22] } as const;

/** Colors for a terminal; loaded only when colors are on (never on the cron path). */
export async function colorStyle(): Promise<Style> {
  const { randomBytes } = await import('node:crypto');
  const token = randomBytes(8).toString('hex');
  const mark = (code: number) => `\uE000${token}${code}\uE001`;
  const paint =
    ([open, close]: readonly [number, number]) =>
    (text: string) =>
      `${mark(open)}${text}${mark(close)}`;
  const marks = new RegExp(`\uE000${token}(\\d+)\uE001`, 'g');
  return {
    green: paint(SGR.green),
    red: paint(SGR.red),
    yellow: paint(SGR.yellow),
    magenta: paint(SGR.magenta),
    bold: paint(SGR.bold),
    finish: (escaped) => escaped.replace(marks, (_, code: string) => `\x1b[${code}m`),
  };
}

/** The code points that steer a terminal or change what it shows (src/core/unsafe-text.ts). */
const UNSAFE = unsafeTextPattern();
/** The same, but for text made of lines: newline and tab stay. */
const UNSAFE_IN_LINES = unsafeTextPattern('lines');
/** What JSON.stringify leaves as it is (it escapes C0 itself). */
const UNSAFE_IN_JSON = unsafeTextPattern('json');

const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, '0');
const visible = (c: string) => (c.charCodeAt(0) <= 0xff ? `\\x${hex(c)}` : `\\u{${hex(c)}}`);

/** One line as it may reach a terminal: every unsafe code point written as \xNN or \u{NNNN}. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** Text of several lines: the same, keeping newlines and tabs. */
export function escapeControlInLines(text: string): string {
  return text.replace(UNSAFE_IN_LINES, visible);
}

/** JSON text (2-space indent) in which no string carries a code point that steers a terminal: they become \uNNNN. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    UNSAFE_IN_JSON,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
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

/**
 * stdout carries data; stderr carries messages. `-q` silences messages, never data or errors.
 * Everything is escaped on the way out (escapeControl): a name, a file name, a subject or a server's answer
 * can hold control characters, and they are shown, never obeyed. --json output is JSON-escaped likewise.
 */
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

  /** One line as it may be shown: escaped, then styled. For prompts, which do not go through Output. */
  terminalText(line: string): string {
    return this.style.finish(escapeControl(line));
  }

  /** A line of data on stdout. */
  data(line: string): void {
    this.stdout.write(`${this.terminalText(line)}\n`);
  }

  /** Text already formatted in lines (ends with its own newline). */
  raw(text: string): void {
    this.stdout.write(this.style.finish(escapeControlInLines(text)));
  }

  /** Another program's output (deploy --after), as it comes, on stderr: escaped, never on stdout. */
  relayed(text: string): void {
    this.stderr.write(escapeControlInLines(text));
  }

  /** The JSON document of a command, with its schemaVersion. */
  document(body: object): void {
    this.stdout.write(`${jsonText({ schemaVersion: JSON_SCHEMA_VERSION, ...body })}\n`);
  }

  /** A message for the person at the terminal (stderr); silent under -q. */
  info(line: string): void {
    if (!this.quiet) this.stderr.write(`${this.terminalText(line)}\n`);
  }

  /** A warning (stderr); shown even under -q. */
  warn(line: string): void {
    this.stderr.write(`${this.terminalText(`${this.style.yellow('warning:')} ${line}`)}\n`);
  }

  /** An error line (stderr). */
  error(line: string): void {
    this.stderr.write(`${this.terminalText(line)}\n`);
  }
}

/** Colors only on a terminal, and never under NO_COLOR, --no-color or --json. */
export function useColor(opts: {
  isTTY: () => boolean;
  env: NodeJS.ProcessEnv;
  noColorFlag: boolean;
  json: boolean;
}): boolean {
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
