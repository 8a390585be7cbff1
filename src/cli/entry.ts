import { run } from './main.js';

/** The process boundary: the only place that sets the exit code of the process. */
export async function main(): Promise<void> {
  const code = await run({ argv: process.argv, env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  // Let stdout drain (pipes) before exiting; exit explicitly so a hung keychain call cannot keep us alive.
  if (process.stdout.writableNeedDrain) await new Promise((resolve) => process.stdout.once('drain', resolve));
  process.exit(code);
}
