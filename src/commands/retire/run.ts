import { AppError } from '../../errors.js';
import {
  certificateInService,
  certificateKeyIds,
  pendingKeyIds,
  recordNamed,
  recordSecrets,
} from '../../core/index-model.js';
import { PORTAL_URL } from '../shared/portal.js';
import type { Runner, Deps } from '../kit.js';
import { requireRecord } from '../shared/require-record.js';

export interface RetireOptions {
  name: string;
  yes: boolean;
  purge: boolean;
}

export const retire: Runner<RetireOptions> = {
  async run(options: RetireOptions, deps: Deps) {
    const name = options.name;
    const current = requireRecord(await deps.store.readOrFail(), name, `retire ${name}`, deps.store.location);
    const inService = certificateInService(current);
    deps.audit.note({ serialNumber: inService?.serialNumber, topic: current.topic ?? undefined });
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
      const keyIds = new Set([...certificateKeyIds(record), ...pendingKeyIds(record.pendingKey)]);
      const certificates = options.purge ? record.certificates : [];
      const secrets = options.purge ? recordSecrets(record).map((secret) => secret.id) : [];
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
      for (const id of secrets) await tx.removeSecret(id);
      return keyIds.size + certificates.length + secrets.length;
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
