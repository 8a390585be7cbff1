/** What the completion scripts are made from: the program's commands and options, read from commander. */
import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a value is, so each shell offers the right candidates: record names, fixed choices, files, or nothing. */
export type ValueKind =
  | { kind: 'names' }
  | { kind: 'names-or-files' }
  | { kind: 'choices'; choices: string[] }
  | { kind: 'files' }
  | { kind: 'dirs' }
  | { kind: 'text' };

export interface OptionSpec {
  flag: string;
  description: string;
  /** null for a flag without a value. */
  value: ValueKind | null;
}

export interface CommandSpec {
  /** The words that name it: `csr`, or `vendor import` for a subcommand of a group. */
  name: string;
  description: string;
  options: OptionSpec[];
  /** What the first argument is (a group's: its subcommands); null when the command takes none. */
  argument: ValueKind | null;
  /** A group's subcommands (`vendor` → import, list, remove); empty for a command that runs. */
  subcommands: string[];
}

export interface CompletionOptions {
  shell: string | undefined;
  names: boolean;
  commands: CommandSpec[];
  globals: OptionSpec[];
}

/** From the placeholder: `<file>`, `<pem>`, `<pem-file>` are files, `<dir>` a directory, anything else free text. */
function placeholderKind(placeholder: string): ValueKind {
  if (/^(file|files|pem|pem-file)$/.test(placeholder)) return { kind: 'files' };
  if (placeholder === 'dir') return { kind: 'dirs' };
  return { kind: 'text' };
}

function optionSpecs(command: Command): OptionSpec[] {
  return command.options
    .filter((o) => o.long !== undefined && o.long !== '--version' && !o.hidden)
    .map((o) => {
      const placeholder = /<([^>]+)>|\[([^\]]+)\]/.exec(o.flags);
      let value: ValueKind | null = null;
      if (o.argChoices) value = { kind: 'choices', choices: o.argChoices };
      else if (o.long === '--name') value = { kind: 'names' };
      else if (placeholder !== null) value = placeholderKind(placeholder[1] ?? placeholder[2]!);
      return { flag: o.long!, description: o.description.replace(/\s+/g, ' '), value };
    });
}

function argumentKind(command: Command): ValueKind | null {
  const first = command.registeredArguments[0];
  if (first === undefined) return null;
  if (first.argChoices) return { kind: 'choices', choices: first.argChoices };
  if (first.name() === 'name') return { kind: 'names' };
  if (first.name() === 'name|file') return { kind: 'names-or-files' };
  return placeholderKind(first.name());
}

/** A command and, for a group, each of its subcommands after it (named `<group> <subcommand>`). */
function commandSpecs(command: Command, prefix = ''): CommandSpec[] {
  const name = `${prefix}${command.name()}`;
  const subcommands = command.commands.filter((c) => c.name() !== 'help');
  const own: CommandSpec = {
    name,
    description: command.summary() || command.description(),
    options: optionSpecs(command),
    argument:
      subcommands.length > 0 ? { kind: 'choices', choices: subcommands.map((c) => c.name()) } : argumentKind(command),
    subcommands: subcommands.map((c) => c.name()),
  };
  return [own, ...subcommands.flatMap((c) => commandSpecs(c, `${name} `))];
}

/** What the shells need to know, read from the commander program itself so it never drifts. */
export function specFromProgram(program: Command): { commands: CommandSpec[]; globals: OptionSpec[] } {
  return {
    globals: [...optionSpecs(program), { flag: '--help', description: 'show help', value: null }],
    commands: program.commands.filter((c) => c.name() !== 'help').flatMap((c) => commandSpecs(c)),
  };
}
