import { AppError } from '../errors.js';

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
