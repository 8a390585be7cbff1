import { fstatSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Tty from 'node:tty';
import { run } from './main.js';
import type { Sink } from './main.js';

/**
 * Whether a file descriptor is a terminal. Pipes, files and /dev/null (what cron and monitoring agents give)
 * are answered with a stat, so the tty module is only loaded when a terminal is likely.
 */
function isTerminal(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice() || st.rdev === statSync('/dev/null').rdev) return false;
  } catch {
    return false;
  }
  const tty = createRequire(import.meta.url)('node:tty') as typeof Tty;
  return tty.isatty(fd);
}

/** The process boundary: the only place that sets the exit code of the process. */
export async function main(): Promise<void> {
  let usedStdout = false;
  let closed = false;
  // A reader that goes away (`apns-cert list | head -1`) is not an error: the rest of the output is dropped
  // and the command finishes as it would have, with its own exit code.
  const withPipeGuard = (stream: NodeJS.WriteStream) => {
    if (stream.listenerCount('error') === 0) {
      stream.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error;
        closed = true;
      });
    }
    return stream;
  };
  const sink = (stream: () => NodeJS.WriteStream, onUse?: () => void): Sink => ({
    write: (text: string) => {
      if (closed) return false;
      onUse?.();
      return withPipeGuard(stream()).write(text);
    },
  });
  const code = await run({
    argv: process.argv,
    env: process.env,
    stdin: () => process.stdin,
    stderrStream: () => process.stderr,
    stdout: sink(() => process.stdout, () => (usedStdout = true)),
    stderr: sink(() => process.stderr),
    tty: { stdin: () => isTerminal(0), stdout: () => isTerminal(1), stderr: () => isTerminal(2) },
  });
  // Let a piped stdout drain before exiting; exit explicitly so a hung keychain call cannot keep us alive.
  if (usedStdout && !closed && process.stdout.writableNeedDrain) {
    await new Promise((resolve) => {
      process.stdout.once('drain', resolve);
      process.stdout.once('error', resolve);
    });
  }
  process.exit(code);
}
