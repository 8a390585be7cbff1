import { activeCertificate } from '../../core/index-model.js';
import type { PushRecord } from '../../core/index-model.js';
import { shortDate } from '../../output/output.js';

/** Apple's Push Certificates Portal, where a CSR (or a vendor-signed request) is uploaded. */
export const PORTAL_URL = 'https://identity.apple.com/pushcert';

/**
 * What to do in the portal with `csrPath`: renew the row of `record` when it has a topic (never "Create",
 * which makes a new topic), else create a certificate. `renewing`: the command is `renew`, so the step needs
 * no "RENEW:" label. `then` is the step after the download, if any. `signed`: csrPath is a signed request.
 */
export function portalSteps(
  csrPath: string,
  record: PushRecord | undefined,
  opts: { renewing?: boolean; then?: string; signed?: boolean } = {},
): string[] {
  const steps = [`Open ${PORTAL_URL} and sign in with the Apple ID that owns this push certificate.`];
  if (record?.topic) {
    const active = activeCertificate(record);
    steps.push(
      `${opts.renewing ? 'Find' : 'RENEW: find'} the row whose topic is ${record.topic}` +
        (active === undefined ? '' : `\n     and whose expiration date is ${shortDate(active.notAfter)}.`),
      'Press "Renew" on that row. NOT "Create a Certificate": that makes a new topic and every device must re-enroll.',
    );
  } else {
    steps.push(
      'NEW certificate: press "Create a Certificate" (for a renewal, press "Renew" on the existing row instead).',
    );
  }
  steps.push(
    opts.signed
      ? `Upload ${csrPath} (the signed request, not the CSR), then download the .pem Apple returns.`
      : `Upload ${csrPath} (your MDM vendor may have to sign it first), then download the .pem Apple returns.`,
  );
  if (opts.then !== undefined) steps.push(opts.then);
  return ['Next steps:', ...steps.flatMap((step, i) => `  ${i + 1}. ${step}`.split('\n'))];
}
