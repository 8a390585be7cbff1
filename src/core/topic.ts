import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { SCRYPT_PARAMS, scryptMaxmem, validScryptParams } from './sealed.js';
import { rejectReplacementCharacter } from './utf8.js';

/** Topic hash: lowercase hex SHA-256 of the topic's UTF-8 bytes (= `printf %s "$TOPIC" | sha256sum`). */
export function topicHash(topic: string): string {
  return createHash('sha256').update(topic, 'utf8').digest('hex');
}

/** Invalid UTF-8 arrives as U+FFFD, which would make `adm\xffin` and `adm\xfein` the same Apple ID: refused (64). */
function normalizeAppleId(appleId: string): string {
  return rejectReplacementCharacter(appleId, 'the Apple ID').trim().toLowerCase();
}

/**
 * Salted scrypt of the trimmed, lower-cased Apple ID, as `scrypt$N$r$p$<salt b64>$<hash b64>`, with the
 * store's parameters (N=2^17 since issue 9; hashes made with N=2^14 carry theirs and still match).
 * The Apple ID itself is never stored.
 */
export function hashAppleId(appleId: string, salt: Uint8Array = randomBytes(16)): string {
  const { N, r, p } = SCRYPT_PARAMS;
  const hash = scryptSync(normalizeAppleId(appleId), salt, 32, { N, r, p, maxmem: scryptMaxmem(SCRYPT_PARAMS) });
  return ['scrypt', N, r, p, Buffer.from(salt).toString('base64'), hash.toString('base64')].join('$');
}

/** True when `appleId` is the one `stored` was made from; false for another ID or a malformed hash. */
export function appleIdMatches(appleId: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  const plain = normalizeAppleId(appleId);
  if (!validScryptParams({ N, r, p }) || expected.length !== 32) return false;
  const actual = scryptSync(plain, salt, 32, { N, r, p, maxmem: scryptMaxmem({ N, r, p }) });
  return timingSafeEqual(actual, expected);
}
