import { AppError } from '../../errors.js';
import type { Runner, Deps } from '../kit.js';
import type { CommandSpec, CompletionOptions, OptionSpec, Shell, ValueKind } from './spec.js';

const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

const BASH_NAMES = '$(apns-cert completion --names 2>/dev/null)';

/** The bash statement that fills COMPREPLY for a value of this kind. */
function bashCandidates(value: ValueKind): string {
  switch (value.kind) {
    case 'names':
      return `COMPREPLY=($(compgen -W "${BASH_NAMES}" -- "$cur"))`;
    case 'names-or-files':
      return `COMPREPLY=($(compgen -W "${BASH_NAMES}" -- "$cur") $(compgen -f -- "$cur"))`;
    case 'choices':
      return `COMPREPLY=($(compgen -W ${sq(value.choices.join(' '))} -- "$cur"))`;
    case 'files':
      return 'COMPREPLY=($(compgen -f -- "$cur"))';
    case 'dirs':
      return 'COMPREPLY=($(compgen -d -- "$cur"))';
    case 'text':
      return 'COMPREPLY=()';
  }
}

export function bashScript(spec: { commands: CommandSpec[]; globals: OptionSpec[] }): string {
  // "<command> <option>" -> what its value is; global options with any command (or none)
  const valueCases = [
    ...spec.commands.flatMap((c) =>
      c.options
        .filter((o) => o.value !== null)
        .map((o) => `    ${sq(`${c.name} ${o.flag}`)}) ${bashCandidates(o.value!)}; return ;;`),
    ),
    ...spec.globals
      .filter((o) => o.value !== null)
      .map((o) => `    *${sq(` ${o.flag}`)}) ${bashCandidates(o.value!)}; return ;;`),
  ].join('\n');
  const optionCases = spec.commands
    .map((c) => `    ${c.name}) opts=${sq(c.options.map((o) => o.flag).join(' ') + ' --help')} ;;`)
    .join('\n');
  const argumentCases = spec.commands
    .map((c) => `    ${c.name}) ${c.argument === null ? 'COMPREPLY=()' : bashCandidates(c.argument)} ;;`)
    .join('\n');
  const globalsWithValue = spec.globals
    .filter((o) => o.value !== null)
    .map((o) => o.flag)
    .join('|');
  return `# bash completion for apns-cert; install: apns-cert completion bash > /etc/bash_completion.d/apns-cert
_apns_cert() {
  local cur prev cmd opts i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${globalsWithValue}) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$cmd $prev" in
${valueCases}
  esac
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${sq([...spec.commands.map((c) => c.name), ...spec.globals.map((o) => o.flag)].join(' '))} -- "$cur"))
    return
  fi
  if [[ "$cur" == -* ]]; then
    opts=""
    case "$cmd" in
${optionCases}
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  case "$cmd" in
${argumentCases}
  esac
}
complete -o filenames -F _apns_cert apns-cert
`;
}

/** For zsh: backslash before _arguments' own specials; a quote closes, escapes and reopens the single quotes. */
const zq = (text: string) => text.replace(/[[\]:\\]/g, (c) => `\\${c}`).replace(/'/g, `'\\''`);

/** An _arguments action: the message and what to complete. */
function zshAction(value: ValueKind): string {
  switch (value.kind) {
    case 'names':
      return ':name:_apns_cert_names';
    case 'names-or-files':
      return ':name or file:{_apns_cert_names; _files}';
    case 'choices':
      return `:value:(${value.choices.map(zq).join(' ')})`;
    case 'files':
      return ':file:_files';
    case 'dirs':
      return ':directory:_files -/';
    case 'text':
      return ':value: ';
  }
}

export function zshScript(spec: { commands: CommandSpec[]; globals: OptionSpec[] }): string {
  const optionLine = (o: OptionSpec) =>
    `'${o.flag}[${zq(o.description)}]${o.value === null ? '' : zshAction(o.value)}'`;
  const argumentLine = (c: CommandSpec) =>
    c.argument === null ? [] : [`'${c.argument.kind === 'files' ? '*' : '1'}${zshAction(c.argument)}'`];
  const cases = spec.commands
    .map(
      (c) =>
        `    ${c.name}) _arguments ${[...c.options.map(optionLine), "'--help[show help]'", ...argumentLine(c)].join(' ')} ;;`,
    )
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

const FISH_NAMES = "'(apns-cert completion --names 2>/dev/null)'";

/** complete(1) flags for a value: fish offers no files (complete -f above) unless -F says so. */
function fishValue(value: ValueKind, fq: (text: string) => string): string {
  switch (value.kind) {
    case 'names':
      return ` -x -a ${FISH_NAMES}`;
    case 'names-or-files':
      return ` -a ${FISH_NAMES} -F`;
    case 'choices':
      return ` -x -a ${fq(value.choices.join(' '))}`;
    case 'files':
      return ' -r -F';
    case 'dirs':
      return " -x -a '(__fish_complete_directories)'";
    case 'text':
      return ' -x';
  }
}

export function fishScript(spec: { commands: CommandSpec[]; globals: OptionSpec[] }): string {
  const fq = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [
    '# fish completion for apns-cert; install: apns-cert completion fish > ~/.config/fish/completions/apns-cert.fish',
    'complete -c apns-cert -f',
    ...spec.commands.map((c) => `complete -c apns-cert -n __fish_use_subcommand -a ${c.name} -d ${fq(c.description)}`),
    ...spec.globals.map(
      (o) =>
        `complete -c apns-cert -l ${o.flag.slice(2)} -d ${fq(o.description)}${o.value === null ? '' : fishValue(o.value, fq)}`,
    ),
  ];
  for (const c of spec.commands) {
    const when = `-n '__fish_seen_subcommand_from ${c.name}'`;
    for (const o of c.options)
      lines.push(
        `complete -c apns-cert ${when} -l ${o.flag.slice(2)} -d ${fq(o.description)}${o.value === null ? '' : fishValue(o.value, fq)}`,
      );
    if (c.argument !== null) {
      const value = fishValue(c.argument, fq).replace(/^ -[xr]/, '');
      if (value !== '') lines.push(`complete -c apns-cert ${when}${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const completion: Runner<CompletionOptions> = {
  async run(options: CompletionOptions, deps: Deps) {
    if (options.names) {
      const index = await deps.store.read();
      for (const name of Object.keys(index?.records ?? {}).sort()) deps.out.data(name);
      return 0;
    }
    const scripts: Record<Shell, typeof bashScript> = { bash: bashScript, zsh: zshScript, fish: fishScript };
    // commander has refused any other shell
    if (options.shell === undefined)
      throw new AppError('USAGE', 'completion: which shell? bash, zsh or fish', { hint: 'apns-cert completion bash' });
    const make = scripts[options.shell as Shell];
    deps.out.raw(make(options));
    return 0;
  },
};
