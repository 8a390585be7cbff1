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
