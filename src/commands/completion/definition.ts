import { Argument } from 'commander';
import type { Command } from 'commander';
import type { CommandDefinition } from '../kit.js';
import { SHELLS, specFromProgram } from './spec.js';
import type { CompletionOptions } from './spec.js';

export const completion: CommandDefinition<CompletionOptions> = {
  name: 'completion',
  needsAllCommands: true,
  exitCodes: [
    [0, 'script printed'],
    [64, 'unknown shell'],
    [65, 'the store index is damaged (--names)'],
  ],
  examples: [
    'apns-cert completion bash > /etc/bash_completion.d/apns-cert',
    'apns-cert completion zsh > "${fpath[1]}/_apns-cert"',
    'apns-cert completion fish > ~/.config/fish/completions/apns-cert.fish',
  ],
  define(program) {
    const command = program
      .command('completion')
      .summary('print a shell completion script (bash, zsh, fish)')
      .description('Print a completion script covering commands, options and the names in the store.')
      .addArgument(new Argument('[shell]', 'bash, zsh or fish').choices(SHELLS))
      .option('--names', 'print the record names of the store, one per line (used by the scripts)', false);
    return command;
  },
  options(command: Command) {
    return {
      shell: command.args[0],
      names: command.opts<{ names: boolean }>().names,
      ...specFromProgram(command.parent!),
    };
  },
  load: async () => (await import('./run.js')).completion,
};
