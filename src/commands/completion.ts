import type { Command } from 'commander';
import { AppError } from '../errors.js';
import { withHelp } from './kit.js';
import type { CommandModule, Deps } from './kit.js';

export type Shell = 'bash' | 'zsh' | 'fish';

interface OptionSpec {
  flag: string;
  description: string;
  takesValue: boolean;
  /** The value is a record name (complete from the store). */
  names: boolean;
}

interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** The first argument is a record name. */
  nameArgument: boolean;
}

export interface CompletionOptions {
  shell: string | undefined;
  names: boolean;
  commands: CommandSpec[];
  globals: OptionSpec[];
}

const NAME_ARGUMENT = new Set(['renew', 'retire', 'show', 'export', 'probe']);

function optionSpecs(command: Command): OptionSpec[] {
  return command.options
    .filter((o) => o.long !== undefined && o.long !== '--version')
    .map((o) => ({ flag: o.long!, description: o.description.replace(/\s+/g, ' '), takesValue: o.required || o.optional, names: o.long === '--name' }));
}

/** What the shells need to know, read from the commander program itself so it never drifts. */
export function specFromProgram(program: Command): { commands: CommandSpec[]; globals: OptionSpec[] } {
  return {
    globals: [...optionSpecs(program), { flag: '--help', description: 'show help', takesValue: false, names: false }],
    commands: program.commands
      .filter((c) => c.name() !== 'help')
      .map((c) => ({ name: c.name(), description: c.summary() || c.description(), options: optionSpecs(c), nameArgument: NAME_ARGUMENT.has(c.name()) })),
  };
}

const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function bashScript(spec: { commands: CommandSpec[]; globals: OptionSpec[] }): string {
  const cases = spec.commands
    .map((c) => `    ${c.name}) opts=${sq(c.options.map((o) => o.flag).join(' ') + ' --help')}; names=${c.nameArgument ? 1 : 0} ;;`)
    .join('\n');
  const valueFlags = [...new Set([...spec.globals, ...spec.commands.flatMap((c) => c.options)].filter((o) => o.takesValue && !o.names).map((o) => o.flag))].join('|');
  return `# bash completion for apns-cert; install: apns-cert completion bash > /etc/bash_completion.d/apns-cert
_apns_cert() {
  local cur prev cmd opts names i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      --store|--secret-backend|--passphrase-file) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$prev" in
    --name) COMPREPLY=($(compgen -W "$(apns-cert completion --names 2>/dev/null)" -- "$cur")); return ;;
    --secret-backend) COMPREPLY=($(compgen -W "keychain passphrase" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "text json prometheus nagios" -- "$cur")); return ;;
    ${valueFlags}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${sq([...spec.commands.map((c) => c.name), ...spec.globals.map((o) => o.flag)].join(' '))} -- "$cur"))
    return
  fi
  opts=""; names=0
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ $names == 1 ]]; then
    COMPREPLY=($(compgen -W "$(apns-cert completion --names 2>/dev/null)" -- "$cur") $(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _apns_cert apns-cert
`;
}

/** For zsh: backslash before _arguments' own specials; a quote closes, escapes and reopens the single quotes. */
const zq = (text: string) => text.replace(/[[\]:\\]/g, (c) => `\\${c}`).replace(/'/g, `'\\''`);

export function zshScript(spec: { commands: CommandSpec[]; globals: OptionSpec[] }): string {
  const optionLine = (o: OptionSpec) => {
    const value = o.takesValue ? (o.names ? ':name:_apns_cert_names' : ':value:_files') : '';
    return `'${o.flag}[${zq(o.description)}]${value}'`;
  };
  const cases = spec.commands
    .map((c) => `    ${c.name}) _arguments ${[...c.options.map(optionLine), "'--help[show help]'", c.nameArgument ? "'1:name:_apns_cert_names'" : "'*:file:_files'"].join(' ')} ;;`)
    .join('\n');
  return `#compdef apns-cert
# zsh completion for apns-cert; install: apns-cert completion zsh > "\${fpath[1]}/_apns-cert"
_apns_cert_names() {
  local -a names
  names=(\${(f)"$(apns-cert completion --names 2>/dev/null)"})
  _describe 'name' names
}
_apns_cert() {
  local -a commands
  commands=(
${spec.commands.map((c) => `    '${c.name}:${zq(c.description)}'`).join('\n')}
  )
  local curcontext="$curcontext" state line
  _arguments -C ${spec.globals.map(optionLine).join(' ')} '1:command:->command' '*::arg:->args'
  case $state in
    command) _describe 'command' commands ;;
    args)
      case $words[1] in
${cases}
      esac ;;
  esac
}
if [[ "$funcstack[1]" == "_apns_cert" ]]; then _apns_cert "$@"; else compdef _apns_cert apns-cert; fi
`;
}

export function fishScript(spec: { commands: CommandSpec[]; globals: OptionSpec[] }): string {
  const fq = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [
    '# fish completion for apns-cert; install: apns-cert completion fish > ~/.config/fish/completions/apns-cert.fish',
    'complete -c apns-cert -f',
    ...spec.commands.map((c) => `complete -c apns-cert -n __fish_use_subcommand -a ${c.name} -d ${fq(c.description)}`),
    ...spec.globals.map((o) => `complete -c apns-cert -l ${o.flag.slice(2)} -d ${fq(o.description)}${o.takesValue ? ' -r' : ''}`),
  ];
  for (const c of spec.commands) {
    for (const o of c.options) {
      const values = o.names ? " -a '(apns-cert completion --names 2>/dev/null)'" : o.takesValue ? ' -F' : '';
      lines.push(`complete -c apns-cert -n '__fish_seen_subcommand_from ${c.name}' -l ${o.flag.slice(2)} -d ${fq(o.description)}${o.takesValue ? ' -r' : ''}${values}`);
    }
    lines.push(
      c.nameArgument
        ? `complete -c apns-cert -n '__fish_seen_subcommand_from ${c.name}' -a '(apns-cert completion --names 2>/dev/null)' -F`
        : `complete -c apns-cert -n '__fish_seen_subcommand_from ${c.name}' -F`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const completion: CommandModule<CompletionOptions> = {
  name: 'completion',
  needsAllCommands: true,
  define(program) {
    const command = program
      .command('completion')
      .summary('print a shell completion script (bash, zsh, fish)')
      .description('Print a completion script covering commands, options and the names in the store.')
      .argument('[shell]', 'bash, zsh or fish')
      .option('--names', 'print the record names of the store, one per line (used by the scripts)', false);
    return withHelp(command, {
      exitCodes: [[0, 'script printed'], [64, 'unknown shell'], [65, 'the store index is damaged (--names)']],
      examples: [
        'apns-cert completion bash > /etc/bash_completion.d/apns-cert',
        'apns-cert completion zsh > "${fpath[1]}/_apns-cert"',
        'apns-cert completion fish > ~/.config/fish/completions/apns-cert.fish',
      ],
    });
  },
  options(command: Command) {
    return { shell: command.args[0], names: command.opts<{ names: boolean }>().names, ...specFromProgram(command.parent!) };
  },
  async run(options: CompletionOptions, deps: Deps) {
    if (options.names) {
      const index = await deps.store.readIndex();
      for (const name of Object.keys(index?.records ?? {}).sort()) deps.out.data(name);
      return 0;
    }
    const scripts: Record<Shell, typeof bashScript> = { bash: bashScript, zsh: zshScript, fish: fishScript };
    const make = scripts[options.shell as Shell];
    if (make === undefined) {
      throw new AppError('USAGE', `completion: "${options.shell ?? ''}" is not bash, zsh or fish`, { hint: 'apns-cert completion bash' });
    }
    deps.out.raw(make(options));
    return 0;
  },
};
