import { AppError } from '../../errors.js';
import { portalSteps } from '../shared/portal.js';
import type { Runner, Deps } from '../kit.js';
import { validateCsrSubject } from '../../core/csr.js';
import { makeCsr } from '../shared/make-csr.js';
import { csrSigner, vendorCompanion } from '../shared/vendor-identity.js';
import { mdmcertNextSteps, mdmcertPlan, requestMdmcertSigning } from '../shared/mdmcert-request.js';
import type { MdmcertPlan } from '../shared/mdmcert-request.js';
import { custodyChange } from '../shared/custody.js';
import type { CustodyOptions } from '../shared/custody.js';

/** --via: mdmcert's plan (API key, URL, e-mail: all checked before any key is made), or undefined. */
async function mdmcertFor(options: CsrOptions, deps: Deps): Promise<MdmcertPlan | undefined> {
  const name = options.name;
  const vendorFlags =
    options.vendorCert !== undefined || options.vendorKey !== undefined || options.vendor !== undefined;
  if (options.via === 'vendor' && !vendorFlags)
    throw new AppError('USAGE', 'csr: --via vendor needs the vendor identity', {
      hint: `apns-cert csr --name ${name} --vendor <sha256-prefix>   # or --vendor-cert mdm.cer --vendor-key vendor.key`,
    });
  if (options.via === 'none' && vendorFlags)
    throw new AppError('USAGE', 'csr: --via none is signed by someone else, not with a vendor identity', {
      hint: `apns-cert csr --name ${name} --via none`,
    });
  if (options.via !== 'mdmcert') {
    if (options.mdmcertApiKeyFile !== undefined || options.mdmcertUrl !== undefined)
      throw new AppError('USAGE', 'csr: --mdmcert-api-key-file and --mdmcert-url go with --via mdmcert', {
        hint: `apns-cert csr --name ${name} --via mdmcert --email <addr>`,
      });
    return undefined;
  }
  if (vendorFlags || options.requestOut !== undefined)
    throw new AppError(
      'USAGE',
      'csr: --via mdmcert is signed by mdmcert.download, not with --vendor, --vendor-cert or --request-out',
      {
        hint: `apns-cert csr --name ${name} --via mdmcert --email <addr>`,
      },
    );
  return mdmcertPlan(
    {
      name,
      email: options.email,
      apiKeyFile: options.mdmcertApiKeyFile,
      url: options.mdmcertUrl,
      action: 'csr',
      retry: (email) => `apns-cert csr --name ${name} --via mdmcert --email ${email}`,
    },
    deps,
  );
}

export interface CsrOptions extends CustodyOptions {
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
  via?: 'none' | 'vendor' | 'mdmcert' | undefined;
  mdmcertApiKeyFile?: string | undefined;
  mdmcertUrl?: string | undefined;
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
    const custody = custodyChange(
      options,
      options.appleId,
      'csr',
      `apns-cert csr --name ${name} --apple-id <id> --remember-apple-id`,
    );
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
    const mdmcert = await mdmcertFor(options, deps);
    // Every vendor check runs before the key and CSR are made: a refusal writes nothing.
    const requestOut = options.requestOut ?? `${name}.request.b64`;
    const signer = await csrSigner(options, deps);
    const vendor = signer?.vendor;
    const companion = await vendorCompanion(vendor, requestOut, options.force, deps);
    const result = await makeCsr(
      {
        name,
        subject,
        outPath,
        outFlag: '--out',
        force: options.force,
        appleId: options.appleId,
        reuseKey: false,
        custody,
        signing: signer?.signing ?? { via: 'none' },
        ...(signer === undefined ? {} : { prepare: signer.prepare }),
        ...(companion === undefined ? {} : { companion }),
      },
      deps,
    );
    if (mdmcert !== undefined)
      await requestMdmcertSigning(
        mdmcert,
        {
          name,
          keyId: result.keyId,
          csrPem: result.csrPem,
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
        ...(mdmcert === undefined ? {} : { requestSent: true }),
      });
    } else {
      deps.out.data(result.csrPath);
      deps.out.info(
        `Wrote the CSR for "${name}" to ${outPath}; its private key is stored encrypted in ${deps.store.location}.`,
      );
      if (mdmcert !== undefined) {
        deps.out.info(`Sent the CSR to mdmcert.download; the signed request is mailed to ${mdmcert.email}.`);
        for (const line of mdmcertNextSteps(name, mdmcert.email)) deps.out.info(line);
        return 0;
      }
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
