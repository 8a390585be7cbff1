import { AppError } from '../errors.js';
import type { Prompter } from '../commands/kit.js';

/** Ctrl-C in a prompt (inquirer's ExitPromptError) becomes "cancelled", exit 130. */
export async function cancellable<T>(prompt: () => Promise<T>): Promise<T> {
  try {
    return await prompt();
  } catch (error) {
    if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) {
      throw new AppError('CANCELLED', 'cancelled: nothing was changed by this step');
    }
    throw error;
  }
}

export async function promptPassword(message: string, output: NodeJS.WritableStream): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  return cancellable(() => password({ message, mask: '*' }, { output }));
}

/**
 * The real prompter: @inquirer/prompts on stderr, loaded on first use. Every text it shows (questions,
 * choices, the reason an answer is refused) goes through `show`, which escapes control characters as Output does.
 */
export function inquirerPrompter(output: () => NodeJS.WritableStream, show: (text: string) => string): Prompter {
  const load = () => import('@inquirer/prompts');
  return {
    async select(message, choices) {
      const { select } = await load();
      const shown = choices.map((c) => ({
        ...c,
        name: show(c.name),
        ...(c.description === undefined ? {} : { description: show(c.description) }),
      }));
      return cancellable(() => select({ message: show(message), choices: shown, pageSize: 12 }, { output: output() }));
    },
    async input(message, opts = {}) {
      const { input } = await load();
      const config: Parameters<typeof input>[0] = { message: show(message) };
      if (opts.default !== undefined) config.default = opts.default;
      const validate = opts.validate;
      if (validate !== undefined)
        config.validate = async (value) => {
          const verdict = await validate(value);
          return verdict === true ? true : show(verdict);
        };
      return cancellable(() => input(config, { output: output() }));
    },
    async password(message) {
      return promptPassword(show(message), output());
    },
    async confirm(message, defaultValue) {
      const { confirm } = await load();
      return cancellable(() => confirm({ message: show(message), default: defaultValue }, { output: output() }));
    },
  };
}
