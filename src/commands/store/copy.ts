import { AppError, isAppError } from '../../errors.js';
import { isPostgresUrl } from '../../store/postgres/url.js';
import type { StoreContents } from '../../core/store-contents.js';
import type { Store } from '../../store/store.js';
import type { Deps, Runner } from '../kit.js';

export interface StoreCopyOptions {
  from: string;
  to: string;
}

/** The source's contents; no store there: 66. */
async function contentsOf(source: Store): Promise<StoreContents> {
  try {
    return await source.exportContents();
  } catch (error) {
    if (!(isAppError(error) && error.code === 'NOT_FOUND')) throw error;
    throw new AppError('FILE_MISSING', `copy the store ${source.location}: there is no store there`, {
      hint: `ls -l ${source.location}   # --from names the store to copy`,
    });
  }
}

/** The damaged audit lines named one by one; more are counted. */
const SKIPPED_SHOWN = 10;

export const storeCopy: Runner<StoreCopyOptions> = {
  async run(options: StoreCopyOptions, deps: Deps) {
    deps.audit.note({ store: options.to });
    const source = await deps.openStore(options.from);
    try {
      const destination = await deps.openStore(options.to);
      try {
        if (source.location === destination.location || destination.holdsPath(source.location))
          throw new AppError('USAGE', `copy the store ${source.location}: --from and --to name the same store`, {
            hint: 'apns-cert store copy --from <store> --to <another, empty store>',
          });
        const contents = await contentsOf(source);
        await destination.importContents(contents);
        for (const problem of contents.logSkipped.slice(0, SKIPPED_SHOWN))
          deps.out.warn(`the audit log of ${source.location}: not copied: ${problem}`);
        if (contents.logSkipped.length > SKIPPED_SHOWN)
          deps.out.warn(
            `the audit log of ${source.location}: not copied: ${contents.logSkipped.length - SKIPPED_SHOWN} more lines that are not entries`,
          );
        const counts = {
          records: Object.keys(contents.index.records).length,
          certificates: contents.certificates.length,
          vendors: contents.vendorChains.length,
          sealedSecrets: contents.secrets.length,
          logEntries: contents.log.length,
          logLinesSkipped: contents.logSkipped.length,
        };
        const rewrapped = 'open' in contents.masterKey && isPostgresUrl(options.to);
        if (deps.out.json)
          deps.out.document({
            from: source.location,
            to: destination.location,
            storeId: contents.index.storeId,
            ...counts,
          });
        else
          deps.out.info(
            `copied ${counts.records} records, ${counts.certificates} certificates, ${counts.vendors} vendor identities, ` +
              `${counts.sealedSecrets} sealed secrets and ${counts.logEntries} log entries from ${source.location} to ` +
              `${destination.location} (store id ${contents.index.storeId}); ${rewrapped ? 'its master key is now wrapped under the new team passphrase' : 'it opens as the source does'}`,
          );
        return 0;
      } finally {
        await destination.close();
      }
    } finally {
      await source.close();
    }
  },
};
