/** Usage errors, commander's own included: one line `apns-cert: ...`, a `hint:`, the right exit code. */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

const env = cleanEnv({ APNS_CERT_STORE: join(tempDir(), 'store'), APNS_CERT_PASSPHRASE: 'u' });

describe("commander's errors have a hint", () => {
  const cases: Array<[string, string[], number, RegExp, string]> = [
    ['csr without --name', ['csr'], 64, /required option '--name <name>' not specified/, 'apns-cert csr --help'],
    [
      'check-expiry --warn-days -1',
      ['check-expiry', '--warn-days', '-1'],
      3,
      /--warn-days <days>.*-1/,
      'apns-cert check-expiry --help',
    ],
    ['an unknown option', ['list', '--nope'], 64, /unknown option '--nope'/, 'apns-cert list --help'],
    ['an unknown command', ['frobnicate'], 64, /unknown command 'frobnicate'/, 'apns-cert --help'],
    [
      "a group's mistyped subcommand",
      ['vendor', 'lst'],
      64,
      /unknown command 'lst'\n\(Did you mean list\?\)/,
      'apns-cert vendor --help',
    ],
    [
      'a mistyped subcommand after a global option',
      ['--json', 'store', 'upgrad'],
      64,
      /unknown command 'upgrad'/,
      'apns-cert store --help',
    ],
    [
      "a group's subcommand's unknown option",
      ['vendor', 'list', '--nope'],
      64,
      /unknown option '--nope'/,
      'apns-cert vendor list --help',
    ],
    [
      'a bad --format choice',
      ['check-expiry', '--format', 'xml'],
      3,
      /Allowed choices are text, json, prometheus, nagios/,
      'apns-cert check-expiry --help',
    ],
  ];
  it.each(cases)('%s', async (_what, args, code, message, hint) => {
    const r = await runInProcess(args, { env });
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(/^apns-cert: /);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(`hint: ${hint}`);
  });
});

describe('numeric and date options are checked', () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    [
      'doctor --critical-days -5',
      ['doctor', '--offline', '--critical-days', '-5'],
      64,
      /--critical-days <days>.*-5.*whole number/,
    ],
    ['doctor --warn-days soon', ['doctor', '--offline', '--warn-days', 'soon'], 64, /--warn-days <days>.*whole number/],
    ['check-expiry --critical-days 1.5', ['check-expiry', '--critical-days', '1.5'], 3, /whole number/],
    [
      'check-expiry --at 2027-02-30 (no roll-over to March 2)',
      ['check-expiry', '--at', '2027-02-30'],
      3,
      /2027-02 has no day 30/,
    ],
    ['check-expiry --at 2027-06-01junk', ['check-expiry', '--at', '2027-06-01junk'], 3, /not an ISO-8601 date/],
    ['inspect --at 2027-13-01', ['inspect', '-', '--at', '2027-13-01'], 64, /has no day/],
    [
      'verify --at with a time but no zone',
      ['verify', '-', '--apple-chain', '--at', '2027-06-01T12:00'],
      64,
      /needs Z or an offset/,
    ],
  ];
  it.each(cases)('%s', async (_what, args, code, message) => {
    const r = await runInProcess(args, { env });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^hint: apns-cert \S+ --help$/m);
  });
});

describe('a stderr that cannot be written does not change the exit code', () => {
  /** Runs the CLI with stderr on /dev/full: every write to it fails with ENOSPC. */
  const withFullStderr = (args: string[]) =>
    new Promise<number | null>((resolve, reject) => {
      const full = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', full] });
      closeSync(full);
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  it.each([
    ['a missing input', ['inspect', '/nonexistent/cert.pem'], 66],
    ['a usage error', ['show', 'a b'], 64],
    ['a commander error', ['csr'], 64],
    ['check-expiry on a missing file (UNKNOWN)', ['check-expiry', '/nonexistent/cert.pem'], 3],
  ])('%s', async (_what, args, code) => {
    expect(await withFullStderr(args as string[])).toBe(code);
  });
});
