import { isatty } from 'node:tty';
import { run } from './main.js';
import type { Sink } from './main.js';

/** The process boundary: the only place that sets the exit code of the process. */
export async function main(): Promise<void> {
  let usedStdout = false;
  const sink = (stream: () => NodeJS.WriteStream, onUse?: () => void): Sink => ({
    write: (text: string) => {
      onUse?.();
      return stream().write(text);
    },
  });
  const code = await run({
    argv: process.argv,
    env: process.env,
    stdin: () => process.stdin,
    stderrStream: () => process.stderr,
    stdout: sink(() => process.stdout, () => (usedStdout = true)),
    stderr: sink(() => process.stderr),
    tty: { stdin: isatty(0), stdout: isatty(1), stderr: isatty(2) },
  });
  // Let a piped stdout drain before exiting; exit explicitly so a hung keychain call cannot keep us alive.
  if (usedStdout && process.stdout.writableNeedDrain) await new Promise((resolve) => process.stdout.once('drain', resolve));
  process.exit(code);
}
