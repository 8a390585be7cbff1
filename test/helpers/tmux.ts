/**
 * A real pseudo-terminal for interactive tests: tmux runs the command, send-keys types, capture-pane reads.
 * Waits poll the screen (bounded); nothing here measures time.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';

export const tmuxAvailable = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export class Terminal {
  readonly session = `apns-cert-${randomUUID().slice(0, 8)}`;
  // A server per terminal: close() kills it, and a next terminal on a shared socket could race its shutdown
  // ("server exited unexpectedly").
  private readonly socket = `apns-cert-test-${process.pid}-${this.session}`;

  constructor(command: string, env: NodeJS.ProcessEnv, cwd: string) {
    const exports = Object.entries(env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${shellQuote(v!)}`)
      .join(' ');
    // Keep the pane open after exit so the exit code and last screen can be read.
    const script = `cd ${shellQuote(cwd)} && env -i ${exports} ${command}; echo "[exit $?]"; sleep 600`;
    this.tmux('new-session', '-d', '-s', this.session, '-x', '160', '-y', '50', 'bash', '-c', script);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-t', this.session, '-S', '-200');
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  type(text: string): void {
    this.tmux('send-keys', '-t', this.session, '-l', text);
  }

  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.session, ...keys);
  }

  async exitCode(): Promise<number> {
    const text = await this.waitFor(/\[exit \d+\]/);
    return Number(/\[exit (\d+)\]/.exec(text)![1]);
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
