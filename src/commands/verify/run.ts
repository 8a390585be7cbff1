import { AppError } from '../../errors.js';
import type { Runner, Deps } from '../kit.js';
import { asOf } from '../shared/options.js';
import { requireRecord } from '../shared/require-record.js';
import { pendingPublicKeyId } from '../../core/index-model.js';
import { decodePrivateKeyFile } from '../../core/input.js';
import { checkChain } from '../../core/chain.js';
import { isPkcs12, isPushRequest } from '../../core/input.js';
import { decodeCertificates } from '../shared/read-certificates.js';

export interface VerifyOptions {
  file: string;
  topicHash: string | undefined;
  topic: string | undefined;
  name: string | undefined;
  key: string | undefined;
  appleChain: boolean;
  at: Date | undefined;
  passwordFile: string | undefined;
  caFile: string | undefined;
}

export interface Check {
  check: 'topic-hash' | 'topic' | 'store-topic' | 'key-match' | 'apple-chain';
  ok: boolean;
  expected: string | null;
  actual: string | null;
}

export const verify: Runner<VerifyOptions> = {
  async run(options: VerifyOptions, deps: Deps) {
    if (options.topicHash !== undefined && !/^[0-9a-f]{64}$/.test(options.topicHash.toLowerCase())) {
      throw new AppError('USAGE', `verify: --topic-hash "${options.topicHash}" is not 64 hex digits`, {
        hint: `apns-cert hash ${options.file}`,
      });
    }
    // a request or a certificate: told by the content (a request needs no expectation)
    const bytes = await deps.readInput(options.file);
    if (!isPkcs12(bytes) && isPushRequest(bytes)) return verifyRequest(bytes, options, deps);
    if (options.caFile !== undefined) {
      throw new AppError(
        'USAGE',
        `verify: --ca-file applies to a push certificate request, and ${options.file} is not one`,
        {
          hint: `apns-cert verify ${options.file} --apple-chain`,
        },
      );
    }
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
    const decoded = await decodeCertificates(bytes, options.file, deps, { passwordFile: options.passwordFile });
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

/**
 * A PushCertificateRequest, checked for an upload to Apple's portal (SHA-1 fails); with --name, the CSR must carry
 * that record's pending key (compared by key id: the key itself stays sealed).
 */
async function verifyRequest(bytes: Buffer, options: VerifyOptions, deps: Deps): Promise<number> {
  const { checkJson, printRequestChecks, runRequestChecks } = await import('../shared/request-checks.js');
  const certificateOnly = [
    ['--topic-hash', options.topicHash],
    ['--topic', options.topic],
    ['--key', options.key],
    ['--apple-chain', options.appleChain ? true : undefined],
  ].filter(([, v]) => v !== undefined);
  if (certificateOnly.length > 0) {
    throw new AppError(
      'USAGE',
      `verify: ${certificateOnly.map(([flag]) => flag).join(', ')} applies to a certificate, and ${options.file} is a push certificate request`,
      { hint: `apns-cert verify ${options.file}` },
    );
  }
  let pendingKeyId: string | undefined;
  if (options.name !== undefined) {
    const index = await deps.store.readOrFail();
    const record = requireRecord(index, options.name, 'verify', deps.store.location);
    if (record.pendingKey === null) {
      throw new AppError(
        'BAD_INPUT',
        `verify ${options.name}: the record has no pending key, so no request can be for it (a request is checked against the key of the last csr or renew)`,
        { hint: `apns-cert show ${options.name}` },
      );
    }
    pendingKeyId = pendingPublicKeyId(record.pendingKey);
  }
  const result = await runRequestChecks(
    bytes,
    options.file,
    {
      at: asOf(options.at, deps.now),
      purpose: 'upload',
      caFile: options.caFile,
      ...(pendingKeyId === undefined ? {} : { pendingKeyId }),
    },
    deps,
  );
  if (deps.out.json) deps.out.document({ file: options.file, ok: result.ok, checks: result.checks.map(checkJson) });
  else printRequestChecks(result.checks, deps.out);
  return result.ok ? 0 : 1;
}
