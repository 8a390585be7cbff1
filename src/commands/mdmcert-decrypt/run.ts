import type { Deps, Runner } from '../kit.js';
import { decryptMailed, reportChecks } from '../shared/mdmcert-decrypt.js';
import { checkJson } from '../shared/request-checks.js';
import { portalSteps } from '../shared/portal.js';

export type { MdmcertDecryptOptions } from '../shared/mdmcert-decrypt.js';
import type { MdmcertDecryptOptions } from '../shared/mdmcert-decrypt.js';

export const mdmcertDecrypt: Runner<MdmcertDecryptOptions> = {
  async run(options: MdmcertDecryptOptions, deps: Deps) {
    const result = await decryptMailed(options, deps);
    if (deps.out.json) {
      deps.out.document({
        name: result.name,
        requestPath: result.requestPath,
        ok: result.ok,
        checks: result.checks.map(checkJson),
      });
      return result.ok ? 0 : 1;
    }
    deps.out.data(result.requestPath);
    deps.out.info(`Wrote the signed request for "${result.name}" to ${result.requestPath}.`);
    reportChecks(result, deps);
    if (!result.ok) {
      deps.out.warn(`a check failed: do not upload ${result.requestPath} (kept so that it can be inspected)`);
      return 1;
    }
    const record = (await deps.store.readOrFail()).records[result.name];
    for (const line of portalSteps(result.requestPath, record, {
      signed: true,
      then: `apns-cert import <downloaded .pem> --name ${result.name}`,
    }))
      deps.out.info(line);
    return 0;
  },
};
