/** Where a private key lives in the store, relative to its directory. */
export function keyPath(keyId: string): string {
  return `keys/${keyId}.key`;
}
