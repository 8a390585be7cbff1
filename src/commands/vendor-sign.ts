import type { Command } from 'commander';
import { COMMON_ERRORS, withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';
import { PORTAL_URL } from './shared/portal.js';

export interface VendorSignOptions {
  csr: string;
  vendorCert: string;
  vendorKey: string;
  chain: string | undefined;
  out: string | undefined;
  force: boolean;
}

export const vendorSign: CommandModule<VendorSignOptions> = {
  name: 'vendor-sign',
  define(program) {
    const command = program
      .command('vendor-sign')
      .summary("sign a customer's CSR as the MDM vendor, for Apple's portal")
      .description(
        "Make the file Apple's push certificate portal accepts from a customer's CSR: a base64 plist with the CSR, the vendor " +
          'certificate chain (vendor, Apple WWDR intermediate, Apple root; bundled with the tool, chosen by the issuer) and an ' +
          'RSA SHA-256 signature over the CSR with the vendor key.',
      )
      .requiredOption('--csr <file>', "the customer's CSR (PEM or DER)")
      .requiredOption('--vendor-cert <file>', 'MDM vendor certificate (PEM or DER)')
      .requiredOption('--vendor-key <file>', 'its private key (PEM)')
      .option('--chain <pem-file>', 'intermediate(s) and root to use instead of the bundled Apple CAs')
      .option('--out <file>', 'where to write the request (default: stdout)')
      .option('--force', 'overwrite an existing --out file', false);
    return withHelp(command, {
      exitCodes: [
        [0, 'request written'],
        ...COMMON_ERRORS.map(([c, m]): [number, string] =>
          c === 65
            ? [65, 'refused: CSR signature, vendor key mismatch, vendor certificate expired, chain not found']
            : [c, m],
        ),
        [73, 'cannot write --out (it exists: use --force)'],
      ],
      examples: [
        'apns-cert vendor-sign --csr customer.csr --vendor-cert mdm.cer --vendor-key vendor.key --out PushCertificateRequest',
        'apns-cert vendor-sign --csr customer.csr --vendor-cert test-vendor.pem --vendor-key test-vendor.key --chain test-ca.pem',
        'apns-cert inspect PushCertificateRequest',
      ],
    });
  },
  options(command: Command) {
    const o = command.opts<{
      csr: string;
      vendorCert: string;
      vendorKey: string;
      chain?: string;
      out?: string;
      force: boolean;
    }>();
    return { csr: o.csr, vendorCert: o.vendorCert, vendorKey: o.vendorKey, chain: o.chain, out: o.out, force: o.force };
  },
  async run(options: VendorSignOptions, deps: Deps) {
    const { decodeCsrFile } = await import('../core/input.js');
    const { formatName } = await import('../core/certificate.js');
    const { assertCanCreate, writeOutputFile } = await import('../io/files.js');
    const { loadVendor, signAsVendor } = await import('./shared/vendor-request.js');
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
