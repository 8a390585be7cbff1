import { AppError } from '../errors.js';
import { KEY_ID_RE } from '../core/index-model.js';

/**
 * Where a private key lives in the store, relative to its directory. The index is validated when read; this
 * check is the last line before a path is built from a key id, whatever its source.
 */
export function keyPath(keyId: string): string {
  if (!KEY_ID_RE.test(keyId))
    throw new AppError(
      'STORE_CORRUPT',
      `find the key ${JSON.stringify(keyId.slice(0, 80))}: not a key id (64 hex digits)`,
      { hint: 'apns-cert doctor --offline' },
    );
  return `keys/${keyId}.key`;
}
