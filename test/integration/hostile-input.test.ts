/**
 * Hostile inputs through the built CLI: each answers with its one-line refusal long before a generous kill timer
 * (the failure mode of a quadratic parser or an unbounded read is to hang, not to be a little slow).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, REAL, cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const KILL_MS = 15_000; // the old PEM regex took ~17 s on 1 MiB of BEGIN lines here, the linear reader ~0.3 s
const fill = (unit: string | Buffer, bytes: number) => {
  const u = Buffer.from(unit);
  return Buffer.concat(Array.from({ length: Math.ceil(bytes / u.length) }, () => u)).subarray(0, bytes);
};

/** `inspect -` fed `input` through a pipe that the CLI may close early (it stops reading past the cap). */
function inspectStdin(input: Buffer): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'inspect', '-'], { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {}); // EPIPE: the CLI has stopped reading, as it should
    const timer = setTimeout(() => child.kill('SIGKILL'), KILL_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('hostile inputs', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    // just under the size cap, so that the PEM reader has to read them
    writeFileSync(join(dir, 'begin-lines.pem'), fill('-----BEGIN CERTIFICATE-----\n', MiB - 100));
    writeFileSync(join(dir, 'begin-dense.pem'), fill('-----BEGIN A', MiB - 100));
    writeFileSync(join(dir, 'at-cap.pem'), fill('-----BEGIN CERTIFICATE-----\n', MiB));
    writeFileSync(join(dir, 'over-cap.pem'), fill('-----BEGIN CERTIFICATE-----\n', MiB + 1));
    writeFileSync(join(dir, 'two-mib.pem'), fill('-----BEGIN CERTIFICATE-----\n', 2 * MiB));
    // a real certificate followed by padding: a valid file made too large
    const cert = readFileSync(join(REAL, 'mdm-push_abacus_APSP-51423b26_2020.pem'));
    writeFileSync(join(dir, 'padded-cert.pem'), Buffer.concat([cert, fill('\n', 2 * MiB)]));
    writeFileSync(
      join(dir, 'big.der'),
      Buffer.concat([Buffer.from([0x30, 0x84, 0x00, 0x20, 0x00, 0x00]), fill('\0', 2 * MiB)]),
    );
    writeFileSync(
      join(dir, 'big.p12'),
      Buffer.concat([Buffer.from([0x30, 0x84, 0x00, 0x20, 0x00, 0x00, 0x02, 0x01, 0x03]), fill('\0', 2 * MiB)]),
    );
    writeFileSync(
      join(dir, 'big.req'),
      fill(readFileSync(join(REAL, 'push-cert-request_abacus_2018.plist.b64')), 2 * MiB),
    );
  });

  it.each(['begin-lines.pem', 'begin-dense.pem', 'at-cap.pem'])(
    'inspect and check-expiry read %s (BEGIN markers without END) and answer "no certificate"',
    async (name) => {
      const file = join(dir, name);
      const inspect = await runCli(['inspect', file], { timeoutMs: KILL_MS });
      expect(inspect.code, inspect.stderr).toBe(65);
      expect(inspect.stderr).toMatch(/^apns-cert: read .*: no certificate in this PEM file\n/);
      const check = await runCli(['check-expiry', file], { timeoutMs: KILL_MS });
      expect(check.code, check.stderr).toBe(3);
      expect(check.stdout + check.stderr).toMatch(/no certificate in this PEM file/);
    },
  );

  it.each(['over-cap.pem', 'two-mib.pem', 'padded-cert.pem', 'big.der', 'big.p12', 'big.req'])(
    'refuses %s, larger than the 1 MiB cap, before parsing it (65)',
    async (name) => {
      const file = join(dir, name);
      const r = await runCli(['inspect', file], { timeoutMs: KILL_MS });
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toMatch(
        /^apns-cert: read .*: larger than 1 MiB; no certificate, key, \.p12 or push certificate request is that large\nhint: ls -l /,
      );
      expect(hasStackTrace(r.stderr)).toBe(false);
      const check = await runCli(['check-expiry', file], { timeoutMs: KILL_MS });
      expect(check.code).toBe(3);
      expect(check.stdout + check.stderr).toMatch(/larger than 1 MiB/);
    },
  );

  it('reads no more than the cap from an endless file or from stdin', async () => {
    const zero = await runCli(['inspect', '/dev/zero'], { timeoutMs: KILL_MS });
    expect(zero.code, zero.stderr).toBe(65);
    expect(zero.stderr).toMatch(/read \/dev\/zero: larger than 1 MiB/);
    const stdin = await inspectStdin(fill('-----BEGIN CERTIFICATE-----\n', 8 * MiB));
    expect(stdin.code, stdin.stderr).toBe(65);
    expect(stdin.stderr).toMatch(/read the standard input: larger than 1 MiB/);
    const key = await runCli(['verify', join(REAL, 'mdm-push_abacus_APSP-51423b26_2020.pem'), '--key', '/dev/zero'], {
      timeoutMs: KILL_MS,
    });
    expect(key.code, key.stderr).toBe(65);
    expect(key.stderr).toMatch(/read \/dev\/zero: larger than 1 MiB/);
  });
});
