import { AppError } from '../../errors.js';
import { targetSecretId } from '../../core/index-model.js';
import type { ServerTarget, StoreIndex, Target } from '../../core/index-model.js';
import type { MdmResult } from '../../net/mdm/index.js';
import type { Deps } from '../kit.js';

export type MdmFailure = Exclude<MdmResult, { kind: 'ok' }>;

/** A target's sealed secret as text (a server's credential, a .p12 file's password); '' when it has none. */
export async function credentialOf(deps: Deps, index: StoreIndex, t: Target): Promise<string> {
  const id = targetSecretId(t);
  if (id === undefined) return '';
  const secret = await deps.store.secret(index, id, 'target-credential');
  const text = secret.toString('utf8').replace(/\r?\n$/, ''); // as README says: a trailing newline is dropped
  secret.fill(0);
  return text;
}

/** The cause of a failed call in words, with the server's own text (already cleared of the credential). */
export function causeOf(r: MdmFailure): string {
  switch (r.kind) {
    case 'unauthorized':
      return `the server refused the credential (HTTP ${r.status})`;
    case 'refused':
      return `HTTP ${r.status}${r.message !== '' ? `: ${r.message}` : ''}`;
    case 'not-supported':
      return `the server has no read-back (HTTP ${r.status}: an older version)`;
    case 'unreachable':
    case 'bad-answer':
    case 'not-sent':
      return r.cause;
  }
}

/**
 * A failed call as the error a command ends with: 77 when the server refused the credential, 69 when it could not
 * be reached (the cause names the host), 65 for any other answer.
 */
export function mdmFailureError(r: MdmFailure, action: string, t: ServerTarget, name: string): AppError {
  const cause = `${action}: the ${t.kind} target "${t.label}" (${t.url}): ${causeOf(r)}`;
  if (r.kind === 'unauthorized')
    return new AppError('CREDENTIAL_REFUSED', cause, {
      hint: `apns-cert target add ${name} --kind ${t.kind} --url ${t.url} --label ${t.label} --credential-file <file>   # after target remove ${name} ${t.label}`,
    });
  if (r.kind === 'unreachable')
    return new AppError('SERVICE_UNAVAILABLE', cause, { hint: `curl -sI ${t.url}   # is the server up?` });
  return new AppError('BAD_INPUT', cause, { hint: `apns-cert target list ${name}` });
}
