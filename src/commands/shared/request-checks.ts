/**
 * The request checks of a command (verify, inspect, mdmcert-decrypt): `--ca-file` read, checkPushRequest run,
 * each check printed on stderr (failures named), and the JSON form of the checks.
 */
import { decodeCertificateFile } from '../../core/input.js';
import { checkPushRequest } from '../../core/request-checks.js';
import type { RequestCheck, RequestCheckOptions, RequestCheckResult } from '../../core/request-checks.js';
import type { Output } from '../../output/output.js';
import type { Deps } from '../kit.js';

/** The DER of each certificate in the --ca-file file (none without the option). */
export async function readCaFile(path: string | undefined, deps: Deps): Promise<Uint8Array[]> {
  if (path === undefined) return [];
  return decodeCertificateFile(await deps.readInput(path), path).certificates.map((c) => c.der);
}

/** Reads --ca-file and runs every request check on `bytes`. */
export async function runRequestChecks(
  bytes: Uint8Array,
  file: string,
  options: Omit<RequestCheckOptions, 'extraRoots' | 'source'> & { caFile: string | undefined },
  deps: Deps,
): Promise<RequestCheckResult> {
  const { caFile, ...rest } = options;
  return checkPushRequest(bytes, { ...rest, extraRoots: await readCaFile(caFile, deps), source: file });
}

/** A check as --json shows it: `{ check, ok, expected, actual }`, and `warning` (text) when it holds with one. */
export function checkJson(c: RequestCheck) {
  return {
    check: c.check,
    ok: c.ok,
    expected: c.expected,
    actual: c.actual,
    ...(c.warning === undefined ? {} : { warning: c.warning }),
  };
}

/** Each check on stderr: "ok", "warn" (with what it warns of) or "FAIL" (expected, got). */
export function printRequestChecks(checks: RequestCheck[], out: Output): void {
  const s = out.style;
  for (const c of checks) {
    if (c.severity === 'fail') out.error(`${s.red('FAIL')}  ${c.check}: expected ${c.expected}, got ${c.actual}`);
    else if (c.severity === 'warn') out.error(`${s.yellow('warn')}  ${c.check}: ${c.actual} (${c.warning})`);
    else out.info(`${s.green('ok')}    ${c.check}: ${c.actual}`);
  }
}
