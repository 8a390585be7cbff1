import type { Runner, Deps } from '../kit.js';
import { decodeCsrFile } from '../../core/input.js';
import { formatName } from '../../core/certificate.js';
import { assertCanCreate, writeOutputFile } from '../../io/files.js';
import { loadVendor, signAsVendor } from '../shared/vendor-request.js';
import { PORTAL_URL } from '../shared/portal.js';

export interface VendorSignOptions {
  csr: string;
  vendorCert: string;
  vendorKey: string;
  chain: string | undefined;
  out: string | undefined;
  force: boolean;
}

export const vendorSign: Runner<VendorSignOptions> = {
  async run(options: VendorSignOptions, deps: Deps) {
    const target = { force: options.force, flag: '--out', store: deps.store };
    if (options.out !== undefined) await assertCanCreate(options.out, target);
    const csrDer = decodeCsrFile(await deps.readInput(options.csr), options.csr);
    const vendor = await loadVendor(
      { vendorCert: options.vendorCert, vendorKey: options.vendorKey, chain: options.chain },
      deps,
    );
    const request = { base64: await signAsVendor(csrDer, options.csr, vendor), chain: vendor.chain };
    if (options.out === undefined) {
      if (deps.out.json)
        deps.out.document({ request: request.base64, chain: request.chain.map((c) => formatName(c.subject)) });
      else deps.out.data(request.base64);
      return 0;
    }
    await writeOutputFile(options.out, request.base64, { ...target, mode: 0o644 });
    if (deps.out.json) deps.out.document({ requestPath: options.out, chainLength: request.chain.length });
    else {
      deps.out.data(options.out);
      deps.out.info(`Signed ${options.csr} as the MDM vendor; upload ${options.out} at ${PORTAL_URL}.`);
    }
    return 0;
  },
};
