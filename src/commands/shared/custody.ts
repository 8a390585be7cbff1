import { randomBytes } from 'node:crypto';
import { AppError } from '../../errors.js';
import type { PushRecord, StoreIndex } from '../../core/index-model.js';
import { rejectReplacementCharacter } from '../../core/utf8.js';
import type { StoreChange, Store } from '../../store/store.js';

/**
 * Custody of a record: who owns it and a note (plain text in the index, for check-expiry without the master key),
 * and with `--remember-apple-id` the Apple ID itself, sealed under the master key as a secret of kind `apple-id`
 * beside the salted hash that checks it.
 */
export interface CustodyOptions {
  /** "" clears it; undefined leaves it as it is. */
  owner?: string | undefined;
  note?: string | undefined;
  rememberAppleId?: boolean | undefined;
}

/** What a change is to keep: the Apple ID to seal (when remembered), owner and note as given. */
export interface CustodyChange {
  owner: string | undefined;
  note: string | undefined;
  /** The Apple ID to remember (sealed), or undefined. */
  rememberAppleId: string | undefined;
}

/**
 * The custody change of a command's options, checked before anything is done: --remember-apple-id needs the Apple
 * ID (64 with `retry`, a command line that gives it, as the hint).
 */
export function custodyChange(
  options: CustodyOptions,
  appleId: string | undefined,
  action: string,
  retry: string,
): CustodyChange {
  if (options.rememberAppleId === true && appleId === undefined)
    throw new AppError('USAGE', `${action}: --remember-apple-id needs the Apple ID, and none was given`, {
      hint: retry,
    });
  if (appleId !== undefined) rejectReplacementCharacter(appleId, 'the Apple ID');
  return {
    owner: options.owner,
    note: options.note,
    rememberAppleId: options.rememberAppleId === true ? appleId!.trim() : undefined,
  };
}

/**
 * Applies `change` to `record` within `tx` (before its commit): owner and note, and a remembered Apple ID sealed
 * as a new secret. Returns the id of the secret it replaces, which the caller removes after the commit.
 */
export async function applyCustody(tx: StoreChange, record: PushRecord, change: CustodyChange): Promise<string | null> {
  if (change.owner !== undefined) record.owner = change.owner === '' ? null : change.owner;
  if (change.note !== undefined) record.note = change.note === '' ? null : change.note;
  if (change.rememberAppleId === undefined) return null;
  const replaced = record.appleIdSecretId;
  const id = randomBytes(32).toString('hex');
  await tx.putSecret(id, Buffer.from(change.rememberAppleId, 'utf8'), 'apple-id');
  record.appleIdSecretId = id;
  return replaced;
}

/** The Apple ID remembered for `record` (opening the store's master key, which may prompt), or null when none is. */
export async function rememberedAppleId(store: Store, index: StoreIndex, record: PushRecord): Promise<string | null> {
  if (record.appleIdSecretId === null) return null;
  return (await store.secret(index, record.appleIdSecretId, 'apple-id')).toString('utf8');
}
