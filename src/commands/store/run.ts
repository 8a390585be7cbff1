import type { Runner, Deps } from '../kit.js';

export type StoreUpgradeOptions = Record<string, never>;

const scryptText = (k: { N: number; r: number; p: number }) => `scrypt N=2^${Math.log2(k.N)} r=${k.r} p=${k.p}`;

export const storeUpgrade: Runner<StoreUpgradeOptions> = {
  async run(_options: StoreUpgradeOptions, deps: Deps) {
    const { index, result } = await deps.store.upgradeKdf();
    if (deps.out.json) {
      deps.out.document({
        store: deps.store.location,
        backend: index.secretBackend,
        changed: result?.changed ?? false,
        from: result?.from ?? null,
        to: result?.to ?? null,
      });
    } else if (result === null) {
      deps.out.info(
        `the ${index.secretBackend} backend keeps the master key itself, with no key derivation: nothing to upgrade`,
      );
    } else if (!result.changed) {
      deps.out.info(`the master key is already wrapped with ${scryptText(result.to)} and a check value: nothing to do`);
    } else {
      deps.out.info(
        `re-wrapped the master key: ${scryptText(result.from)}${result.from.check ? '' : ' without check value'} -> ${scryptText(result.to)} with check value`,
      );
    }
    return 0;
  },
};

export interface StoreInitOptions {
  printGrants: { admin: string; monitor: string } | null;
}

export const storeInit: Runner<StoreInitOptions> = {
  async run(options: StoreInitOptions, deps: Deps) {
    const location = deps.store.location;
    if (options.printGrants !== null) {
      const { isPostgresUrl, DEFAULT_SCHEMA } = await import('../../store/postgres/url.js');
      const { grantsSql } = await import('../../store/postgres/schema.js');
      const schema = isPostgresUrl(location)
        ? (new URL(location).searchParams.get('schema') ?? DEFAULT_SCHEMA)
        : DEFAULT_SCHEMA;
      deps.out.raw(grantsSql(schema, options.printGrants.admin, options.printGrants.monitor));
      return 0;
    }
    const { created, index, upgradedFrom } = await deps.store.init();
    if (deps.out.json) deps.out.document({ store: location, created, upgradedFrom, storeId: index.storeId });
    else if (created) deps.out.info(`created the store ${location} (store id ${index.storeId})`);
    else if (upgradedFrom !== null)
      deps.out.info(
        `upgraded the tables of the store ${location} from schema version ${upgradedFrom} (store id ${index.storeId}); its records are as they were`,
      );
    else deps.out.info(`the store ${location} is already there (store id ${index.storeId}): nothing changed`);
    return 0;
  },
};
