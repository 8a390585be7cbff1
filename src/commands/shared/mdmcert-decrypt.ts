import { AppError } from '../../errors.js';
import { checkPushRequest } from '../../core/request-checks.js';
import type { RequestCheck } from '../../core/request-checks.js';
import { pendingPublicKeyId } from '../../core/index-model.js';
import type { PushRecord, StoreIndex } from '../../core/index-model.js';
import {
  EnvelopeError,
  decryptEnvelope,
  parseEnvelope,
  readEnvelopeFile,
  recipientFor,
} from '../../core/pkcs7-envelope.js';
import type { ContentCipher, Envelope } from '../../core/pkcs7-envelope.js';
import { parsePushRequest } from '../../core/push-request.js';
import type { PushRequest } from '../../core/push-request.js';
import { resolve } from 'node:path';
import { assertCanCreate, writeOutputFile } from '../../io/files.js';
import type { Deps } from '../kit.js';
import { requireRecord } from './require-record.js';
import { printRequestChecks, readCaFile } from './request-checks.js';

export interface MailedRequest {
  record: PushRecord;
  /** The plaintext as mailed: the base64 PushCertificateRequest, to upload as it is. */
  text: Buffer;
  request: PushRequest;
  cipher: ContentCipher;
}

function damaged(source: string, error: EnvelopeError): AppError {
  return new AppError('BAD_INPUT', `decrypt ${source}: ${error.message}`, {
    details: ['mdmcert.download mails a file mdm_signed_request.<date>.plist.b64.p7: give that file as it came.'],
    hint: `apns-cert mdmcert-decrypt <the .plist.b64.p7 file from the mail>`,
  });
}

/** The envelope in the file; a damaged or foreign file is BAD_INPUT (65). */
function envelopeOf(bytes: Buffer, source: string): Envelope {
  try {
    return parseEnvelope(readEnvelopeFile(bytes));
  } catch (error) {
    if (error instanceof EnvelopeError) throw damaged(source, error);
    throw error;
  }
}

/**
 * Opens a file mailed by mdmcert.download: finds the record whose pending exchange certificate it is encrypted to
 * (`name`'s, or any record's), opens it with that exchange key from the store and parses the request inside.
 * A file for no pending request, or damaged, is BAD_INPUT (65); nothing is written.
 */
export async function openMailedRequest(
  bytes: Buffer,
  source: string,
  name: string | undefined,
  index: StoreIndex,
  deps: Deps,
): Promise<MailedRequest> {
  const envelope = envelopeOf(bytes, source);
  const candidates =
    name === undefined
      ? Object.values(index.records).filter((r) => r.pendingKey?.mdmcert !== undefined)
      : [requireRecord(index, name, `decrypt ${source}`, deps.store.location)];
  if (name !== undefined && candidates[0]!.pendingKey?.mdmcert === undefined)
    throw new AppError('BAD_INPUT', `decrypt ${source}: "${name}" has no request pending at mdmcert.download`, {
      hint: `apns-cert csr --name ${name} --via mdmcert --email <addr>`,
    });
  const record = candidates.find(
    (r) => recipientFor(envelope, Buffer.from(r.pendingKey!.mdmcert!.exchangeCertificate, 'base64')) !== null,
  );
  if (record === undefined)
    throw new AppError(
      'BAD_INPUT',
      `decrypt ${source}: it is not encrypted to ${name === undefined ? 'any request pending' : `the request of "${name}" pending`} in the store ${deps.store.location}`,
      {
        details: [
          'It was made for another request (an older one replaced since, or another store), or for another client.',
        ],
        hint: 'apns-cert list   # the records; a new request: apns-cert csr --name <name> --via mdmcert --email <addr>',
      },
    );
  const mdmcert = record.pendingKey!.mdmcert!;
  const key = await deps.store.privateKey(index, mdmcert.exchangeKeyId);
  let opened;
  try {
    opened = decryptEnvelope(bytes, Buffer.from(mdmcert.exchangeCertificate, 'base64'), key.key);
  } catch (error) {
    if (error instanceof EnvelopeError) throw damaged(source, error);
    throw error;
  }
  const request = parsePushRequest(opened.plaintext, `the request in ${source}`);
  return { record, text: opened.plaintext, request, cipher: opened.cipher };
}

export interface MdmcertDecryptOptions {
  file: string;
  name: string | undefined;
  out: string | undefined;
  caFile: string | undefined;
  force: boolean;
}

export interface DecryptedRequest {
  name: string;
  requestPath: string;
  /** verify's checks of a request for upload (src/core/request-checks.ts), with this record's pending key. */
  checks: RequestCheck[];
  ok: boolean;
}

/**
 * Decrypts the mailed file, writes the request (0644, as csr's) and checks it; nothing is written when the file
 * is damaged or for no pending request. Shared by mdmcert-decrypt and renew's wizard.
 */
export async function decryptMailed(
  options: MdmcertDecryptOptions,
  deps: Deps,
  defaultOut: (name: string) => string = (name) => `${name}.request.b64`,
): Promise<DecryptedRequest> {
  const extraRoots = await readCaFile(options.caFile, deps);
  if (options.out !== undefined)
    await assertCanCreate(options.out, { force: options.force, flag: '--out', store: deps.store });
  const index = await deps.store.readOrFail();
  const mailed = await openMailedRequest(await deps.readInput(options.file), options.file, options.name, index, deps);
  const out = options.out ?? defaultOut(mailed.record.name);
  const target = { force: options.force, flag: '--out', store: deps.store };
  await assertCanCreate(out, target);
  const { checks, ok } = checkPushRequest(mailed.text, {
    at: deps.now(),
    purpose: 'upload',
    extraRoots,
    source: options.file,
    ...(mailed.record.pendingKey === null ? {} : { pendingKeyId: pendingPublicKeyId(mailed.record.pendingKey) }),
  });
  await writeOutputFile(out, mailed.text, { ...target, mode: 0o644 });
  return { name: mailed.record.name, requestPath: resolve(out), checks, ok };
}

/** The checks, one line each, on stderr (as verify prints them). */
export function reportChecks(result: DecryptedRequest, deps: Deps): void {
  printRequestChecks(result.checks, deps.out);
}
