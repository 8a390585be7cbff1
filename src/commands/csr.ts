import type { Command } from 'commander';
import { AppError } from '../errors.js';
import { COMMON_ERRORS, recordName, withHelp } from './kit.js';
import { portalSteps } from './shared/portal.js';
import type { CommandModule, Deps } from './kit.js';

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
  requestOut: string | undefined;
}

export const csr: CommandModule<CsrOptions> = {
  name: 'csr',
  define(program) {
    const command = program
      .command('csr')
      .summary("create a private key and a CSR for Apple's push certificate portal")
      .description(
        'Create an RSA-2048 private key (kept encrypted in the store as the pending key of <name>) and a PKCS#10 CSR (SHA-256, PEM) to upload to Apple.',
      )
      .requiredOption('--name <name>', 'the push identity this key is for, e.g. acme-prod', recordName)
      .option('--out <file>', 'where to write the CSR (default: <name>.csr.pem)')
      .option('--email <addr>', 'e-mail address in the CSR subject')
      .option('--country <CC>', 'two-letter country code in the CSR subject')
      .option('--common-name <cn>', 'common name in the CSR subject (default: the name)')
      .option('--apple-id <id>', 'Apple ID that will sign in to the portal (only a salted hash is kept)')
      .option('--force', 'overwrite existing CSR and request files', false)
      .option('--vendor-cert <file>', 'MDM vendor certificate: also write the vendor-signed request for Apple')
      .option('--vendor-key <file>', "the vendor certificate's private key (PEM)")
      .option('--chain <pem-file>', 'with --vendor-cert: intermediate(s) and root instead of the bundled Apple CAs')
      .option('--request-out <file>', 'where to write the vendor-signed request (default: <name>.request.b64)');
    return withHelp(command, {
      exitCodes: [
        [0, 'key stored and CSR written'],
        ...COMMON_ERRORS,
        [69, 'the secret backend (keychain) is unavailable'],
        [73, 'cannot write the CSR (it exists: use --force or --out)'],
        [75, 'another apns-cert process is changing the store'],
        [77, 'wrong store passphrase'],
      ],
      examples: [
        'apns-cert csr --name acme-prod --email mdm@acme.example --country US',
        'APNS_CERT_PASSPHRASE=... apns-cert --secret-backend passphrase csr --name acme-prod --out /tmp/acme.csr',
        'openssl req -in acme-prod.csr.pem -noout -verify',
        'apns-cert csr --name acme-prod --vendor-cert mdm.cer --vendor-key vendor.key   # CSR + PushCertificateRequest in one step',
      ],
    });
  },
  options(command: Command) {
    const o = command.opts<{
      name: string;
      out?: string;
      email?: string;
      country?: string;
      commonName?: string;
      appleId?: string;
      force: boolean;
      vendorCert?: string;
      vendorKey?: string;
      chain?: string;
      requestOut?: string;
    }>();
    return {
      name: o.name,
      out: o.out,
      email: o.email,
      country: o.country,
      commonName: o.commonName,
      appleId: o.appleId,
      force: o.force,
      vendorCert: o.vendorCert,
      vendorKey: o.vendorKey,
      chain: o.chain,
      requestOut: o.requestOut,
    };
  },
  async run(options: CsrOptions, deps: Deps) {
    const name = options.name;
    const { validateCsrSubject } = await import('../core/csr.js');
    const { makeCsr } = await import('./shared/make-csr.js');
    const { loadVendor, signAsVendor } = await import('./shared/vendor-request.js');
    const { assertCanCreate } = await import('../io/files.js');
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
    if (options.vendorCert === undefined && (options.chain !== undefined || options.requestOut !== undefined)) {
      throw new AppError('USAGE', 'csr: --chain and --request-out need --vendor-cert and --vendor-key', {
        hint: `apns-cert csr --name ${name} --vendor-cert mdm.cer --vendor-key vendor.key`,
      });
    }
    // Every vendor check runs before the key and CSR are made: a refusal writes nothing.
    const requestOut = options.requestOut ?? `${name}.request.b64`;
    const vendor =
      options.vendorCert === undefined
        ? undefined
        : await loadVendor(
            { vendorCert: options.vendorCert, vendorKey: options.vendorKey!, chain: options.chain },
            deps,
          );
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
        then: `apns-cert import <downloaded .pem> --name ${name}`,
      }))
        deps.out.info(line);
    }
    return 0;
  },
};
