import { AppError } from '../../errors.js';
import { buildExchangeCertificate } from '../../core/exchange-cert.js';
import { generateRsaKeyAsync } from '../../core/keys.js';
import { MDMCERT_SIGN_URL, checkMdmcertUrl, sendSignRequest } from '../../net/mdmcert.js';
import { secretSource } from '../../secrets/source.js';
import type { Deps } from '../kit.js';

/** Where to get an API key: the service's sign-up (keys are per product; the public clients' keys are theirs). */
export const MDMCERT_SIGNUP = 'https://mdmcert.download';

export interface MdmcertAsk {
  name: string;
  email: string | undefined;
  /** --mdmcert-api-key-file */
  apiKeyFile: string | undefined;
  /** --mdmcert-url */
  url: string | undefined;
  /** The command that runs, for messages ("csr", "renew acme"). */
  action: string;
  /** The command line to retry with (with this e-mail address), for hints. */
  retry: (email: string) => string;
}

/** Everything the sign request needs besides the CSR, checked before any key is made. */
export interface MdmcertPlan {
  email: string;
  apiKey: string;
  url: URL;
  timeoutMs: number;
}

/** The URL (checked), the e-mail and the API key (file > environment > prompt), or a usage error (64). */
export async function mdmcertPlan(ask: MdmcertAsk, deps: Deps): Promise<MdmcertPlan> {
  const url = checkMdmcertUrl(ask.url ?? deps.settings.mdmcertUrl ?? MDMCERT_SIGN_URL);
  if (!(url instanceof URL))
    throw new AppError('USAGE', `${ask.action}: the mdmcert.download URL is refused: ${url.cause}`, {
      hint: `${ask.retry(ask.email ?? '<addr>')}   # without --mdmcert-url (and APNS_CERT_MDMCERT_URL unset): the service's own HTTPS address`,
    });
  if (ask.email === undefined || !/^[^@\s]+@[^@\s]+$/.test(ask.email))
    throw new AppError(
      'USAGE',
      `${ask.action}: mdmcert.download mails the signed request: give the address with --email <addr>`,
      { hint: ask.retry('admin@example.com') },
    );
  const source = secretSource({
    file: ask.apiKeyFile,
    flag: '--mdmcert-api-key-file',
    env: deps.settings.mdmcertApiKey,
    interactive: deps.interactive,
    prompt: (message) => deps.prompter.password(message),
  });
  const apiKey = ((await source.read({ message: 'mdmcert.download API key:' })) ?? '').trim();
  if (apiKey === '')
    throw new AppError('USAGE', `${ask.action}: mdmcert.download needs your API key, and none was given`, {
      details: [
        `Register at ${MDMCERT_SIGNUP} (free, "Sign up"): the API key arrives by e-mail. Keep it in a file (chmod 600)`,
        'or in APNS_CERT_MDMCERT_API_KEY; it is never given on the command line.',
      ],
      hint: `${ask.retry(ask.email)} --mdmcert-api-key-file ~/.mdmcert-api-key`,
    });
  return { email: ask.email, apiKey, url, timeoutMs: deps.settings.mdmcertTimeoutMs };
}

export interface MadeCsr {
  name: string;
  /** The pending key the CSR is for (null: a keyless CSR, which mdmcert.download is never sent). */
  keyId: string | null;
  csrPem: string;
}

/**
 * Makes the exchange key and certificate, keeps them with the pending key (key sealed, certificate in
 * pendingKey.mdmcert), sends the sign request, and on success records `signing: {via: mdmcert, email}`. On a
 * failure the exchange key and pendingKey.mdmcert are removed again (the pending key and CSR stay), and the
 * error is 69 (unreachable) or 65 (refused, with the service's reason).
 */
export async function requestMdmcertSigning(plan: MdmcertPlan, made: MadeCsr, deps: Deps): Promise<void> {
  const exchangeKey = await generateRsaKeyAsync();
  const sentAt = deps.now();
  const exchange = buildExchangeCertificate(exchangeKey.key, sentAt);
  await deps.store.change(async (tx) => {
    const record = tx.index.records[made.name];
    if (made.keyId === null || record?.pendingKey?.keyId !== made.keyId)
      throw new AppError('STORE_BUSY', `${made.name}: its pending key changed while the request was prepared`, {
        hint: `apns-cert show ${made.name}`,
      });
    await tx.putPrivateKey(exchangeKey);
    record.pendingKey.mdmcert = {
      exchangeKeyId: exchangeKey.keyId,
      exchangeCertificate: exchange.der.toString('base64'),
      email: plan.email,
      sentAt: sentAt.toISOString(),
    };
    await tx.commit(tx.index);
  });
  const result = await sendSignRequest({
    url: plan.url,
    csrPem: made.csrPem,
    email: plan.email,
    apiKey: plan.apiKey,
    exchangeCertPem: exchange.pem,
    timeoutMs: plan.timeoutMs,
  });
  await deps.store.change(async (tx) => {
    const record = tx.index.records[made.name];
    const pending = record?.pendingKey;
    if (record === undefined || pending?.mdmcert?.exchangeKeyId !== exchangeKey.keyId) return;
    if (result.kind === 'sent') {
      record.signing = { via: 'mdmcert', email: plan.email };
      await tx.commit(tx.index);
      return;
    }
    delete pending.mdmcert;
    await tx.commit(tx.index);
    await tx.removePrivateKey(exchangeKey.keyId);
  });
  if (result.kind === 'sent') return;
  const kept = `The new key stayed as the pending key of "${made.name}" (its CSR too); nothing was sent to be signed.`;
  const retry = `${made.name}: run the same command again with --force to send a new request`;
  if (result.kind === 'unreachable' || result.kind === 'insecure-url')
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `send the request to mdmcert.download: ${result.kind === 'unreachable' ? 'no answer' : 'refused URL'} (${result.cause})`,
      { details: [kept, retry], hint: 'curl -sS -o /dev/null -w "%{http_code}\\n" https://mdmcert.download/' },
    );
  const reason = result.kind === 'refused' ? result.reason : result.cause;
  throw new AppError('BAD_INPUT', `send the request to mdmcert.download: refused: ${reason}`, {
    details: [kept, retry],
    hint: `open ${MDMCERT_SIGNUP}   # check the API key and the e-mail address it was registered with`,
  });
}

/** What to do once the request is on its way. */
export function mdmcertNextSteps(name: string, email: string): string[] {
  return [
    'Next steps:',
    `  1. Wait for the mail from mdmcert.download to ${email}: it carries a file`,
    '     mdm_signed_request.<date>.plist.b64.p7 (the signed request, encrypted to this store).',
    `  2. apns-cert mdmcert-decrypt <that file> --name ${name}`,
    '     (it writes the request to upload to Apple, checks it and says which row to use in the portal).',
  ];
}
