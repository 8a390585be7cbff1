import { AppError } from '../../errors.js';
import { portalSteps } from '../shared/portal.js';
import type { Runner, Deps } from '../kit.js';
import { validateCsrSubject } from '../../core/csr.js';
import { makeCsr } from '../shared/make-csr.js';
import { signAsVendor } from '../shared/vendor-request.js';
import { csrSigner } from '../shared/vendor-identity.js';
import { assertCanCreate } from '../../io/files.js';

export interface CsrOptions {
  name: string;
  out: string | undefined;
  email: string | undefined;
  country: string | undefined;
  commonName: string | undefined;
  appleId: string | undefined;
  force: boolean;
  vendorCert: string | undefined;
  vendorKey: string | undefined;
  chain: string | undefined;
  /** A vendor identity kept in the store (its SHA-256 prefix). */
  vendor?: string | undefined;
  requestOut: string | undefined;
}

export const csr: Runner<CsrOptions> = {
  async run(options: CsrOptions, deps: Deps) {
    const name = options.name;
    const subject = validateCsrSubject({
      commonName: options.commonName ?? name,
      email: options.email,
      country: options.country?.toUpperCase(),
    });
    const outPath = options.out ?? `${name}.csr.pem`;
    if ((options.vendorCert === undefined) !== (options.vendorKey === undefined)) {
      throw new AppError('USAGE', 'csr: --vendor-cert and --vendor-key go together', {
        hint: `apns-cert csr --name ${name} --vendor-cert mdm.cer --vendor-key vendor.key`,
      });
    }
    if (
      options.vendorCert === undefined &&
      options.vendor === undefined &&
      (options.chain !== undefined || options.requestOut !== undefined)
    ) {
      throw new AppError('USAGE', 'csr: --chain and --request-out need --vendor-cert and --vendor-key (or --vendor)', {
        hint: `apns-cert csr --name ${name} --vendor-cert mdm.cer --vendor-key vendor.key`,
      });
    }
    // Every vendor check runs before the key and CSR are made: a refusal writes nothing.
    const requestOut = options.requestOut ?? `${name}.request.b64`;
    const signer = await csrSigner(options, deps);
    const vendor = signer?.vendor;
    if (vendor !== undefined)
      await assertCanCreate(requestOut, { force: options.force, flag: '--request-out', store: deps.store });
    const companion =
      vendor === undefined
        ? undefined
        : {
            path: requestOut,
            flag: '--request-out',
            make: (csrDer: Buffer, csrPath: string) => signAsVendor(csrDer, csrPath, vendor),
          };
    const result = await makeCsr(
      {
        name,
        subject,
        outPath,
        outFlag: '--out',
        force: options.force,
        appleId: options.appleId,
        reuseKey: false,
        signing: signer?.signing ?? { via: 'none' },
        ...(signer === undefined ? {} : { prepare: signer.prepare }),
        ...(companion === undefined ? {} : { companion }),
      },
      deps,
    );
    const requestPath = result.companionPath;
    if (result.appleIdMatches === false) {
      deps.out.warn(
        `the Apple ID given is not the one recorded for "${name}": a renewal under another Apple ID gets a NEW topic`,
      );
    }
    if (result.replaced !== null) {
      deps.out.warn(
        `replaced the pending key of "${name}" created ${result.replaced.createdAt}; a certificate for the old CSR can no longer be imported`,
      );
    }
    if (deps.out.json) {
      deps.out.document({
        name,
        csrPath: result.csrPath,
        requestPath,
        keyId: result.keyId,
        renewal: result.before?.topic != null,
        topic: result.before?.topic ?? null,
      });
    } else {
      deps.out.data(result.csrPath);
      deps.out.info(
        `Wrote the CSR for "${name}" to ${outPath}; its private key is stored encrypted in ${deps.store.location}.`,
      );
      if (requestPath !== null)
        deps.out.info(`Wrote the vendor-signed request to ${requestOut}: upload that file, not the CSR.`);
      const csrPath = requestPath === null ? outPath : requestOut;
      for (const line of portalSteps(csrPath, result.before, {
        signed: requestPath !== null,
        then: `apns-cert import <downloaded .pem> --name ${name}`,
      }))
        deps.out.info(line);
    }
    return 0;
  },
};
