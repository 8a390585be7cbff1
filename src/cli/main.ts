import { Command, CommanderError, Option } from 'commander';
import { ExitCode, isAppError } from '../errors.js';
import { Output, colorStyle, escapeControl, plainStyle, useColor } from '../output/output.js';
import { checkExpiry } from '../commands/check-expiry/definition.js';
import { completion } from '../commands/completion/definition.js';
import { csr } from '../commands/csr/definition.js';
import { deploy } from '../commands/deploy/definition.js';
import { doctor } from '../commands/doctor/definition.js';
import { exportCommand } from '../commands/export/definition.js';
import { hash } from '../commands/hash/definition.js';
import { importCommand } from '../commands/import/definition.js';
import { inspect } from '../commands/inspect/definition.js';
import { list } from '../commands/list/definition.js';
import { log } from '../commands/log/definition.js';
import { probe } from '../commands/probe/definition.js';
import { renew } from '../commands/renew/definition.js';
import { mdmcertDecrypt } from '../commands/mdmcert-decrypt/definition.js';
import { retire } from '../commands/retire/definition.js';
import { show } from '../commands/show/definition.js';
import { storeCopy, storeInit, storeUpgrade } from '../commands/store/definition.js';
import { targetAdd, targetList, targetRemove } from '../commands/target/definition.js';
import { vendorImport, vendorList, vendorRemove } from '../commands/vendor/definition.js';
import { vendorSign } from '../commands/vendor-sign/definition.js';
import { verify } from '../commands/verify/definition.js';
import { withHelp } from '../commands/kit.js';
import type { CommandDefinition } from '../commands/kit.js';
import { userError } from '../commands/shared/errors.js';
import { AuditNotebook, changesStore, recordChange } from './audit.js';
import type { AuditedRun } from './audit.js';
import { makeDeps } from './deps.js';
import type { GlobalOptions } from './deps.js';
import { VERSION } from './version.js';

import type { Io } from './io.js';

export type { Io, Sink } from './io.js';

/** Every command's static definition; only the running command's `run` module is loaded. */
export const COMMANDS: Array<CommandDefinition<never>> = [
  csr,
  importCommand,
  renew,
  mdmcertDecrypt,
  retire,
  exportCommand,
  vendorSign,
  inspect,
  hash,
  verify,
  checkExpiry,
  list,
  show,
  log,
  doctor,
  probe,
  storeCopy,
  storeInit,
  storeUpgrade,
  vendorImport,
  vendorList,
  vendorRemove,
  targetAdd,
  targetList,
  targetRemove,
  deploy,
  completion,
] as Array<CommandDefinition<never>>;

function reportError(error: unknown, out: Output, env: NodeJS.ProcessEnv): number {
  const debug = env.APNS_CERT_DEBUG === '1';
  if (isAppError(error)) {
    out.error(`apns-cert: ${error.message}`);
    for (const line of error.details) out.error(line);
    if (error.hint !== undefined) out.error(`hint: ${error.hint}`);
    if (debug && error.stack) for (const line of error.stack.split('\n')) out.error(line);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.error(`apns-cert: internal error: ${message}`);
  if (debug && error instanceof Error && error.stack) for (const line of error.stack.split('\n')) out.error(line);
  else out.error('hint: APNS_CERT_DEBUG=1 apns-cert ...   # rerun for a stack trace, and report it');
  return ExitCode.software;
}

/** Builds the program, runs one command, returns the exit code. Never calls process.exit. */
export async function run(io: Io): Promise<number> {
  const program = new Command('apns-cert');
  // Only the invoked command is defined (its options, help, parsers); all of them for help and mistakes.
  const [word, subword] = commandWords(io.argv.slice(2));
  const invoked = COMMANDS.find((m) => m.name === word && (m.subcommand === undefined || m.subcommand === subword));
  let exitCode: number = ExitCode.ok;
  let out = new Output({ json: false, quiet: false, style: plainStyle, stdout: io.stdout, stderr: io.stderr });
  /** The running command, once it has its deps: a change is logged when it ends. */
  let change: AuditedRun | undefined;

  program
    .description('Own the whole life of an APNs push certificate: CSR, import with topic check, expiry monitoring.')
    .version(VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option(
      '--store <dir|url>',
      'store directory, or postgres://user@host:port/db[?schema=name] (default: $APNS_CERT_STORE, else the platform data directory)',
    )
    .option('--json', 'machine-readable output on stdout', false)
    .option('--no-color', 'no colors (also off when not a TTY or under NO_COLOR)')
    .option('-q, --quiet', 'no messages; check-expiry prints nothing when all is OK', false)
    .addOption(
      new Option(
        '--secret-backend <backend>',
        'secret backend for a NEW store (default: $APNS_CERT_SECRET_BACKEND, else keychain)',
      ).choices(['keychain', 'passphrase']),
    )
    .option(
      '--passphrase-file <file>',
      'passphrase for the passphrase backend (else $APNS_CERT_PASSPHRASE, else a prompt)',
    )
    .option(
      '--remember',
      "keep a PostgreSQL store's master key in your OS keychain once unlocked (next time: no passphrase)",
    )
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // commander's own errors (a missing or invalid option, an unknown command) echo what was typed: escaped
      outputError: (text, write) => {
        // one line, whatever was typed, plus commander's own "(Did you mean ...?)" line
        const lines = text
          .replace(/^error: /, '')
          .trimEnd()
          .split(/\n(?=\(Did you mean )/);
        lines[0] = `apns-cert: ${lines[0]}`;
        // a group's mistyped subcommand (`vendor lst`): the group's help lists the right ones
        const group = COMMANDS.some((m) => m.name === word && m.subcommand !== undefined) ? [word!] : [];
        const words =
          invoked === undefined ? group : [invoked.name, ...(invoked.subcommand ? [invoked.subcommand] : [])];
        lines.push(`hint: apns-cert ${words.map((w) => `${w} `).join('')}--help`);
        write(lines.map((line) => `${escapeControl(line)}\n`).join(''));
      },
    })
    .addHelpText(
      'after',
      `
EXIT CODES
  0    success           1    a check came out negative (topic changed, verify failed)
  64   usage error       65   bad input data / damaged index    66   input file missing
  69   secret store unavailable   70   internal error   73   cannot write output
  75   store busy (locked)        77   wrong passphrase / password   130  cancelled (SIGINT)
  143  ended by SIGTERM           129  ended by SIGHUP
  check-expiry uses Nagios codes instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

EXAMPLES
  apns-cert csr --name acme-prod --email mdm@acme.example
  apns-cert import ~/Downloads/MDM_Certificate.pem --name acme-prod
  apns-cert check-expiry -q
  apns-cert <command> --help
`,
    );

  for (const mod of invoked && !invoked.needsAllCommands ? [invoked] : COMMANDS) {
    const command = withHelp(mod.define(program), mod);
    command.exitOverride();
    command.action(async function (this: Command) {
      const globals = program.opts<GlobalOptions>();
      const color = useColor({ isTTY: io.tty.stdout, env: io.env, noColorFlag: !globals.color, json: globals.json });
      out = new Output({
        json: globals.json,
        quiet: globals.quiet,
        style: color ? await colorStyle() : plainStyle,
        stdout: io.stdout,
        stderr: io.stderr,
      });
      const notebook = new AuditNotebook();
      const deps = await makeDeps(globals, io, out, notebook);
      change = { mod, options: undefined, deps, notebook };
      const options = mod.options(this);
      change.options = options;
      exitCode = await (await mod.load()).run(options, deps);
    });
  }

  const code = await runProgram(
    program,
    io,
    invoked,
    () => out,
    () => exitCode,
  );
  try {
    // the command has said how it ended (its error too): now its entry in the audit log
    if (change !== undefined && changesStore(change.mod, change.options))
      await recordChange(change, { exitCode: code.exitCode, error: code.error }, io.env, out);
  } finally {
    await change?.deps.store.close();
  }
  return code.exitCode;
}

/** Parses and runs; the exit code, and the error the command ended with (already reported). */
async function runProgram(
  program: Command,
  io: Io,
  invoked: CommandDefinition<never> | undefined,
  out: () => Output,
  commandExit: () => number,
): Promise<{ exitCode: number; error?: unknown }> {
  try {
    await program.parseAsync(io.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version succeed; help shown because no command was given is a usage error.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')
        return { exitCode: ExitCode.ok };
      const usageExit = invoked?.errorExitCode ?? ExitCode.usage;
      return { exitCode: error.exitCode === 0 ? ExitCode.ok : usageExit, error };
    }
    const reported = userError(error, invoked?.name ?? '<command>');
    const code = reportError(reported, out(), io.env);
    if (invoked?.errorExitCode !== undefined && code !== ExitCode.cancelled)
      return { exitCode: invoked.errorExitCode, error: reported };
    return { exitCode: code, error: reported };
  }
  return { exitCode: commandExit() };
}

/** The first two words that are not options (or a global option's value): the command, and a group's subcommand. */
function commandWords(args: string[]): [string | undefined, string | undefined] {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 2; i++) {
    const arg = args[i]!;
    if (arg === '--store' || arg === '--secret-backend' || arg === '--passphrase-file') i++;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  return [words[0], words[1]];
}
