import { readSecretFile } from '../io/files.js';

/** Where a secret can come from: a file named by an option, else a value from the environment, else a prompt. */
export interface SecretSourceOptions {
  /** The file named on the command line, and that option (for messages). */
  file: string | undefined;
  flag: string;
  /** The environment's value (the settings, read once); undefined when not set. */
  env: string | undefined;
  /** A person at a terminal can be asked. */
  interactive: boolean;
  /** Hidden input on that terminal. */
  prompt: (message: string) => Promise<string>;
}

export interface SecretSource {
  /** A file or an environment value was given: nothing will be asked. */
  readonly given: boolean;
  /**
   * The file's content, else the environment's value, else what the person types (twice with `repeat`:
   * `differ()` is thrown when the two differ); null when nothing was given and there is no terminal.
   */
  read(ask: { message: string; repeat?: { message: string; differ: () => Error } }): Promise<string | null>;
}

/** The one "file > environment > prompt" chain, for the store passphrase, a .p12 password to read or to set. */
export function secretSource(opts: SecretSourceOptions): SecretSource {
  return {
    given: opts.file !== undefined || opts.env !== undefined,
    async read(ask) {
      if (opts.file !== undefined) return readSecretFile(opts.file, opts.flag);
      if (opts.env !== undefined) return opts.env;
      if (!opts.interactive) return null;
      const value = await opts.prompt(ask.message);
      if (ask.repeat !== undefined && (await opts.prompt(ask.repeat.message)) !== value) throw ask.repeat.differ();
      return value;
    },
  };
}
