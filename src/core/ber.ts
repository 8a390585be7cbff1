import { DerError } from './der.js';
import { tlv } from './der-encode.js';

/** Deeper than any CMS structure; bounds the recursion on hostile input. */
const MAX_DEPTH = 64;

function parse(buf: Buffer, offset: number, limit: number, depth: number): { encoded: Buffer; end: number } {
  if (depth > MAX_DEPTH) throw new DerError(`nested deeper than ${MAX_DEPTH} levels`);
  if (offset + 2 > limit) throw new DerError(`truncated header at byte ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported multi-byte tag at byte ${offset}`);
  const constructed = (tag & 0x20) !== 0;
  const first = buf[offset + 1]!;
  if (first === 0x80) {
    if (!constructed) throw new DerError(`indefinite length on a primitive value at byte ${offset}`);
    const parts: Buffer[] = [];
    let at = offset + 2;
    for (;;) {
      if (at + 2 > limit) throw new DerError(`no end-of-contents for the value at byte ${offset}`);
      if (buf[at] === 0 && buf[at + 1] === 0) break;
      const child = parse(buf, at, limit, depth + 1);
      parts.push(child.encoded);
      at = child.end;
    }
    return { encoded: tlv(tag, Buffer.concat(parts)), end: at + 2 };
  }
  let length = first;
  let valueStart = offset + 2;
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw new DerError(`length too large at byte ${offset}`);
    if (offset + 2 + count > limit) throw new DerError(`truncated length at byte ${offset}`);
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    valueStart += count;
  }
  const end = valueStart + length;
  if (end > limit) throw new DerError(`content runs past the end of its container at byte ${offset}`);
  if (!constructed) return { encoded: buf.subarray(offset, end), end };
  const parts: Buffer[] = [];
  for (let at = valueStart; at < end;) {
    const child = parse(buf, at, end, depth + 1);
    parts.push(child.encoded);
    at = child.end;
  }
  return { encoded: tlv(tag, Buffer.concat(parts)), end };
}

/**
 * One BER value (as `openssl cms -stream` writes it: indefinite lengths, end-of-contents markers) re-encoded with
 * definite lengths, so that the DER reader (der.ts) can walk it; DER comes out as it went in. Throws DerError,
 * also for bytes after the value.
 */
export function definiteLengths(ber: Uint8Array): Buffer {
  const buf = Buffer.from(ber.buffer, ber.byteOffset, ber.byteLength);
  const { encoded, end } = parse(buf, 0, buf.length, 0);
  if (end !== buf.length) throw new DerError('trailing bytes after the value');
  return Buffer.from(encoded);
}
