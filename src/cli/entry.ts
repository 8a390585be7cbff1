import { fstatSync, statSync, writeSync } from 'node:fs';
import type * as Tty from 'node:tty';
import { exitOnSignals } from './interrupt.js';
import { run } from './main.js';
import type { Sink } from './io.js';

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
  // This file runs only inside the CommonJS bundle (bin/apns-cert.cjs), whose require() this is; node:module's
  // createRequire would load node's ESM loader for nothing.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tty = require('node:tty') as typeof Tty;
  return tty.isatty(fd);
}

/**
 * Output goes straight to the file descriptor: creating process.stdout costs start-up time (it loads node's
 * streams). A descriptor that would block (a non-blocking pipe that is full) hands over to the stream.
 * A reader that goes away (`apns-cert list | head -1`) is not an error: the rest of the output is dropped and
 * the command finishes as it would have, with its own exit code. Messages (stderr) that cannot be written at
 * all (ENOSPC on /dev/full, EIO on a closed terminal) are dropped in the same way: they never change the exit code.
 */
class FdSink implements Sink {
  closed = false;
  private stream: NodeJS.WriteStream | undefined;

  constructor(
    private readonly fd: number,
    private readonly openStream: () => NodeJS.WriteStream,
    private readonly dropOnError = false,
  ) {}

  private gone(code: string | undefined): boolean {
    return code === 'EPIPE' || (this.dropOnError && code !== 'EAGAIN');
  }

  write(text: string): boolean {
    if (this.closed) return false;
    if (this.stream) return this.stream.write(text);
    let bytes = Buffer.from(text);
    try {
      while (bytes.length > 0) bytes = bytes.subarray(writeSync(this.fd, bytes));
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (this.gone(code)) {
        this.closed = true;
        return false;
      }
      if (code !== 'EAGAIN') throw error;
    }
    this.stream = this.openStream();
    this.stream.on('error', (error: NodeJS.ErrnoException) => {
      if (!this.gone(error.code)) throw error;
      this.closed = true;
    });
    return this.stream.write(bytes);
  }

  /** Waits until what went to the stream has been handed to the system. */
  async flush(): Promise<void> {
    const stream = this.stream;
    if (!stream || this.closed || !stream.writableNeedDrain) return;
    await new Promise((resolve) => {
      stream.once('drain', resolve);
      stream.once('error', resolve);
    });
  }
}

/** The process boundary: the only place that sets the exit code of the process. */
export async function main(): Promise<void> {
  const stdout = new FdSink(1, () => process.stdout);
  const stderr = new FdSink(2, () => process.stderr, true);
  // A command waiting on a hung keychain, the network or a lock still ends at once on Ctrl-C or kill.
  exitOnSignals(
    (text) => stderr.write(text),
    (code) => process.exit(code),
  );
  const code = await run({
    argv: process.argv,
    env: process.env,
    stdin: () => process.stdin,
    stderrStream: () => process.stderr,
    stdout,
    stderr,
    tty: { stdin: () => isTerminal(0), stdout: () => isTerminal(1), stderr: () => isTerminal(2) },
  });
  // Exit explicitly: whatever is still pending (an abandoned keychain process, a timer) ends with us.
  await Promise.all([stdout.flush(), stderr.flush()]);
  process.exit(code);
}

export { run } from './main.js';
