import { join } from 'node:path';
import { AppError } from '../errors.js';
import type { AuditNotes, Deps, Settings } from '../commands/kit.js';
import type { SecretBackendName } from '../core/index-model.js';
import type { Output } from '../output/output.js';
import { readInputFile } from '../io/files.js';
import { FileStore } from '../store/file/file-store.js';
import { postgresStoreUrl, resolveStoreDir } from '../store/location.js';
import type { Store } from '../store/store.js';
import type { KdfUpgrade, MasterKeyVault, VaultDocument } from '../store/vault.js';
import type { Io } from './io.js';
import { onInterrupt } from './interrupt.js';
import { inquirerPrompter, promptPassword } from './prompts.js';

export interface GlobalOptions {
  store?: string;
  json: boolean;
  color: boolean;
  quiet: boolean;
  secretBackend?: SecretBackendName;
  passphraseFile?: string;
  /** --remember: keep a PostgreSQL store's unwrapped master key in the OS keychain. */
  remember?: boolean;
}

function envMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

/** Everything apns-cert takes from the environment, read here once: commands get `Settings`, never the environment. */
export interface EnvSettings extends Settings {
  /** $APNS_CERT_LOCK_WAIT_MS: how long to wait for another process's store lock. */
  lockWaitMs: number;
  /** $APNS_CERT_KEYCHAIN_TIMEOUT_MS: how long one keychain call may take. */
  keychainTimeoutMs: number;
  /** $APNS_CERT_PASSPHRASE (empty: not set). */
  passphrase: string | undefined;
  /** $APNS_CERT_SECRET_BACKEND (empty: not set). */
  secretBackend: SecretBackendName | undefined;
}

const nonEmpty = (value: string | undefined) => (value === '' ? undefined : value);

/** Variables that hold apns-cert's secrets: a command it runs (deploy --after) does not get them. */
const SECRET_VARIABLES = new Set(['APNS_CERT_PASSPHRASE', 'APNS_CERT_P12_PASSWORD', 'APNS_CERT_MDMCERT_API_KEY']);

function childEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !SECRET_VARIABLES.has(e[0])),
  );
}

export function readSettings(env: NodeJS.ProcessEnv): EnvSettings {
  const backend = nonEmpty(env.APNS_CERT_SECRET_BACKEND);
  if (backend !== undefined && backend !== 'keychain' && backend !== 'passphrase') {
    throw new AppError('USAGE', `read APNS_CERT_SECRET_BACKEND: "${backend}" is not keychain or passphrase`, {
      hint: 'export APNS_CERT_SECRET_BACKEND=passphrase',
    });
  }
  return {
    lockWaitMs: envMs(env, 'APNS_CERT_LOCK_WAIT_MS', 10_000),
    keychainTimeoutMs: envMs(env, 'APNS_CERT_KEYCHAIN_TIMEOUT_MS', 10_000),
    probeTimeoutMs: envMs(env, 'APNS_CERT_PROBE_TIMEOUT_MS', 10_000),
    notifyTimeoutMs: envMs(env, 'APNS_CERT_NOTIFY_TIMEOUT_MS', 10_000),
    notifyUrl: nonEmpty(env.APNS_CERT_NOTIFY_URL),
    mdmcertApiKey: nonEmpty(env.APNS_CERT_MDMCERT_API_KEY),
    mdmcertUrl: nonEmpty(env.APNS_CERT_MDMCERT_URL),
    mdmcertTimeoutMs: envMs(env, 'APNS_CERT_MDMCERT_TIMEOUT_MS', 10_000),
    deployTimeoutMs: envMs(env, 'APNS_CERT_DEPLOY_TIMEOUT_MS', 10_000),
    afterTimeoutMs: envMs(env, 'APNS_CERT_AFTER_TIMEOUT_MS', 60_000),
    childEnvironment: childEnvironment(env),
    passphrase: nonEmpty(env.APNS_CERT_PASSPHRASE),
    p12Password: env.APNS_CERT_P12_PASSWORD,
    secretBackend: backend,
  };
}

/** A vault whose module (and, for the keychain, native binding) is loaded on first use only. */
class LazyVault implements MasterKeyVault {
  private vault: Promise<MasterKeyVault> | undefined;
  constructor(
    readonly backend: SecretBackendName,
    private readonly create: () => Promise<MasterKeyVault>,
  ) {}
  private get(): Promise<MasterKeyVault> {
    this.vault ??= this.create();
    return this.vault;
  }
  async load(storeId: string): Promise<Buffer> {
    return (await this.get()).load(storeId);
  }
  async save(storeId: string, masterKey: Buffer): Promise<void> {
    return (await this.get()).save(storeId, masterKey);
  }
  async upgrade(): Promise<KdfUpgrade | null> {
    return (await this.get()).upgrade();
  }
}

/** The real world for the commands: the store on disk, the OS keychain or a passphrase, the terminal. */
export async function makeDeps(globals: GlobalOptions, io: Io, out: Output, audit: AuditNotes): Promise<Deps> {
  const settings = readSettings(io.env);
  let interactiveAnswer: boolean | undefined;
  const interactive = () => (interactiveAnswer ??= !globals.json && io.tty.stdin() && io.tty.stderr());
  const passphraseGiven = globals.passphraseFile !== undefined || settings.passphrase !== undefined;
  const backendForNewStore: SecretBackendName =
    globals.secretBackend ?? settings.secretBackend ?? (passphraseGiven ? 'passphrase' : 'keychain');
  const keychain = async () => {
    const { KeychainVault } = await import('../secrets/keychain.js');
    // __dirname is dist/ (this runs only inside the bundle), where the build puts the keychain process, which
    // gets the environment as it is (the session bus address, HOME) to find the keychain.
    return new KeychainVault(settings.keychainTimeoutMs, join(__dirname, 'keychain-child.cjs'), io.env);
  };
  // The store asks once per backend.
  const vaults = (backend: SecretBackendName, document: VaultDocument): MasterKeyVault =>
    backend === 'passphrase'
      ? new LazyVault('passphrase', async () => {
          const { passphraseSource, PassphraseVault } = await import('../secrets/passphrase.js');
          const source = passphraseSource({
            file: globals.passphraseFile,
            env: settings.passphrase,
            interactive: interactive(),
            prompt: (message) => promptPassword(message, io.stderrStream()),
          });
          return new PassphraseVault(document, source);
        })
      : new LazyVault('keychain', keychain);
  /** The store at `location` (a directory or a PostgreSQL URL), as --store would name it. */
  const openStore = async (location: string | undefined): Promise<Store> => {
    const url = postgresStoreUrl(location, io.env);
    if (url !== undefined) {
      const { parsePostgresUrl } = await import('../store/postgres/url.js');
      const address = parsePostgresUrl(url, io.env);
      const { PostgresStore } = await import('../store/postgres/postgres-store.js');
      // the team passphrase, tried after the admin's OS keychain when it may have the key (--remember, or a prompt to spare)
      const tryKeychain = globals.remember === true || !passphraseGiven;
      return new PostgresStore(address, {
        env: io.env,
        lockWaitMs: settings.lockWaitMs,
        now: () => new Date(),
        vault: (document) => {
          const passphrase = vaults('passphrase', document);
          if (!tryKeychain) return passphrase;
          return new LazyVault('passphrase', async () => {
            const { RememberedVault } = await import('../secrets/remembered.js');
            return new RememberedVault(passphrase, keychain, globals.remember === true, (line) => out.warn(line));
          });
        },
      });
    }
    return new FileStore(resolveStoreDir(location, io.env), {
      lockWaitMs: settings.lockWaitMs,
      onInterrupt,
      vaults,
      backendForNewStore,
      now: () => new Date(),
    });
  };
  const store = await openStore(globals.store);
  return {
    store,
    openStore,
    now: () => new Date(),
    out,
    readInput: (path) => readInputFile(path, io.stdin),
    get interactive() {
      return interactive();
    },
    prompter: inquirerPrompter(io.stderrStream, (text) => out.terminalText(text)),
    settings,
    audit,
  };
}
