import { AppError } from '../../errors.js';
import { daysRemaining } from '../../core/expiry.js';
import { daysText, shortDate } from '../../output/output.js';
import type { Runner, Deps } from '../kit.js';
import { loadVendor } from '../shared/vendor-request.js';
import { findVendor, keepVendor } from '../shared/vendor-identity.js';
import { recordsMentioning } from '../../core/lazy-records.js';

export interface VendorImportOptions {
  cert: string;
  key: string;
  chain: string | undefined;
}

export interface VendorRemoveOptions {
  prefix: string;
  force: boolean;
}

export const vendorImport: Runner<VendorImportOptions> = {
  async run(options, deps: Deps) {
    const vendor = await loadVendor(
      { vendorCert: options.cert, vendorKey: options.key, chain: options.chain },
      deps,
      'vendor import',
    );
    deps.store.unlockEarly();
    const nowIso = deps.now().toISOString();
    const { entry, added } = await deps.store.change(async (tx) => {
      await tx.masterKey();
      const kept = await keepVendor(tx, vendor, nowIso);
      if (kept.added) await tx.commit(tx.index);
      return kept;
    });
    if (deps.out.json) {
      deps.out.document({ sha256: entry.sha256, subject: entry.subject, notAfter: entry.notAfter, added });
      return 0;
    }
    deps.out.data(entry.sha256);
    deps.out.info(
      added
        ? `Kept the vendor identity "${entry.subject}" (expires ${shortDate(entry.notAfter)}) in ${deps.store.location}; its key is sealed.`
        : `The vendor identity "${entry.subject}" is already in the store (imported ${entry.importedAt}): nothing changed.`,
    );
    deps.out.info(`Sign with it: apns-cert csr --name <name> --vendor ${entry.sha256.slice(0, 12)}`);
    return 0;
  },
};

export const vendorList: Runner<Record<string, never>> = {
  async run(_options, deps: Deps) {
    const index = await deps.store.read();
    const now = deps.now();
    const vendors = Object.values(index?.vendors ?? {})
      .map((v) => ({
        sha256: v.sha256,
        subject: v.subject,
        notAfter: v.notAfter,
        daysRemaining: daysRemaining(new Date(v.notAfter), now),
      }))
      .sort((a, b) => a.notAfter.localeCompare(b.notAfter) || a.sha256.localeCompare(b.sha256));
    if (deps.out.json) {
      deps.out.document({ vendors });
      return 0;
    }
    if (vendors.length === 0) {
      deps.out.info(
        `No vendor identities in ${deps.store.location}. Add one: apns-cert vendor import --cert <file> --key <file>`,
      );
      return 0;
    }
    const s = deps.out.style;
    deps.out.data(s.bold(`${'SHA-256'.padEnd(16)}  ${'NOT AFTER'.padEnd(10)}  ${'DAYS'.padEnd(18)} SUBJECT`));
    for (const v of vendors) {
      const days = daysText(v.daysRemaining);
      const painted =
        v.daysRemaining < 0
          ? s.red(days.padEnd(18))
          : v.daysRemaining < 30
            ? s.yellow(days.padEnd(18))
            : days.padEnd(18);
      deps.out.data(`${v.sha256.slice(0, 16)}  ${shortDate(v.notAfter).padEnd(10)}  ${painted} ${v.subject}`);
    }
    return 0;
  },
};

export const vendorRemove: Runner<VendorRemoveOptions> = {
  async run(options, deps: Deps) {
    const { entry, users } = await deps.store.change(async (tx) => {
      const found = findVendor(tx.index, options.prefix, 'vendor remove');
      const users = recordsMentioning(tx.index.records, found.sha256)
        .filter((r) => r.signing.via === 'vendor' && r.signing.vendor === found.sha256)
        .map((r) => r.name)
        .sort();
      if (users.length > 0 && !options.force) {
        throw new AppError(
          'IN_USE',
          `vendor remove: ${users.map((n) => `"${n}"`).join(', ')} ${users.length === 1 ? 'is' : 'are'} signed by the vendor identity "${found.subject}"; nothing was removed`,
          {
            hint: `apns-cert vendor remove ${options.prefix} --force   # renew of those records then asks for a new import`,
          },
        );
      }
      delete tx.index.vendors[found.sha256];
      await tx.commit(tx.index);
      const keyInUse = recordsMentioning(tx.index.records, found.keyId).some(
        (r) => r.pendingKey?.keyId === found.keyId || r.certificates.some((c) => c.keyId === found.keyId),
      );
      if (!keyInUse) await tx.removePrivateKey(found.keyId);
      await tx.removeVendorChain(found);
      return { entry: found, users };
    });
    if (users.length > 0)
      deps.out.warn(
        `${users.join(', ')} ${users.length === 1 ? 'is' : 'are'} still signed via this vendor: renew will refuse until it is imported again (apns-cert vendor import ...)`,
      );
    if (deps.out.json) {
      deps.out.document({ removed: entry.sha256, subject: entry.subject, signedRecords: users });
      return 0;
    }
    deps.out.info(`Removed the vendor identity "${entry.subject}" (${entry.sha256}): certificate, chain and key.`);
    return 0;
  },
};
