import { AppError } from '../../errors.js';
import { formatName } from '../../core/certificate.js';
import type { CertificateInfo } from '../../core/certificate.js';
import type { PrivateKeyInfo } from '../../core/keys.js';
import { decodeCertificateFile, decodePrivateKeyFile } from '../../core/input.js';
import type { Deps } from '../kit.js';
import { checkChain, extraCas } from '../../core/chain.js';
import { parseCsr } from '../../core/csr-parse.js';

export interface VendorInputs {
  vendorCert: string;
  vendorKey: string;
  chain: string | undefined;
}

export interface Vendor {
  key: PrivateKeyInfo;
  /** The vendor certificate, then its intermediate(s) and root. */
  chain: CertificateInfo[];
}

/**
 * `action`: the command words (vendor-sign, csr, vendor import), for messages and hints.
 * Loads the MDM vendor's certificate, key and chain, refusing (exit 65) a key that does not match,
 * a vendor certificate that is not valid now, or a chain that is not found (bundled Apple CAs, or --chain).
 */
export async function loadVendor(inputs: VendorInputs, deps: Deps, action = 'vendor-sign'): Promise<Vendor> {
  const vendorCert = decodeCertificateFile(await deps.readInput(inputs.vendorCert), inputs.vendorCert).certificates[0]!;
  const key = decodePrivateKeyFile(await deps.readInput(inputs.vendorKey), inputs.vendorKey);
  if (key.keyId !== vendorCert.publicKeyId) {
    throw new AppError(
      'KEY_MISMATCH',
      `${action}: the vendor key ${inputs.vendorKey} does not match the vendor certificate ${inputs.vendorCert}`,
      {
        hint: `apns-cert verify ${inputs.vendorCert} --key ${inputs.vendorKey}`,
      },
    );
  }
  const now = deps.now();
  if (vendorCert.notAfter.getTime() <= now.getTime() || vendorCert.notBefore.getTime() > now.getTime()) {
    throw new AppError(
      'EXPIRED',
      `${action}: the vendor certificate is not valid now (valid ${vendorCert.notBefore.toISOString()} to ${vendorCert.notAfter.toISOString()})`,
      {
        hint: 'renew the MDM vendor certificate at developer.apple.com, then sign again',
      },
    );
  }
  const given =
    inputs.chain === undefined
      ? undefined
      : decodeCertificateFile(await deps.readInput(inputs.chain), inputs.chain).certificates;
  const verdict = checkChain(vendorCert, now, given === undefined ? undefined : extraCas(given));
  if (!verdict.valid) {
    const issuer = vendorCert.issuer.find((a) => a.type === 'CN')?.value ?? formatName(vendorCert.issuer);
    throw new AppError(
      'BAD_INPUT',
      `${action}: no valid chain for the vendor certificate, issued by "${issuer}": ${verdict.problem}`,
      {
        hint: `apns-cert ${action} ... --chain <pem with the intermediate and the root>`,
      },
    );
  }
  return { key, chain: [vendorCert, ...verdict.cas] };
}

/** Apple's PushCertificateRequest for a customer CSR (DER), signed by the vendor: base64 of the plist. */
export async function signAsVendor(csrDer: Buffer, csrSource: string, vendor: Vendor): Promise<string> {
  const { buildPushRequest } = await import('../../core/push-request.js');
  if (!parseCsr(csrDer, csrSource).signatureValid) {
    throw new AppError(
      'BAD_INPUT',
      `vendor-sign ${csrSource}: the CSR's own signature does not verify (damaged or altered)`,
    );
  }
  return buildPushRequest(csrDer, vendor.chain, vendor.key.key).base64;
}
