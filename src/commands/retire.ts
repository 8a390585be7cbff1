import type { Command } from 'commander';
import { AppError } from '../errors.js';
import { recordNamed } from '../core/index-model.js';
import { PORTAL_URL } from './shared/portal.js';
import { COMMON_ERRORS, recordName, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';

export interface RetireOptions {
  name: string;
  yes: boolean;
  purge: boolean;
}

export const retire: CommandModule<RetireOptions> = {
  name: 'retire',
  define(program) {
    const command = program
      .command('retire')
      .summary('retire a push identity: delete its keys, keep its history')
      .description(
        "For a certificate revoked in the portal or replaced by a new topic: deletes the record's encrypted private keys and marks it retired (kept in `list` and `show`, out of check-expiry and renew). --purge removes the record and its certificates entirely.",
      )
      .argument('<name>', 'record to retire', recordName)
      .option('--yes', 'do not ask for confirmation (required without a terminal)', false)
      .option('--purge', 'remove the record entirely instead of keeping it as retired', false);
    return withHelp(command, {
      exitCodes: [
        [0, 'retired (or purged)'],
        ...COMMON_ERRORS,
        [73, 'cannot write to the store'],
        [75, 'another apns-cert process is changing the store'],
        [130, 'cancelled at the confirmation'],
      ],
      examples: ['apns-cert retire acme-old', 'apns-cert retire acme-old --yes --purge'],
    });
  },
  options(command: Command) {
    const o = command.opts<{ yes: boolean; purge: boolean }>();
    return { name: command.processedArgs[0] as string, yes: o.yes, purge: o.purge };
  },
  async run(options: RetireOptions, deps: Deps) {
    const name = options.name;
    const current = recordNamed(await deps.store.readOrFail(), name);
    if (current === undefined)
      throw new AppError('NOT_FOUND', `retire ${name}: no record "${name}" in the store ${deps.store.location}`, {
        hint: 'apns-cert list',
      });
    if (!options.yes) {
      if (!deps.interactive || deps.out.json) {
        throw new AppError('USAGE', `retire ${name}: confirmation needed and there is no terminal to ask; pass --yes`, {
          hint: `apns-cert retire ${name} --yes`,
        });
      }
      const what = options.purge
        ? 'remove it and its certificates from the store'
        : 'delete its private keys and mark it retired';
      if (
        !(await deps.prompter.confirm(
          `Retire "${name}" (topic ${current.topic ?? 'none'}): ${what}? Its MDM devices will no longer be reachable with it.`,
          false,
        ))
      ) {
        throw new AppError('CANCELLED', `retire ${name}: cancelled, nothing was changed`);
      }
    }

    const removed = await deps.store.change(async (tx) => {
      const index = tx.index;
      const record = recordNamed(index, name);
      if (record === undefined)
        throw new AppError('NOT_FOUND', `retire ${name}: the record disappeared meanwhile`, { hint: 'apns-cert list' });
      const keyIds = new Set([
        ...record.certificates.map((c) => c.keyId),
        ...(record.pendingKey ? [record.pendingKey.keyId] : []),
      ]);
      const certificates = options.purge ? record.certificates : [];
      if (options.purge) {
        delete index.records[name];
      } else {
        record.retiredAt = deps.now().toISOString();
        record.updatedAt = record.retiredAt;
        record.pendingKey = null;
      }
      // The index first: a crash after it leaves orphan files, never a record pointing at deleted keys.
      await tx.commit(index);
      for (const keyId of keyIds) await tx.removePrivateKey(keyId);
      for (const certificate of certificates) await tx.removeCertificate(certificate);
      return keyIds.size + certificates.length;
    });

    if (deps.out.json) deps.out.document({ name, retired: true, purged: options.purge, filesRemoved: removed });
    else {
      deps.out.data(`${options.purge ? 'Purged' : 'Retired'} ${name}.`);
      deps.out.info(
        `If not done yet, revoke its certificate in Apple's portal (${PORTAL_URL}, the row whose topic is ${current.topic ?? '-'}).`,
      );
    }
    return 0;
  },
};
