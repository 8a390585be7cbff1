/** A place to write text; the process streams are only created when something is written. */
export interface Sink {
  write(text: string): unknown;
}

export interface Io {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Getters: touching process.stdin or process.stderr costs start-up time, so only when needed. */
  stdin: () => NodeJS.ReadStream;
  stderrStream: () => NodeJS.WriteStream;
  stdout: Sink;
  stderr: Sink;
  /** Asked only when the answer matters (prompts, colors). */
  tty: { stdin: () => boolean; stdout: () => boolean; stderr: () => boolean };
}
