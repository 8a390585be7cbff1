/**
 * Renewal of a keyless record (import --no-key) from its Fleet target: Fleet makes the key and the CSR and keeps
 * the key (fleetdm/fleet server/service/apple_mdm.go, GetMDMAppleCSR), so the CSR is asked of Fleet and the
 * pending entry says whose CSR it is and which public key the certificate Apple returns must carry.
 */
import { AppError, isAppError } from '../../errors.js';
import { toPem } from '../../core/certificate.js';
import { parseCsr } from '../../core/csr-parse.js';
import type { CsrInfo } from '../../core/csr-parse.js';
import type { KeylessPending, PushRecord, ServerTarget, StoreIndex } from '../../core/index-model.js';
import { decodeCsrFile, isPushRequest } from '../../core/input.js';
import { parsePushRequest } from '../../core/push-request.js';
import { fleet } from '../../net/mdm/index.js';
import type { Deps } from '../kit.js';
import { credentialOf, mdmFailureError } from '../shared/mdm-target.js';
import { userError } from '../shared/errors.js';

export interface FleetCsr {
  pem: string;
  der: Buffer;
  keyless: KeylessPending;
  /**
   * Fleet's answer when it is already a signed PushCertificateRequest (base64 of the plist, what the portal takes):
   * written beside the CSR as the request to upload. Undefined when Fleet gave a plain CSR.
   */
  signedRequest: string | undefined;
}

/** The fleet target a keyless renewal asks for its CSR: the one named, or the only one. */
export function fleetTargetOf(record: PushRecord, label: string | undefined, action: string): ServerTarget {
  const fleets = record.targets.filter((t): t is ServerTarget => t.kind === 'fleet');
  if (fleets.length === 0)
    throw new AppError(
      'NO_KEY',
      `${action}: its private key is kept by the server that made its CSR (imported with --no-key), and the record has no fleet target to ask for a new CSR`,
      {
        hint: `apns-cert target add ${record.name} --kind fleet --url https://fleet.example.com --credential-file <token file>`,
      },
    );
  if (label !== undefined) {
    const named = fleets.find((t) => t.label === label);
    if (named === undefined)
      throw new AppError(
        'USAGE',
        `${action}: the record has no fleet target "${label}" (its fleet targets: ${fleets.map((t) => t.label).join(', ')})`,
        { hint: `apns-cert target list ${record.name}` },
      );
    return named;
  }
  if (fleets.length > 1)
    throw new AppError(
      'USAGE',
      `${action}: the record has ${fleets.length} fleet targets (${fleets.map((t) => t.label).join(', ')}); name the one whose key the certificate is for`,
      { hint: `apns-cert renew ${record.name} --target ${fleets[0]!.label}` },
    );
  return fleets[0]!;
}

/** Fleet's answer: a PKCS#10 CSR (PEM or DER), or a PushCertificateRequest that holds one. */
function readFleetAnswer(bytes: Buffer, source: string): { csr: CsrInfo; signedRequest: string | undefined } {
  if (isPushRequest(bytes)) {
    const request = parsePushRequest(bytes, source);
    const text = bytes.toString('utf8').trim();
    const signedRequest = text.startsWith('<') ? Buffer.from(text, 'utf8').toString('base64') : text;
    return { csr: request.csr, signedRequest };
  }
  return { csr: parseCsr(decodeCsrFile(bytes, source), source), signedRequest: undefined };
}

/** Asks the target for its CSR; Fleet's errors as deploy reports them (77, 69 naming the host, 65). */
export async function fetchFleetCsr(
  record: PushRecord,
  index: StoreIndex,
  target: ServerTarget,
  deps: Deps,
  action: string,
): Promise<FleetCsr> {
  const credential = await credentialOf(deps, index, target);
  const answer = await fleet.requestCsr(
    { url: target.url, caPem: target.caPem },
    credential,
    deps.settings.deployTimeoutMs,
  );
  if (answer.kind !== 'csr') throw mdmFailureError(answer, `${action}: ask for its CSR`, target, record.name);
  const source = `the CSR from the fleet target "${target.label}"`;
  let read;
  try {
    read = readFleetAnswer(answer.csr, source);
  } catch (caught) {
    const error = userError(caught, 'renew');
    throw new AppError(
      'BAD_INPUT',
      `${action}: Fleet's answer (${target.url}) is not a CSR: ${isAppError(error) ? error.message : String(error)}`,
      { hint: `apns-cert target list ${record.name}   # is it the Fleet server?` },
    );
  }
  if (!read.csr.signatureValid)
    throw new AppError('BAD_INPUT', `${action}: the CSR from Fleet (${target.url}) is not signed by its own key`, {
      hint: `apns-cert renew ${record.name}   # ask Fleet again`,
    });
  return {
    der: read.csr.der,
    pem: toPem(read.csr.der, 'CERTIFICATE REQUEST'),
    keyless: { target: target.label, publicKeyId: read.csr.publicKeyId },
    signedRequest: read.signedRequest,
  };
}
