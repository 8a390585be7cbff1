import { BadName } from './errors.js';

/**
 * The rule for record names, the same for every command that takes one: a name becomes part of file names
 * (`<name>.csr.pem`) and of messages, so it is plain ASCII with no separators or control characters.
 */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const NAME_RULE = 'names are 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit';

/** Why `name` is not a record name, or null when it is one. */
export function nameProblem(name: string): string | null {
  if (NAME_RE.test(name)) return null;
  // argv that is not valid UTF-8 reaches us with U+FFFD in place of each bad byte
  if (name.includes('\uFFFD')) return `it is not valid UTF-8; ${NAME_RULE}`;
  return NAME_RULE;
}

export function validateName(name: string): string {
  const problem = nameProblem(name);
  if (problem !== null) throw new BadName(name, problem);
  return name;
}
