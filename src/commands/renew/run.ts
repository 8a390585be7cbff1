import { AppError, isAppError } from '../../errors.js';
import { daysRemaining } from '../../core/expiry.js';
import { activeCertificate, isRenewable } from '../../core/index-model.js';
import type { PushRecord, StoreIndex } from '../../core/index-model.js';
import { daysText, shortDate } from '../../output/output.js';
import { userError } from '../shared/errors.js';
import { portalSteps } from '../shared/portal.js';
import type { Choice, Runner, Deps } from '../kit.js';
import { requireRecord } from '../shared/require-record.js';
import { homedir } from 'node:os';
import { decodeCertificateFile } from '../../core/input.js';
import { assertCanCreate, readInputFile } from '../../io/files.js';
import { appleIdMatches } from '../../core/topic.js';
import { validateCsrSubject } from '../../core/csr.js';
import { makeCsr } from '../shared/make-csr.js';
import { isKeyless } from '../shared/record-summary.js';
import { fetchFleetCsr, fleetTargetOf } from './fleet-csr.js';
import { importCertificate } from '../shared/import-certificate.js';
import { vendorCompanion, vendorForRecord } from '../shared/vendor-identity.js';
import { mdmcertNextSteps, mdmcertPlan, requestMdmcertSigning } from '../shared/mdmcert-request.js';
import type { MdmcertPlan } from '../shared/mdmcert-request.js';
import { decryptMailed, openMailedRequest, reportChecks } from '../shared/mdmcert-decrypt.js';
import { custodyChange, rememberedAppleId } from '../shared/custody.js';
import type { CustodyChange, CustodyOptions } from '../shared/custody.js';

export interface RenewOptions extends CustodyOptions {
  name: string | undefined;
  appleId: string | undefined;
  csrOut: string | undefined;
  /** Where the vendor-signed request goes (a record signed via vendor). */
  requestOut?: string | undefined;
  reuseKey: boolean;
  yes: boolean;
  force: boolean;
  mdmcertApiKeyFile?: string | undefined;
  mdmcertUrl?: string | undefined;
  caFile?: string | undefined;
  /** A keyless record: the fleet target to ask for the CSR (needed when it has several). */
  target?: string | undefined;
}

export function defaultRenewCsrPath(name: string, now: Date): string {
  return `${name}-renew-${now.toISOString().slice(0, 10).replace(/-/g, '')}.csr.pem`;
}

export function defaultRenewRequestPath(name: string, now: Date): string {
  return `${name}-renew-${now.toISOString().slice(0, 10).replace(/-/g, '')}.request.b64`;
}

const mismatchDetails = [
  'This certificate was created with another Apple ID. Renewing under this one gives a NEW topic',
  '(unless the certificate was migrated to this account), and every enrolled device must then re-enroll.',
];

function describeRecord(record: PushRecord, now: Date): string {
  const active = activeCertificate(record)!;
  return `${record.name}  ${record.topic}  expires ${shortDate(active.notAfter)} (${daysText(daysRemaining(new Date(active.notAfter), now))})`;
}

/** Paths as people paste them: quotes from drag-and-drop, escaped spaces, a leading ~. */
export function cleanPath(raw: string, homedir: () => string): string {
  let path = raw.trim();
  if ((path.startsWith("'") && path.endsWith("'")) || (path.startsWith('"') && path.endsWith('"')))
    path = path.slice(1, -1);
  path = path.replace(/\\ /g, ' ');
  if (path === '~' || path.startsWith('~/')) path = homedir() + path.slice(1);
  return path;
}

async function certificateProblem(raw: string): Promise<true | string> {
  const path = cleanPath(raw, homedir);
  if (path === '') return 'Enter the path of the .pem file you downloaded from Apple.';
  try {
    const decoded = decodeCertificateFile(await readInputFile(path), path);
    if (!decoded.certificates.some((c) => c.topic !== null)) return `${path} has no push certificate (no topic in it).`;
    return true;
  } catch (caught) {
    const error = userError(caught, 'renew');
    return isAppError(error) ? error.message.replace(/^read /, 'Cannot read ') : String(error);
  }
}

function findRecord(index: StoreIndex, name: string, storeDir: string): PushRecord {
  const record = requireRecord(index, name, `renew ${name}`, storeDir);
  if (!isRenewable(record)) {
    const why =
      record.retiredAt !== null
        ? `it was retired on ${record.retiredAt}`
        : 'it has no certificate yet (nothing to renew)';
    throw new AppError('USAGE', `renew ${name}: ${why}`, {
      hint: `apns-cert csr --name ${name}   # then: apns-cert import <cert> --name ${name}`,
    });
  }
  return record;
}

export const renew: Runner<RenewOptions> = {
  async run(options: RenewOptions, deps: Deps) {
    const index = await deps.store.readOrFail();
    if (deps.interactive && !deps.out.json) return wizard(options, index, deps);
    return scripted(options, index, deps);
  },
};

async function scripted(options: RenewOptions, index: StoreIndex, deps: Deps): Promise<number> {
  const noPrompt = (what: string, flag: string, example: string) =>
    new AppError(
      'USAGE',
      `renew: ${what} is needed and there is no terminal to ask (or --json was given); pass ${flag}`,
      { hint: example },
    );
  if (options.name === undefined)
    throw noPrompt('the record to renew', '<name>', 'apns-cert renew <name> --apple-id <id> --csr-out <file>');
  const record = findRecord(index, options.name, deps.store.location);
  if (options.appleId === undefined)
    throw noPrompt(
      'the Apple ID',
      '--apple-id <id>',
      `apns-cert renew ${record.name} --apple-id <id> --csr-out <file>`,
    );
  const custody = custodyChange(options, options.appleId, `renew ${record.name}`, rememberHint(record.name));
  const matches = record.appleIdHash === null ? null : appleIdMatches(options.appleId, record.appleIdHash);
  if (matches === false && !options.yes) {
    throw new AppError(
      'APPLE_ID_MISMATCH',
      `renew ${record.name}: the Apple ID given is not the one recorded for this certificate`,
      {
        details: mismatchDetails,
        // neither the Apple ID nor anything derived from it: a hint ends up in logs and tickets
        hint: `apns-cert renew ${record.name} --apple-id <the same Apple ID> --yes   # only if the certificate was migrated to it`,
      },
    );
  }
  const { csrPath, requestPath, mdmcert } = await writeRenewalCsr(options, record, index, deps, custody);
  if (matches === false)
    deps.out.warn(`renewing "${record.name}" under an Apple ID that is not the recorded one (--yes)`);
  if (deps.out.json) {
    deps.out.document({
      name: record.name,
      topic: record.topic,
      csrPath,
      ...(requestPath === null ? {} : { requestPath }),
      appleIdMatches: matches,
      ...(mdmcert === undefined ? {} : { requestSent: true }),
    });
  } else if (mdmcert !== undefined) {
    deps.out.data(csrPath);
    deps.out.info(`Sent the CSR to mdmcert.download; the signed request is mailed to ${mdmcert.email}.`);
    for (const line of mdmcertNextSteps(record.name, mdmcert.email)) deps.out.info(line);
  } else {
    deps.out.data(requestPath ?? csrPath);
    if (requestPath !== null)
      deps.out.info(`Wrote the CSR to ${csrPath} and the vendor-signed request to ${requestPath}: upload the request.`);
    for (const line of portalSteps(requestPath ?? csrPath, record, { renewing: true, signed: requestPath !== null }))
      deps.out.info(line);
    deps.out.info(`Then: apns-cert import <the downloaded .pem> --name ${record.name}`);
    if (isKeyless(record))
      deps.out.info(`and: apns-cert deploy ${record.name}   # Fleet keeps the key; give it the certificate`);
  }
  return 0;
}

/**
 * The renewal's key and CSR; for a record signed via vendor also the signed request (the vendor checked first), for
 * one signed via mdmcert the sign request, sent as csr sends it.
 */
async function writeRenewalCsr(
  options: RenewOptions,
  record: PushRecord,
  index: StoreIndex,
  deps: Deps,
  custody: CustodyChange,
): Promise<{ csrPath: string; requestPath: string | null; mdmcert: MdmcertPlan | undefined }> {
  if (isKeyless(record)) return writeFleetCsr(options, record, index, deps, custody);
  const signing = record.signing;
  const vendor = await vendorForRecord(record, index, deps, `renew ${record.name}`);
  const mdmcert =
    signing.via === 'mdmcert'
      ? await mdmcertPlan(
          {
            name: record.name,
            email: signing.email,
            apiKeyFile: options.mdmcertApiKeyFile,
            url: options.mdmcertUrl,
            action: `renew ${record.name}`,
            retry: () => `apns-cert renew ${record.name} --apple-id <id>`,
          },
          deps,
        )
      : undefined;
  const requestOut = options.requestOut ?? defaultRenewRequestPath(record.name, deps.now());
  const companion = await vendorCompanion(vendor, requestOut, options.force, deps);
  const result = await makeCsr(
    {
      name: record.name,
      subject: validateCsrSubject({
        commonName: record.name,
        ...(signing.via === 'mdmcert' ? { email: signing.email } : {}),
      }),
      outPath: options.csrOut ?? defaultRenewCsrPath(record.name, deps.now()),
      outFlag: '--csr-out',
      force: options.force,
      appleId: options.appleId,
      reuseKey: options.reuseKey,
      custody,
      ...(companion === undefined ? {} : { companion }),
    },
    deps,
  );
  if (mdmcert !== undefined)
    await requestMdmcertSigning(mdmcert, { name: record.name, keyId: result.keyId, csrPem: result.csrPem }, deps);
  return { csrPath: result.csrPath, requestPath: result.companionPath, mdmcert };
}

/**
 * A keyless record's renewal: Fleet's CSR (Fleet keeps the key) written to the CSR path, the pending entry keyless;
 * a record signed via vendor also gets the vendor-signed request made from Fleet's CSR.
 */
async function writeFleetCsr(
  options: RenewOptions,
  record: PushRecord,
  index: StoreIndex,
  deps: Deps,
  custody: CustodyChange,
): Promise<{ csrPath: string; requestPath: string | null; mdmcert: undefined }> {
  const action = `renew ${record.name}`;
  const target = fleetTargetOf(record, options.target, action);
  if (options.reuseKey)
    throw new AppError('USAGE', `${action}: --reuse-key: Fleet keeps the key and makes the CSR itself`, {
      hint: `apns-cert renew ${record.name} --apple-id <id>`,
    });
  if (record.signing.via === 'mdmcert')
    throw new AppError(
      'USAGE',
      `${action}: a record signed via mdmcert.download cannot renew with Fleet's CSR (the answer is encrypted to a key made here, for a CSR made here)`,
      { hint: `apns-cert show ${record.name}   # renew it in Fleet's own settings instead` },
    );
  const vendor = await vendorForRecord(record, index, deps, action);
  const requestOut = options.requestOut ?? defaultRenewRequestPath(record.name, deps.now());
  const csrOut = options.csrOut ?? defaultRenewCsrPath(record.name, deps.now());
  await assertCanCreate(csrOut, { force: options.force, flag: '--csr-out', store: deps.store });
  const signer = await vendorCompanion(vendor, requestOut, options.force, deps);
  const fleetCsr = await fetchFleetCsr(record, index, target, deps, action);
  const given = fleetCsr.signedRequest;
  if (given !== undefined && signer !== undefined)
    deps.out.warn(`Fleet's answer is already a signed request: it is written as given, not signed again`);
  const companion =
    given !== undefined ? { path: requestOut, flag: '--request-out', make: () => Promise.resolve(given) } : signer;
  if (given !== undefined)
    await assertCanCreate(requestOut, { force: options.force, flag: '--request-out', store: deps.store });
  const result = await makeCsr(
    {
      name: record.name,
      subject: validateCsrSubject({ commonName: record.name }),
      outPath: csrOut,
      outFlag: '--csr-out',
      force: options.force,
      appleId: options.appleId,
      reuseKey: false,
      custody,
      external: fleetCsr,
      ...(companion === undefined ? {} : { companion }),
    },
    deps,
  );
  return { csrPath: result.csrPath, requestPath: result.companionPath, mdmcert: undefined };
}

async function chooseRecord(options: RenewOptions, index: StoreIndex, deps: Deps): Promise<PushRecord> {
  const now = deps.now();
  if (options.name !== undefined) {
    // Named on the command line: say what is being renewed before the first question.
    const record = findRecord(index, options.name, deps.store.location);
    const active = activeCertificate(record)!;
    deps.out.info(`Renewing ${record.name}`);
    deps.out.info(`  topic    ${record.topic}`);
    deps.out.info(
      `  expires  ${shortDate(active.notAfter)} (${daysText(daysRemaining(new Date(active.notAfter), now))})`,
    );
    return record;
  }
  const renewable = Object.values(index.records)
    .filter(isRenewable)
    .sort((a, b) => Date.parse(activeCertificate(a)!.notAfter) - Date.parse(activeCertificate(b)!.notAfter));
  if (renewable.length === 0) {
    throw new AppError('NOT_FOUND', `renew: no certificate to renew in the store ${deps.store.location}`, {
      hint: 'apns-cert csr --name <name>   # for a first certificate',
    });
  }
  if (renewable.length === 1) {
    const only = renewable[0]!;
    if (!(await deps.prompter.confirm(`Renew ${describeRecord(only, now)}?`, true)))
      throw new AppError('CANCELLED', 'renew: cancelled, nothing was changed');
    return only;
  }
  const s = deps.out.style;
  const choices: Array<Choice<PushRecord>> = renewable.map((record) => {
    const days = daysRemaining(new Date(activeCertificate(record)!.notAfter), now);
    const paint = days < 7 ? s.red : days < 30 ? s.yellow : (t: string) => t;
    return { name: paint(describeRecord(record, now)), value: record };
  });
  return deps.prompter.select('Which push certificate do you want to renew?', choices);
}

const rememberHint = (name: string) => `apns-cert renew ${name} --apple-id <id> --remember-apple-id`;

/** The same Apple ID as far as Apple is concerned (the hash compares it so too). */
const sameAppleId = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The Apple ID to renew with: --apple-id, else asked, the remembered one (--remember-apple-id, opened with the
 * master key) offered as the answer; then checked against the recorded hash as ever. Also what was remembered.
 */
async function askAppleId(
  options: RenewOptions,
  record: PushRecord,
  index: StoreIndex,
  deps: Deps,
): Promise<{ appleId: string; remembered: string | null }> {
  const remembered = await rememberedAppleId(deps.store, index, record);
  if (remembered !== null) deps.out.info(`Last renewed with Apple ID ${remembered} (remembered in the store).`);
  const appleId =
    options.appleId ??
    (await deps.prompter.input('Apple ID used for this push certificate:', {
      ...(remembered === null ? {} : { default: remembered }),
      validate: async (v) =>
        v.trim().includes('@') ? true : 'Enter the Apple ID (an e-mail address) that signs in to the portal.',
    }));
  if (record.appleIdHash === null) {
    deps.out.info(
      `No Apple ID is on record for "${record.name}"; this one will be remembered (as a salted hash only).`,
    );
  } else if (appleIdMatches(appleId, record.appleIdHash)) {
    deps.out.info(deps.out.style.green(`✓ This is the Apple ID recorded for "${record.name}".`));
  } else {
    deps.out.warn(`this is NOT the Apple ID recorded for "${record.name}".`);
    for (const line of mismatchDetails) deps.out.info(`  ${line}`);
    if (!options.yes && !(await deps.prompter.confirm('Renew under this Apple ID anyway?', false))) {
      throw new AppError(
        'APPLE_ID_MISMATCH',
        `renew ${record.name}: stopped, the Apple ID is not the recorded one; nothing was changed`,
        {
          hint: `apns-cert renew ${record.name}   # again, with the Apple ID that created the certificate`,
        },
      );
    }
  }
  return { appleId, remembered };
}

/**
 * --remember-apple-id; else, when the wizard asked for the Apple ID (no --apple-id: options decide then), asked:
 * unless this Apple ID is the one remembered already.
 */
async function askRemember(
  options: RenewOptions,
  appleId: string,
  remembered: string | null,
  deps: Deps,
): Promise<boolean> {
  if (options.rememberAppleId === true) return true;
  if (options.appleId !== undefined || (remembered !== null && sameAppleId(remembered, appleId))) return false;
  return deps.prompter.confirm('Remember this Apple ID for the next renewal? (kept sealed in the store)', false);
}

async function wizard(options: RenewOptions, index: StoreIndex, deps: Deps): Promise<number> {
  const record = await chooseRecord(options, index, deps);
  let resume = false;
  if (record.pendingKey !== null && !options.reuseKey) {
    const created = record.pendingKey.createdAt.slice(0, 16).replace('T', ' ');
    resume = await deps.prompter.select(
      `A renewal of "${record.name}" is in progress (CSR made ${created} UTC${record.pendingKey.csrPath ? `, ${record.pendingKey.csrPath}` : ''}).`,
      [
        { name: 'Continue: import the certificate downloaded from Apple', value: true },
        {
          name: isKeyless(record)
            ? "Start over: a new CSR from Fleet (Fleet may then no longer pair the old CSR's certificate with its key)"
            : 'Start over: new key and CSR (the old CSR can then no longer be used)',
          value: false,
        },
      ],
    );
  }

  // On a resumed renewal --remember-apple-id needs --apple-id (nothing is asked): kept with the import.
  const resumeCustody = resume
    ? custodyChange(options, options.appleId, `renew ${record.name}`, rememberHint(record.name))
    : undefined;
  if (!resume) {
    const { appleId, remembered } = await askAppleId(options, record, index, deps);
    const remember = await askRemember(options, appleId, remembered, deps);
    const custody = custodyChange(
      { ...options, rememberAppleId: remember },
      appleId,
      `renew ${record.name}`,
      rememberHint(record.name),
    );
    const { csrPath, requestPath, mdmcert } = await writeRenewalCsr(
      { ...options, appleId },
      record,
      index,
      deps,
      custody,
    );
    deps.out.info('');
    deps.out.info(`Wrote the CSR to ${csrPath}`);
    if (mdmcert !== undefined)
      deps.out.info(
        `Sent it to mdmcert.download: the signed request is mailed to ${mdmcert.email} (a file mdm_signed_request.<date>.plist.b64.p7).`,
      );
    else {
      if (requestPath !== null) deps.out.info(`Wrote the vendor-signed request to ${requestPath}: upload the request.`);
      for (const line of portalSteps(requestPath ?? csrPath, record, { renewing: true, signed: requestPath !== null }))
        deps.out.info(line);
    }
    deps.out.info(`(You can stop here and run \`apns-cert renew ${record.name}\` later to continue.)`);
    deps.out.info('');
  }
  if (record.signing.via === 'mdmcert') {
    const ok = await waitForMailedRequest(record, resume, options.caFile, deps);
    if (!ok) return 1;
  }

  const raw = await deps.prompter.input('Path of the certificate downloaded from Apple (.pem):', {
    validate: certificateProblem,
  });
  const path = cleanPath(raw, homedir);
  const decoded = decodeCertificateFile(await readInputFile(path), path);
  const previous = activeCertificate(record)!;
  let plan;
  try {
    plan = await importCertificate(
      {
        decoded,
        source: path,
        name: record.name,
        appleId: resumeCustody?.rememberAppleId,
        allowNewTopic: false,
        allowExpired: false,
        custody: resumeCustody,
        // A keyless renewal stays keyless without --no-key: planImport sees the pending entry is Fleet's CSR, and
        // refuses a certificate for another public key.
      },
      deps,
    );
  } catch (caught) {
    const error = userError(caught, 'renew');
    if (isAppError(error) && error.code === 'TOPIC_CHANGED') {
      throw new AppError('TOPIC_CHANGED', error.message, {
        details: [
          ...error.details,
          'What to do now:',
          `  1. In the portal, revoke the certificate whose topic is ${decoded.certificates.find((c) => c.topic)?.topic} (it was created by mistake).`,
          `  2. Renew the row whose topic is ${record.topic}, signed in with the Apple ID that created it.`,
          `  3. Run \`apns-cert renew ${record.name}\` again and choose "Continue" to import the right certificate.`,
        ],
        hint: `apns-cert show ${record.name}   # the current certificate stays active`,
      });
    }
    throw error;
  }
  for (const warning of plan.warnings) deps.out.warn(warning);
  const cert = plan.certificate;
  const days = daysRemaining(cert.notAfter, deps.now());
  const s = deps.out.style;
  deps.out.data(`${s.green('Renewed')} ${record.name}: same topic ${cert.topic} ${s.green('✓')}`);
  deps.out.data(`  not after: ${shortDate(previous.notAfter)} -> ${shortDate(cert.notAfter)} (${daysText(days)})`);
  if (plan.keySource === 'none')
    deps.out.info(
      `Give it to Fleet (it keeps the key): apns-cert deploy ${record.name}; enrolled devices keep answering.`,
    );
  else
    deps.out.info(
      'Install the renewed certificate (with its key) on your MDM server; enrolled devices keep answering.',
    );
  return 0;
}

/**
 * The wizard's stop for a `via: mdmcert` record: the path of the mailed file, decrypted and checked as
 * mdmcert-decrypt does, the request written beside the CSR and the portal steps for it. On a resumed renewal an
 * empty answer skips it (the request was already decrypted). False when a check failed.
 */
async function waitForMailedRequest(
  record: PushRecord,
  resumed: boolean,
  caFile: string | undefined,
  deps: Deps,
): Promise<boolean> {
  const raw = await deps.prompter.input(
    `Path of the file mailed by mdmcert.download${resumed ? ' (Enter: already decrypted and uploaded)' : ''}:`,
    {
      validate: async (value) => {
        const path = cleanPath(value, homedir);
        if (path === '') return resumed ? true : 'Enter the path of the .plist.b64.p7 file from the mail.';
        try {
          const index = await deps.store.readOrFail();
          await openMailedRequest(await readInputFile(path), path, record.name, index, deps);
          return true;
        } catch (caught) {
          const error = userError(caught, 'renew');
          return isAppError(error) ? error.message : String(error);
        }
      },
    },
  );
  const path = cleanPath(raw, homedir);
  if (path === '') return true;
  const result = await decryptMailed(
    { file: path, name: record.name, out: undefined, caFile, force: false },
    deps,
    (name) => defaultRenewCsrPath(name, deps.now()).replace(/\.csr\.pem$/, '.request.b64'),
  );
  deps.out.info(`Wrote the signed request to ${result.requestPath}`);
  reportChecks(result, deps);
  if (!result.ok) {
    deps.out.warn(`a check failed: do not upload ${result.requestPath} (kept so that it can be inspected)`);
    return false;
  }
  for (const line of portalSteps(result.requestPath, record, { renewing: true, signed: true })) deps.out.info(line);
  deps.out.info('');
  return true;
}
