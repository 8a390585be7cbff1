import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** Topic hash: lowercase hex SHA-256 of the topic's UTF-8 bytes (= `printf %s "$TOPIC" | sha256sum`). */
export function topicHash(topic: string): string {
  return createHash('sha256').update(topic, 'utf8').digest('hex');
}

const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

function normalizeAppleId(appleId: string): string {
  return appleId.trim().toLowerCase();
}

/**
 * Salted scrypt of the trimmed, lower-cased Apple ID, as `scrypt$N$r$p$<salt b64>$<hash b64>`.
 * The Apple ID itself is never stored.
 */
export function hashAppleId(appleId: string, salt: Uint8Array = randomBytes(16)): string {
  const hash = scryptSync(normalizeAppleId(appleId), salt, 32, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, Buffer.from(salt).toString('base64'), hash.toString('base64')].join('$');
}

/** True when `appleId` is the one `stored` was made from; false for another ID or a malformed hash. */
export function appleIdMatches(appleId: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  if (!Number.isInteger(N) || N > 1 << 20 || expected.length !== 32) return false;
  const actual = scryptSync(normalizeAppleId(appleId), salt, 32, { N, r, p });
  return timingSafeEqual(actual, expected);
}
