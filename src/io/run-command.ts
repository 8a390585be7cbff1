import { spawn } from 'node:child_process';

/** How a command ended: its exit status, the signal that ended it, killed at the time limit, or never started. */
export type CommandEnd =
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: string }
  | { kind: 'timed out'; afterMs: number }
  | { kind: 'not started'; cause: string };

export interface ShellRun {
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Receives the command's stdout and stderr, as text (never our stdout: that is data). */
  output: (text: string) => void;
}

/** After the command ends, how long output still held by a child it left running is waited for. */
const DRAIN_MS = 200;

/**
 * Runs `command` with `/bin/sh -c`, stdin from /dev/null, in a process group of its own; at `timeoutMs` the group
 * is killed (SIGKILL: nothing in it can stay behind), and it gets SIGTERM when apns-cert exits meanwhile (Ctrl-C,
 * SIGTERM: the group is not the terminal's, so only we can end it). Resolves when the shell ends (a child it left in the background is not
 * waited for).
 */
export function runShellCommand(command: string, run: ShellRun): Promise<CommandEnd> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      env: { ...run.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let timedOut = false;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group is gone already
      }
    };
    const endGroup = () => signalGroup('SIGTERM');
    process.on('exit', endGroup);
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGKILL');
    }, run.timeoutMs);
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => run.output(text));
    }
    child.on('error', (error) => {
      clearTimeout(timer);
      process.off('exit', endGroup);
      resolve({ kind: 'not started', cause: error.message });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('exit', endGroup);
      const end: CommandEnd = timedOut
        ? { kind: 'timed out', afterMs: run.timeoutMs }
        : code !== null
          ? { kind: 'exited', code }
          : { kind: 'signalled', signal: signal ?? 'unknown' };
      // what is still in the pipes is read, unless a child left behind keeps them open
      const drained = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve(end);
      }, DRAIN_MS);
      child.on('close', () => {
        clearTimeout(drained);
        resolve(end);
      });
    });
  });
}

/** What a command's end says, for a message: "exited 3", "was ended by SIGTERM", ... */
export function commandEndText(end: CommandEnd): string {
  switch (end.kind) {
    case 'exited':
      return `exited ${end.code}`;
    case 'signalled':
      return `was ended by ${end.signal}`;
    case 'timed out':
      return `did not end within ${end.afterMs < 1000 ? `${end.afterMs} ms` : `${Math.round(end.afterMs / 1000)} s`} and was killed`;
    case 'not started':
      return `could not be started (${end.cause})`;
  }
}
