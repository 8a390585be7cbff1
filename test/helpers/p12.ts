import forge from 'node-forge';

/**
 * Rewrites every iteration count of a .p12 (each INTEGER that follows a salt OCTET STRING in a SEQUENCE: the
 * MAC, PBES2/PBKDF2 and PKCS#12 PBE parameters, inside nested DER too) to the given INTEGER content bytes,
 * e.g. 12 bytes `00…00 7fffffff`. Changing a bag breaks the MAC: craft bags in a file made with -nomac.
 */
export function withIterationBytes(p12: Uint8Array, integerContent: Uint8Array, only: 'mac' | 'all' = 'all'): Buffer {
  const { asn1 } = forge;
  const count = Buffer.from(integerContent).toString('binary');
  const visit = (node: forge.asn1.Asn1, depth: number): void => {
    if (!Array.isArray(node.value)) {
      if (
        node.type === asn1.Type.OCTETSTRING &&
        node.tagClass === asn1.Class.UNIVERSAL &&
        node.value.charCodeAt(0) === 0x30 &&
        only === 'all'
      ) {
        try {
          const inner = asn1.fromDer(node.value);
          visit(inner, depth + 1);
          node.value = asn1.toDer(inner).getBytes();
        } catch {
          // not DER inside: leave it
        }
      }
      return;
    }
    const parts = node.value;
    for (let i = 1; i < parts.length; i++) {
      if (
        parts[i - 1]!.type === asn1.Type.OCTETSTRING &&
        parts[i]!.type === asn1.Type.INTEGER &&
        (only === 'all' || depth === 0)
      )
        parts[i]!.value = count;
    }
    for (const part of parts) visit(part, depth);
  };
  const root = asn1.fromDer(Buffer.from(p12).toString('binary'));
  visit(root, 0);
  return Buffer.from(asn1.toDer(root).getBytes(), 'binary');
}

/** INTEGER content `00 00 00 00 00 00 00 00 7f ff ff ff`: 2^31−1 in 12 bytes. */
export const PADDED_INT_MAX = Buffer.from('0000000000000000' + '7fffffff', 'hex');
