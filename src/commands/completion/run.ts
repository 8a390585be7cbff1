import { AppError } from '../../errors.js';
import type { Runner, Deps } from '../kit.js';
import type { CommandSpec, CompletionOptions, OptionSpec, Shell, ValueKind } from './spec.js';

const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** The commands typed first: not the subcommands of a group (named `<group> <subcommand>`). */
const topLevel = (commands: CommandSpec[]) => commands.filter((c) => !c.name.includes(' '));

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
    .map((c) => `    ${sq(c.name)}) opts=${sq(c.options.map((o) => o.flag).join(' ') + ' --help')} ;;`)
    .join('\n');
  const argumentCases = spec.commands
    .map((c) => `    ${sq(c.name)}) ${c.argument === null ? 'COMPREPLY=()' : bashCandidates(c.argument)} ;;`)
    .join('\n');
  const globalsWithValue = spec.globals
    .filter((o) => o.value !== null)
    .map((o) => o.flag)
    .join('|');
  const groups = spec.commands.filter((c) => c.subcommands.length > 0).map((c) => c.name);
  // the command's words: its name, and for a group the subcommand after it
  const commandWord =
    groups.length === 0
      ? 'cmd="${COMP_WORDS[i]}"; break'
      : `if [[ -z "$cmd" ]]; then cmd="\${COMP_WORDS[i]}"; case "$cmd" in ${groups.join('|')}) ;; *) break ;; esac; else cmd="$cmd \${COMP_WORDS[i]}"; break; fi`;
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
      *) ${commandWord} ;;
    esac
  done
  case "$cmd $prev" in
${valueCases}
  esac
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ${sq([...topLevel(spec.commands).map((c) => c.name), ...spec.globals.map((o) => o.flag)].join(' '))} -- "$cur"))
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
  const leaf = (c: CommandSpec) =>
    `_arguments ${[...c.options.map(optionLine), "'--help[show help]'", ...argumentLine(c)].join(' ')}`;
  // a group: its subcommand first, then that subcommand's own options and argument
  const group = (c: CommandSpec) => {
    const subcases = spec.commands
      .filter((sub) => sub.name.startsWith(`${c.name} `))
      .map((sub) => `            ${sub.name.slice(c.name.length + 1)}) ${leaf(sub)} ;;`)
      .join('\n');
    return `state=''
          _arguments -C ${[...c.options.map(optionLine), "'--help[show help]'", argumentLine(c)[0]].join(' ')} '*::arg:->sub'
          [[ $state == sub ]] && case $words[1] in
${subcases}
          esac`;
  };
  const cases = topLevel(spec.commands)
    .map((c) => `    ${c.name}) ${c.subcommands.length > 0 ? group(c) : leaf(c)} ;;`)
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
${topLevel(spec.commands)
  .map((c) => `    '${c.name}:${zq(c.description)}'`)
  .join('\n')}
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

/**
 * fish functions: `__apns_cert_command` prints the words of the command being typed (`renew`, `vendor import`), as
 * the bash script finds them (a global option's value skipped); `__apns_cert_is <words>` tests for one. An exact test,
 * not __fish_seen_subcommand_from: `vendor list` is not `list`.
 */
function fishCommandFunction(spec: { commands: CommandSpec[]; globals: OptionSpec[] }): string[] {
  const withValue = spec.globals.filter((o) => o.value !== null).map((o) => o.flag);
  const groups = spec.commands.filter((c) => c.subcommands.length > 0).map((c) => c.name);
  return [
    'function __apns_cert_command',
    '    set -l words (commandline -opc)',
    '    set -l cmd',
    '    set -l skip 0',
    '    for word in $words[2..-1]',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $word',
    ...(withValue.length === 0 ? [] : [`            case ${withValue.join(' ')}`, '                set skip 1']),
    "            case '-*'",
    "            case '*'",
    '                set -a cmd $word',
    `                if test (count $cmd) = 2; or not contains -- $cmd[1] ${groups.join(' ')}`,
    '                    break',
    '                end',
    '        end',
    '    end',
    "    string join ' ' -- $cmd",
    'end',
    'function __apns_cert_is',
    '    set -l cmd (__apns_cert_command)',
    '    test "$cmd" = "$argv"',
    'end',
  ];
}

export function fishScript(spec: { commands: CommandSpec[]; globals: OptionSpec[] }): string {
  const fq = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = [
    '# fish completion for apns-cert; install: apns-cert completion fish > ~/.config/fish/completions/apns-cert.fish',
    'complete -c apns-cert -f',
    ...fishCommandFunction(spec),
    ...topLevel(spec.commands).map(
      (c) => `complete -c apns-cert -n __fish_use_subcommand -a ${c.name} -d ${fq(c.description)}`,
    ),
    ...spec.globals.map(
      (o) =>
        `complete -c apns-cert -l ${o.flag.slice(2)} -d ${fq(o.description)}${o.value === null ? '' : fishValue(o.value, fq)}`,
    ),
  ];
  for (const c of spec.commands) {
    const when = `-n ${fq(`__apns_cert_is ${c.name}`)}`;
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
