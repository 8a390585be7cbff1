import { dirname } from 'node:path';
import { AppError } from '../errors.js';

/** A command that shows why a write into `dir` failed, with what to do for the causes a user can fix. */
export function writeFailureHint(code: string | undefined, dir: string): string {
  switch (code) {
    case 'EROFS':
      return `${process.platform === 'linux' ? `findmnt -T ${dir}` : 'mount'}   # the file system is mounted read-only: remount it read-write, or choose another directory`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `df -h ${dir}   # no space left: free some, then run the command again`;
    default:
      return `ls -ld ${dir}`;
  }
}

/** A failed write (exit 73): "<action>: <cause>" and a hint for the directory it was written in. */
export function writeError(action: string, path: string, error: unknown): AppError {
  const code = (error as NodeJS.ErrnoException).code;
  const cause =
    code === 'ENOSPC'
      ? 'no space left on device'
      : code === 'EDQUOT'
        ? 'disk quota exceeded'
        : code === 'EROFS'
          ? 'read-only file system'
          : (error as Error).message;
  return new AppError('CANNOT_WRITE', `${action}: ${cause}`, {
    hint: writeFailureHint(code, dirname(path)),
    cause: error,
  });
}
