/** In-process Deps for command tests: a temporary file store, an in-memory vault, a fixed clock, scripted prompts. */
import { PassThrough } from 'node:stream';
import type { Choice, Deps, Prompter } from '../../src/commands/kit.js';
import { readSettings } from '../../src/cli/deps.js';
import { AppError } from '../../src/errors.js';
import { Output, plainStyle } from '../../src/output/output.js';
import { readInputFile } from '../../src/io/files.js';
import { FileStore } from '../../src/store/file/file-store.js';
import type { FileStoreOptions } from '../../src/store/file/file-store.js';
import { tempDir } from './cli.js';
import { MemoryVault } from './memory-vault.js';

/** A file store in `dir` whose vault is in memory (a new one per store unless given); keychain for a new store. */
export function fileStore(dir: string, opts: Partial<FileStoreOptions> & { vault?: MemoryVault } = {}): FileStore {
  const vault = opts.vault ?? new MemoryVault();
  return new FileStore(dir, {
    lockWaitMs: 5000,
    vaults: () => vault,
    backendForNewStore: vault.backend,
    now: () => new Date(),
    ...opts,
  });
}

export type Answer = { select: RegExp } | { input: string | (() => string) } | { confirm: boolean } | 'cancel';

/** Answers prompts from a script, in order, and records what was asked. */
export class ScriptedPrompter implements Prompter {
  readonly asked: string[] = [];
  readonly validationMessages: string[] = [];
  /** What stderr held when each question was asked. */
  readonly shownBefore: string[] = [];
  constructor(
    private readonly answers: Answer[],
    private readonly shown: () => string = () => '',
  ) {}

  private next(kind: string, message: string): Exclude<Answer, 'cancel'> {
    this.asked.push(`${kind}: ${message}`);
    this.shownBefore.push(this.shown());
    const answer = this.answers.shift();
    if (answer === undefined) throw new Error(`no scripted answer for ${kind} "${message}"`);
    if (answer === 'cancel') throw new AppError('CANCELLED', 'cancelled: nothing was changed by this step');
    return answer;
  }

  async select<T>(message: string, choices: Array<Choice<T>>): Promise<T> {
    const answer = this.next('select', message);
    if (!('select' in answer)) throw new Error(`expected a select answer for "${message}"`);
    const choice = choices.find((c) => answer.select.test(c.name));
    if (choice === undefined)
      throw new Error(`no choice matches ${answer.select}: ${choices.map((c) => c.name).join(' | ')}`);
    return choice.value;
  }

  async input(message: string, opts: { validate?: (value: string) => Promise<true | string> } = {}): Promise<string> {
    for (;;) {
      const answer = this.next('input', message);
      if (!('input' in answer)) throw new Error(`expected an input answer for "${message}"`);
      const value = typeof answer.input === 'function' ? answer.input() : answer.input;
      const verdict = opts.validate ? await opts.validate(value) : true;
      if (verdict === true) return value;
      this.validationMessages.push(verdict);
    }
  }

  async password(message: string): Promise<string> {
    const answer = this.next('password', message);
    if (!('input' in answer)) throw new Error(`expected an input answer for "${message}"`);
    return typeof answer.input === 'function' ? answer.input() : answer.input;
  }

  async confirm(message: string): Promise<boolean> {
    const answer = this.next('confirm', message);
    if (!('confirm' in answer)) throw new Error(`expected a confirm answer for "${message}"`);
    return answer.confirm;
  }
}

export interface TestDeps extends Deps {
  stdout: () => string;
  stderr: () => string;
  prompter: ScriptedPrompter;
}

/** Two in-memory streams for an Output, and what has been written to each. */
export function capturedStreams() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { stdout, stderr, out: () => out, err: () => err };
}

export function makeDeps(opts: {
  storeDir?: string;
  now: Date;
  answers?: Answer[];
  interactive?: boolean;
  json?: boolean;
  vault?: MemoryVault;
}): TestDeps {
  const { stdout, stderr, out: capturedOut, err: capturedErr } = capturedStreams();
  const vault = opts.vault ?? new MemoryVault();
  return {
    store: fileStore(opts.storeDir ?? tempDir(), { vault, now: () => opts.now }),
    openStore: async (location) => fileStore(location, { vault, now: () => opts.now }),
    now: () => opts.now,
    out: new Output({ json: opts.json ?? false, quiet: false, style: plainStyle, stdout, stderr }),
    readInput: (path) => readInputFile(path),
    interactive: opts.interactive ?? true,
    prompter: new ScriptedPrompter(opts.answers ?? [], capturedErr),
    settings: readSettings({}),
    audit: { note: () => undefined },
    stdout: capturedOut,
    stderr: capturedErr,
  };
}
