/** src/core names no command: no AppError (exit codes, hints) and no `apns-cert <command>` line in its text. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const CORE = join(ROOT, 'src/core');
const coreFiles = readdirSync(CORE).filter((f) => f.endsWith('.ts'));

/** The command words, from the program's own help (whatever module defines them). */
async function commandWords(): Promise<string[]> {
  (globalThis as Record<string, unknown>).APNS_CERT_VERSION ??= '0.0.0-test';
  const { run } = await import('../../src/cli/main.js');
  let help = '';
  const sink = { write: (text: string) => (help += text) };
  await run({
    argv: ['node', 'apns-cert', '--help'],
    env: {},
    stdin: () => process.stdin,
    stderrStream: () => process.stderr,
    stdout: sink,
    stderr: sink,
    tty: { stdin: () => false, stdout: () => false, stderr: () => false },
  });
  const commands = help.slice(help.indexOf('Commands:'));
  return [...commands.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!).filter((w) => w !== 'help');
}

/** `apns-cert` (perhaps with global options) followed by a command word or the `<command>` placeholder. */
async function commandLine(): Promise<RegExp> {
  const words = await commandWords();
  expect(words).toEqual(expect.arrayContaining(['import', 'inspect', 'hash', 'doctor', 'check-expiry', 'csr']));
  return new RegExp(`apns-cert(?: --?[a-z-]+(?: [a-z]+)?)* (?:${words.join('|')}|<command>)(?![a-z-])`);
}

describe('src/core', () => {
  it('holds no apns-cert command line (hints belong to the commands)', async () => {
    const line = await commandLine();
    // the pattern finds what core used to hold
    for (const old of [
      'hint: `apns-cert import ${source} --password-file <file>`',
      "'APNS_CERT_PASSPHRASE=... apns-cert <command>   # or --passphrase-file <file>'",
      "'apns-cert doctor   # then restore'",
      "'apns-cert --secret-backend passphrase import x'",
    ])
      expect(old).toMatch(line);
    // and not the store's fixed texts, which name the tool but no command
    expect("'apns-cert master key v1'").not.toMatch(line);
    const found = coreFiles.flatMap((f) =>
      readFileSync(join(CORE, f), 'utf8')
        .split('\n')
        .map((text, i) => ({ where: `src/core/${f}:${i + 1}`, text }))
        .filter(({ text }) => line.test(text)),
    );
    expect(found).toEqual([]);
  });

  it('imports no AppError: eslint refuses it there', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const [result] = await eslint.lintText("import { AppError } from '../errors.js';\nexport const e = AppError;\n", {
      filePath: join(CORE, 'example.ts'),
    });
    expect(result!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const imports = coreFiles.filter((f) => /from '\.\.\/errors(\.js)?'/.test(readFileSync(join(CORE, f), 'utf8')));
    expect(imports).toEqual([]);
  });
});
