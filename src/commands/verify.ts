import type { Command } from 'commander';
import { AppError } from '../errors.js';
import { recordNamed } from '../core/index-model.js';
import { COMMON_ERRORS, isoInstant, recordName, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';

export interface VerifyOptions {
  file: string;
  topicHash: string | undefined;
  topic: string | undefined;
  name: string | undefined;
  key: string | undefined;
  appleChain: boolean;
  at: Date | undefined;
}

export interface Check {
  check: 'topic-hash' | 'topic' | 'store-topic' | 'key-match' | 'apple-chain';
  ok: boolean;
  expected: string | null;
  actual: string | null;
}

export const verify: CommandModule<VerifyOptions> = {
  name: 'verify',
  define(program) {
    const command = program
      .command('verify')
      .summary('check a certificate against expectations (for CI)')
      .description(
        'Check every expectation given: the topic hash, the topic, the same topic as a store record, a private key that matches. Exit 0 when all hold, 1 when any fails.',
      )
      .argument('<file>', 'certificate (PEM or DER, "-" for stdin)')
      .option('--topic-hash <hex>', 'expected topic hash (64 lowercase hex digits)')
      .option('--topic <topic>', 'expected topic')
      .option('--name <name>', 'expect the topic recorded for this store record', recordName)
      .option('--key <file>', 'expect this private key (PEM) to match the certificate')
      .option('--apple-chain', 'expect a valid chain to an Apple root (bundled Apple CAs)', false)
      .option('--at <iso-date>', 'check the chain as of this instant (default: now)', isoInstant);
    return withHelp(command, {
      exitCodes: [[0, 'every check holds'], [1, 'a check failed (each failure is named on stderr)'], ...COMMON_ERRORS],
      examples: [
        'apns-cert verify push.pem --topic-hash "$PINNED_TOPIC_HASH"',
        'apns-cert verify push.pem --name acme-prod --key push.key',
        'apns-cert verify push.pem --apple-chain',
        'apns-cert verify --json push.pem --topic com.apple.mgmt.External.51423b26-0538-4293-a457-59906d6963bc',
      ],
    });
  },
  options(command: Command) {
    const o = command.opts<{
      topicHash?: string;
      topic?: string;
      name?: string;
      key?: string;
      appleChain: boolean;
      at?: Date;
    }>();
    return {
      file: command.args[0]!,
      topicHash: o.topicHash,
      topic: o.topic,
      name: o.name,
      key: o.key,
      appleChain: o.appleChain,
      at: o.at,
    };
  },
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
    const { readCertificates } = await import('./shared/read-certificates.js');
    const { decodePrivateKeyFile } = await import('../core/input.js');
    const decoded = await readCertificates(options.file, deps);
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
      const record = recordNamed(index, options.name);
      if (record === undefined)
        throw new AppError('NOT_FOUND', `verify: no record "${options.name}" in the store ${deps.store.location}`, {
          hint: 'apns-cert list',
        });
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
      const { checkChain } = await import('../core/chain.js');
      const verdict = checkChain(cert, options.at ?? deps.now());
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
