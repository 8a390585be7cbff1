import { AppError } from '../../errors.js';
import type { Runner, Deps } from '../kit.js';
import { asOf } from '../shared/options.js';
import { requireRecord } from '../shared/require-record.js';
import { readCertificates } from '../shared/read-certificates.js';
import { decodePrivateKeyFile } from '../../core/input.js';
import { checkChain } from '../../core/chain.js';

export interface VerifyOptions {
  file: string;
  topicHash: string | undefined;
  topic: string | undefined;
  name: string | undefined;
  key: string | undefined;
  appleChain: boolean;
  at: Date | undefined;
  passwordFile: string | undefined;
}

export interface Check {
  check: 'topic-hash' | 'topic' | 'store-topic' | 'key-match' | 'apple-chain';
  ok: boolean;
  expected: string | null;
  actual: string | null;
}

export const verify: Runner<VerifyOptions> = {
  async run(options: VerifyOptions, deps: Deps) {
    if (
      [options.topicHash, options.topic, options.name, options.key].every((v) => v === undefined) &&
      !options.appleChain
    ) {
      throw new AppError(
        'USAGE',
        'verify: nothing to check; give --topic-hash, --topic, --name, --key or --apple-chain',
        { hint: `apns-cert verify ${options.file} --topic-hash <hex>` },
      );
    }
    if (options.topicHash !== undefined && !/^[0-9a-f]{64}$/.test(options.topicHash.toLowerCase())) {
      throw new AppError('USAGE', `verify: --topic-hash "${options.topicHash}" is not 64 hex digits`, {
        hint: `apns-cert hash ${options.file}`,
      });
    }
    const decoded = await readCertificates(options.file, deps, { passwordFile: options.passwordFile });
    const cert = decoded.certificates.find((c) => c.topic !== null) ?? decoded.certificates[0]!;
    const checks: Check[] = [];
    if (options.topicHash !== undefined) {
      const expected = options.topicHash.toLowerCase();
      checks.push({ check: 'topic-hash', ok: cert.topicHash === expected, expected, actual: cert.topicHash });
    }
    if (options.topic !== undefined) {
      checks.push({ check: 'topic', ok: cert.topic === options.topic, expected: options.topic, actual: cert.topic });
    }
    if (options.name !== undefined) {
      const index = await deps.store.readOrFail();
      const record = requireRecord(index, options.name, 'verify', deps.store.location);
      checks.push({
        check: 'store-topic',
        ok: record.topic !== null && cert.topic === record.topic,
        expected: record.topic,
        actual: cert.topic,
      });
    }
    if (options.key !== undefined) {
      const key = decodePrivateKeyFile(await deps.readInput(options.key), options.key);
      checks.push({
        check: 'key-match',
        ok: key.keyId === cert.publicKeyId,
        expected: cert.publicKeyId,
        actual: key.keyId,
      });
    }
    if (options.appleChain) {
      const verdict = checkChain(cert, asOf(options.at, deps.now));
      const actual = verdict.valid ? `${verdict.path.join(' -> ')}` : (verdict.problem ?? 'invalid');
      checks.push({ check: 'apple-chain', ok: verdict.valid, expected: `valid at ${verdict.checkedAt}`, actual });
    }
    const ok = checks.every((c) => c.ok);
    if (deps.out.json) deps.out.document({ file: options.file, ok, checks });
    else {
      const s = deps.out.style;
      for (const c of checks) {
        if (c.ok) deps.out.info(`${s.green('ok')}    ${c.check}: ${c.actual}`);
        else
          deps.out.error(
            `${s.red('FAIL')}  ${c.check}: expected ${c.expected ?? '(none recorded)'}, got ${c.actual ?? '(none)'}`,
          );
      }
    }
    return ok ? 0 : 1;
  },
};
