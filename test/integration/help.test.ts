import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

const COMMANDS = [
  'csr',
  'import',
  'renew',
  'retire',
  'export',
  'vendor-sign',
  'inspect',
  'hash',
  'verify',
  'check-expiry',
  'list',
  'show',
  'log',
  'doctor',
  'probe',
];

describe('--help', () => {
  it('lists every command', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(r.stdout).toContain('EXIT CODES');
  });
  it.each(COMMANDS)('%s documents its exit codes and examples', async (command) => {
    const r = await runInProcess([command, '--help']);
    expect(r.code).toBe(0);
    const exitCodes = r.stdout.split('EXIT CODES')[1]?.split('EXAMPLES')[0] ?? '';
    expect(exitCodes).toMatch(/^ {2}0 /m);
    expect(exitCodes.trim().split('\n').length).toBeGreaterThanOrEqual(2);
    const examples = r.stdout.split('EXAMPLES')[1] ?? '';
    expect(examples).toMatch(new RegExp(`apns-cert .*${command}`));
  });
  it('without a command: the help on stderr and exit 64', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('Usage: apns-cert');
    expect(r.stdout).toBe('');
  });
  it('prints the version from package.json', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});
