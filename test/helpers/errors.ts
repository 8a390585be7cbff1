import { AppError } from '../../src/errors.js';
import { userError } from '../../src/commands/shared/errors.js';

/** The error `fn` throws as a command shows it (core errors through the mapper, for `command`), or undefined. */
export function userErrorOf(fn: () => unknown, command = 'import'): AppError | undefined {
  try {
    fn();
  } catch (error) {
    const shown = userError(error, command);
    if (shown instanceof AppError) return shown;
    throw error;
  }
  return undefined;
}

/** The AppError code that `fn` throws (a core error as a command maps it), or undefined when it returns; any other error is rethrown. */
export function codeOf(fn: () => unknown): string | undefined {
  return userErrorOf(fn)?.code;
}
