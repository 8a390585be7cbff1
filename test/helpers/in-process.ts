/**
 * Runs the CLI inside the test process: `run(io)` from src/cli/main.ts, the seam that entry.ts (the bundle's
 * process boundary) calls, with an Io made of strings. The real file store and the real passphrase vault do the
 * work; only what lives at the process boundary is not exercised: the bundle's start-up, exit-on-signal handlers
 * (entry.ts registers them, run() does not), process.exit and the file-descriptor sinks. Tests about those spawn
 * the bundle with runCli (test/helpers/cli.ts).
 *
 * Differences from runCli a test must know:
 * - The keychain backend cannot run here: its child process is a file of the bundle (dist/keychain-child.cjs),
 *   so a store on the keychain answers 69 "the keychain process ended". Give every store the passphrase backend
 *   (APNS_CERT_PASSPHRASE or APNS_CERT_SECRET_BACKEND=passphrase); keychain tests spawn.
 * - Code that reads the process rather than the Io sees the test process: os.homedir() (renew's `~/` paths, the
 *   default store directory; cleanEnv keeps the same HOME, so they agree), the prompts' stdin (only used on a
 *   terminal, which tty:false rules out), commander's NO_COLOR/FORCE_COLOR checks for help colouring.
 * - Relative paths resolve against process.cwd(). With `cwd`, the run is done in that directory
 *   (process.chdir, restored after); runs are serialized so no other in-process run sees that directory. Without
 *   it a relative path would land in the repository: pass absolute paths.
 * - `timeoutMs` gives up waiting (code null, like runCli's SIGKILL) but cannot stop the run.
 */
import { Readable, Writable } from 'node:stream';
import { run } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/main.js';
import { cleanEnv, tempDir } from './cli.js';
import type { CliResult } from './cli.js';

export interface InProcessOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
}

/** The environment when a test gives none: cleanEnv() with a store of its own on the passphrase backend. */
export function inProcessEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    APNS_CERT_STORE: tempDir(),
    APNS_CERT_SECRET_BACKEND: 'passphrase',
    APNS_CERT_PASSPHRASE: 'in-process',
    ...extra,
  });
}

let queue: Promise<unknown> = Promise.resolve();

export function runInProcess(args: string[], opts: InProcessOptions = {}): Promise<CliResult> {
  const result = queue.then(() => runNow(args, opts));
  queue = result.catch(() => undefined);
  return result;
}

async function runNow(args: string[], opts: InProcessOptions): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const stderrStream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      stderr += chunk.toString();
      done();
    },
  });
  const input = opts.input ?? '';
  const io: Io = {
    argv: ['node', 'apns-cert', ...args],
    // as spawn() does: a variable set to undefined is not in the child's environment
    env: Object.fromEntries(Object.entries(opts.env ?? inProcessEnv()).filter(([, v]) => v !== undefined)),
    stdin: () => Readable.from(input.length > 0 ? [Buffer.from(input)] : []) as unknown as NodeJS.ReadStream,
    stderrStream: () => stderrStream as unknown as NodeJS.WriteStream,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    tty: { stdin: () => false, stdout: () => false, stderr: () => false },
  };
  const previousCwd = process.cwd();
  if (opts.cwd !== undefined) process.chdir(opts.cwd);
  try {
    const running = run(io);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), opts.timeoutMs ?? 30_000);
    });
    const code = await Promise.race([running, timedOut]);
    clearTimeout(timer);
    return { code, stdout, stderr };
  } finally {
    if (opts.cwd !== undefined) process.chdir(previousCwd);
  }
}
