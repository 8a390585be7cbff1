/** A minimal DER encoder: what a PKCS#10 request needs, nothing more. */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

export const sequence = (...items: Uint8Array[]) => tlv(0x30, Buffer.concat(items));
export const set = (...items: Uint8Array[]) => tlv(0x31, Buffer.concat(items));
export const nullValue = () => tlv(0x05, Buffer.alloc(0));
export const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
export const printableString = (text: string) => tlv(0x13, Buffer.from(text, 'ascii'));
export const ia5String = (text: string) => tlv(0x16, Buffer.from(text, 'ascii'));
/** BIT STRING with no unused bits. */
export const bitString = (bytes: Uint8Array) => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
/** [n] IMPLICIT/EXPLICIT constructed context tag. */
export const context = (n: number, ...items: Uint8Array[]) => tlv(0xa0 | n, Buffer.concat(items));

export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 127) throw new RangeError('smallInteger takes 0..127');
  return tlv(0x02, Buffer.from([n]));
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  if (parts.length < 2 || parts.some((p) => !Number.isInteger(p) || p < 0)) throw new RangeError(`bad OID ${dotted}`);
  const arcs = [parts[0]! * 40 + parts[1]!, ...parts.slice(2)];
  const out: number[] = [];
  for (const arc of arcs) {
    const bytes = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}
