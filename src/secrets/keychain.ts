import { spawn } from 'node:child_process';
import { AppError } from '../errors.js';
import type { MasterKeyVault } from '../store/vault.js';

export const KEYCHAIN_SERVICE = 'apns-cert';

/** What the CLI asks the keychain process (src/secrets/keychain-child.ts), and what it answers. */
export type KeychainRequest = { service: string; account: string } & ({ op: 'load' } | { op: 'save'; secret: string });
export type KeychainAnswer = { ok: true; secret: string | null } | { ok: false; error: string };

const unavailable = (cause: string) =>
  new AppError('SECRETS_UNAVAILABLE', `reach the OS keychain: ${cause}`, {
    hint: 'APNS_CERT_PASSPHRASE=... apns-cert --secret-backend passphrase <command>   # headless machines: a new store with the passphrase backend',
    details:
      process.platform === 'linux'
        ? [
            'On Linux the keychain is the Secret Service (gnome-keyring, KeePassXC...) on the D-Bus session bus; it must be running and unlocked.',
          ]
        : [],
  });

/** Rejects with exit 69 when `work` has not settled within `ms`; `onTimeout` abandons the work. */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => void = () => undefined): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(
        unavailable(
          `the keychain did not answer within ${Math.round(ms / 100) / 10} s (is the Secret Service hung or locked?)`,
        ),
      );
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describe(message: string): string {
  const cause = message.replace(/^Platform failure: /, '');
  if (/Did not receive a reply/i.test(cause))
    return 'the Secret Service did not answer (is it hung or waiting for an unlock prompt?)';
  return cause;
}

/**
 * The OS keychain via @napi-rs/keyring (service "apns-cert", account "store-<id>"), one process per call.
 * The binding blocks the thread that calls it until D-Bus answers, and a hung bus never answers (a stopped
 * daemon, a socket that accepts and is silent): in this process that would stop the timer, the signal handlers
 * and exit() itself (exit waits for a worker thread stuck in native code). A child process can be killed
 * whatever it is stuck in: it is killed after `timeoutMs`, and when this process exits for any reason.
 */
export class KeychainVault implements MasterKeyVault {
  readonly backend = 'keychain' as const;
  constructor(
    private readonly timeoutMs: number,
    /** dist/keychain-child.cjs, built from src/secrets/keychain-child.ts. */
    private readonly childPath: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  private ask(request: KeychainRequest): Promise<string | null> {
    const child = spawn(process.execPath, [this.childPath], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    const answer = new Promise<string | null>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(0, 4096)));
      child.on('error', (error) => reject(unavailable(`start ${this.childPath}: ${error.message}`)));
      child.on('close', (code, signal) => {
        let parsed: KeychainAnswer | undefined;
        try {
          parsed = JSON.parse(stdout) as KeychainAnswer;
        } catch {
          const why = stderr.trim().split('\n')[0] ?? '';
          reject(
            unavailable(
              `the keychain process ended (${signal ?? `exit ${code}`}) without an answer${why === '' ? '' : `: ${why}`}`,
            ),
          );
          return;
        }
        if (parsed.ok) resolve(parsed.secret);
        else reject(unavailable(describe(parsed.error)));
      });
      // Kept open until the answer: the child ends itself when it closes (this process is gone).
      child.stdin.on('error', () => undefined);
      child.stdin.write(`${JSON.stringify(request)}\n`);
    });
    return withTimeout(answer, this.timeoutMs, kill).finally(() => {
      process.off('exit', kill);
      kill();
    });
  }

  /** The master key kept for this store id, or null when the keychain has none (an unreachable keychain: 69). */
  async find(storeId: string): Promise<Buffer | null> {
    const secret = await this.ask({ op: 'load', service: KEYCHAIN_SERVICE, account: `store-${storeId}` });
    return secret === null ? null : Buffer.from(secret, 'base64');
  }

  async load(storeId: string): Promise<Buffer> {
    const key = await this.find(storeId);
    if (key === null) {
      throw new AppError(
        'SECRETS_UNAVAILABLE',
        `read the master key of this store: the keychain has no entry "${KEYCHAIN_SERVICE}" / "store-${storeId}"`,
        {
          hint: 'use the keychain of the account that created the store',
        },
      );
    }
    return key;
  }

  /** The keychain keeps the master key itself, with no key derivation: nothing to upgrade. */
  async upgrade(): Promise<null> {
    return null;
  }

  async save(storeId: string, masterKey: Buffer): Promise<void> {
    await this.ask({
      op: 'save',
      service: KEYCHAIN_SERVICE,
      account: `store-${storeId}`,
      secret: masterKey.toString('base64'),
    });
  }
}
