import { Command, CommanderError, Option } from 'commander';
import { AppError, ExitCode, isAppError } from '../errors.js';
import type { SecretBackendName } from '../core/index-model.js';
import { Output, useColor } from '../output/output.js';
import { FileStore } from '../store/file-store.js';
import { readInputFile } from '../store/files.js';
import { resolveStoreDir } from '../store/location.js';
import type { CommandModule, Deps } from '../commands/kit.js';
import { checkExpiry } from '../commands/check-expiry.js';
import { completion } from '../commands/completion.js';
import { csr } from '../commands/csr.js';
import { doctor } from '../commands/doctor.js';
import { exportCommand } from '../commands/export.js';
import { hash } from '../commands/hash.js';
import { importCommand } from '../commands/import.js';
import { inspect } from '../commands/inspect.js';
import { list } from '../commands/list.js';
import { probe } from '../commands/probe.js';
import { renew } from '../commands/renew.js';
import { retire } from '../commands/retire.js';
import { show } from '../commands/show.js';
import { vendorSign } from '../commands/vendor-sign.js';
import { verify } from '../commands/verify.js';
import { inquirerPrompter, promptPassword } from './prompts.js';
import { VERSION } from './version.js';

interface GlobalOptions {
  store?: string;
  json: boolean;
  color: boolean;
  quiet: boolean;
  secretBackend?: SecretBackendName;
  passphraseFile?: string;
}

export interface Io {
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

const COMMANDS: Array<CommandModule<never>> = [csr, importCommand, renew, retire, exportCommand, vendorSign, inspect, hash, verify, checkExpiry, list, show, doctor, probe, completion] as Array<CommandModule<never>>;

function envMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

async function makeDeps(globals: GlobalOptions, io: Io, out: Output): Promise<Deps> {
  const store = new FileStore(await resolveStoreDir(globals.store, io.env), { lockWaitMs: envMs(io.env, 'APNS_CERT_LOCK_WAIT_MS', 10_000) });
  const interactive = Boolean(io.stdin.isTTY && io.stderr.isTTY) && !globals.json;
  const { passphraseSource, PassphraseVault } = await import('../secrets/passphrase.js');
  const passphrase = passphraseSource({
    file: globals.passphraseFile,
    env: io.env,
    interactive,
    prompt: (message) => promptPassword(message, io.stderr),
  });
  const envBackend = io.env.APNS_CERT_SECRET_BACKEND;
  if (envBackend !== undefined && envBackend !== '' && envBackend !== 'keychain' && envBackend !== 'passphrase') {
    throw new AppError('USAGE', `read APNS_CERT_SECRET_BACKEND: "${envBackend}" is not keychain or passphrase`, { hint: 'export APNS_CERT_SECRET_BACKEND=passphrase' });
  }
  const backendForNewStore: SecretBackendName =
    globals.secretBackend ?? (envBackend as SecretBackendName | undefined) ?? (passphrase.given ? 'passphrase' : 'keychain');
  const keychainTimeout = envMs(io.env, 'APNS_CERT_KEYCHAIN_TIMEOUT_MS', 10_000);
  return {
    store,
    backendForNewStore,
    vaults: (backend) => {
      if (backend === 'passphrase') return new PassphraseVault(store, passphrase);
      return new KeychainVaultProxy(keychainTimeout);
    },
    now: () => new Date(),
    out,
    readInput: (path) => readInputFile(path, io.stdin),
    interactive,
    prompter: inquirerPrompter(io.stderr),
    env: io.env,
  };
}

/** Loads the keychain binding only when a keychain store is actually opened. */
class KeychainVaultProxy {
  readonly backend = 'keychain' as const;
  constructor(private readonly timeoutMs: number) {}
  private async vault() {
    const { KeychainVault } = await import('../secrets/keychain.js');
    return new KeychainVault(this.timeoutMs);
  }
  async load(storeId: string) {
    return (await this.vault()).load(storeId);
  }
  async save(storeId: string, key: Buffer) {
    return (await this.vault()).save(storeId, key);
  }
}

function reportError(error: unknown, out: Output, env: NodeJS.ProcessEnv): number {
  const debug = env.APNS_CERT_DEBUG === '1';
  if (isAppError(error)) {
    out.error(`apns-cert: ${error.message}`);
    for (const line of error.details) out.error(line);
    if (error.hint !== undefined) out.error(`hint: ${error.hint}`);
    if (debug && error.stack) out.error(error.stack);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.error(`apns-cert: internal error: ${message}`);
  if (debug && error instanceof Error && error.stack) out.error(error.stack);
  else out.error('hint: APNS_CERT_DEBUG=1 apns-cert ...   # rerun for a stack trace, and report it');
  return ExitCode.software;
}

/** Builds the program, runs one command, returns the exit code. Never calls process.exit. */
export async function run(io: Io): Promise<number> {
  const program = new Command('apns-cert');
  let exitCode: number = ExitCode.ok;
  let active: CommandModule<never> | undefined;
  let out = new Output({ json: false, quiet: false, color: false, stdout: io.stdout, stderr: io.stderr });

  program
    .description('Own the whole life of an APNs push certificate: CSR, import with topic check, expiry monitoring.')
    .version(VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--store <dir>', 'store directory (default: $APNS_CERT_STORE, else the platform data directory)')
    .option('--json', 'machine-readable output on stdout', false)
    .option('--no-color', 'no colors (also off when not a TTY or under NO_COLOR)')
    .option('-q, --quiet', 'no messages; check-expiry prints nothing when all is OK', false)
    .addOption(new Option('--secret-backend <backend>', 'secret backend for a NEW store (default: $APNS_CERT_SECRET_BACKEND, else keychain)').choices(['keychain', 'passphrase']))
    .option('--passphrase-file <file>', 'passphrase for the passphrase backend (else $APNS_CERT_PASSPHRASE, else a prompt)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`apns-cert: ${text.replace(/^error: /, '')}`),
    })
    .addHelpText('after', `
EXIT CODES
  0    success           1    a check came out negative (topic changed, verify failed)
  64   usage error       65   bad input data / damaged index    66   input file missing
  69   secret store unavailable   70   internal error   73   cannot write output
  75   store busy (locked)        77   wrong passphrase / password   130  cancelled
  check-expiry uses Nagios codes instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

EXAMPLES
  apns-cert csr --name acme-prod --email mdm@acme.example
  apns-cert import ~/Downloads/MDM_Certificate.pem --name acme-prod
  apns-cert check-expiry -q
  apns-cert <command> --help
`);

  for (const mod of COMMANDS) {
    const command = mod.define(program);
    command.exitOverride();
    command.action(async function (this: Command) {
      active = mod;
      const globals = program.opts<GlobalOptions>();
      out = new Output({
        json: globals.json,
        quiet: globals.quiet,
        color: useColor({ isTTY: Boolean(io.stdout.isTTY), env: io.env, noColorFlag: !globals.color, json: globals.json }),
        stdout: io.stdout,
        stderr: io.stderr,
      });
      const deps = await makeDeps(globals, io, out);
      exitCode = await mod.run(mod.options(this), deps);
    });
  }

  try {
    await program.parseAsync(io.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
      const usageExit = commandFor(io.argv)?.errorExitCode ?? ExitCode.usage;
      return error.exitCode === 0 ? ExitCode.ok : usageExit;
    }
    const code = reportError(error, out, io.env);
    if (active?.errorExitCode !== undefined && code !== ExitCode.cancelled) return active.errorExitCode;
    return code;
  }
  return exitCode;
}

function commandFor(argv: string[]): CommandModule<never> | undefined {
  return argv.includes('check-expiry') ? checkExpiry as CommandModule<never> : undefined;
}
