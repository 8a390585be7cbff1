import { NotUtf8 } from './errors.js';

/**
 * Text that arrived decoded (argv, the environment, a terminal) has U+FFFD where its bytes were not UTF-8:
 * two different invalid inputs would then be the same secret or the same Apple ID. Refused (64).
 */
export function rejectReplacementCharacter(text: string, what: string): string {
  if (text.includes('\uFFFD')) {
    throw new NotUtf8(what, true);
  }
  return text;
}

/** Bytes that must be UTF-8 (a secret file): decoded strictly, never with replacement characters. */
export function decodeUtf8Strictly(bytes: Uint8Array, what: string): string {
  try {
    return rejectReplacementCharacter(new TextDecoder('utf-8', { fatal: true }).decode(bytes), what);
  } catch (error) {
    if (error instanceof NotUtf8) throw error;
    throw new NotUtf8(what, false);
  }
}
