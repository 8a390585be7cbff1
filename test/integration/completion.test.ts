import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { Terminal, tmuxAvailable } from '../helpers/tmux.js';

const shellAvailable = (shell: string) => {
  try {
    execFileSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
for (const shell of ['zsh', 'fish']) {
  if (!shellAvailable(shell) && process.env.CI) throw new Error(`${shell} is required for the completion tests in CI`);
  if (!shellAvailable(shell)) console.warn(`skipping the ${shell} completion test: ${shell} is not installed`);
}

let dir: string;
let env: NodeJS.ProcessEnv;
/** A directory with one file in it: a shell that offers files where a value is due offers this one. */
let withFile: string;
const FILE = 'zz-file.pem';

beforeAll(async () => {
  dir = tempDir();
  const store = join(dir, 'store');
  // `apns-cert` on PATH, as after npm link, so the scripts can ask for the store's names
  writeFileSync(join(dir, 'apns-cert'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(dir, 'apns-cert'), 0o755);
  env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'c', PATH: `${dir}:${process.env.PATH}` });
  withFile = tempDir();
  writeFileSync(join(withFile, FILE), '');
  for (const name of ['acme-prod', 'acme-dev'])
    expect((await runInProcess(['csr', '--name', name, '--out', join(dir, `${name}.csr`)], { env })).code).toBe(0);
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await runCli(['completion', shell], { env });
    expect(r.code).toBe(0);
    writeFileSync(join(dir, `completion.${shell}`), r.stdout);
  }
});

function bashComplete(line: string, cwd = tempDir()): string[] {
  const script = `source ${join(dir, 'completion.bash')}
COMP_LINE=${JSON.stringify(line)}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_apns_cert
printf '%s\\n' "\${COMPREPLY[@]}"`;
  // by default from an empty directory, so that file names do not join the answers
  return execFileSync('bash', ['-c', script], { env, cwd }).toString().split('\n').filter(Boolean);
}

describe('shell completion', () => {
  it('bash: commands, options of a command, and names from the store', () => {
    expect(bashComplete('apns-cert ch')).toEqual(['check-expiry']);
    expect(bashComplete('apns-cert check-expiry --fo')).toEqual(['--format']);
    // --notify <url> is hidden (refused: the URL is a secret); only --notify-file is offered
    expect(bashComplete('apns-cert check-expiry --noti')).toEqual(['--notify-file']);
    expect(bashComplete('apns-cert check-expiry --format p')).toEqual(['prometheus']);
    expect(bashComplete('apns-cert renew acme-')).toEqual(['acme-dev', 'acme-prod']);
    expect(bashComplete('apns-cert --json check-expiry --name acme-p')).toEqual(['acme-prod']);
  });

  it('bash: choices, names and files each where they are due, nothing else', () => {
    expect(bashComplete('apns-cert check-expiry --format ', withFile)).toEqual([
      'text',
      'json',
      'prometheus',
      'nagios',
    ]);
    expect(bashComplete('apns-cert --secret-backend ', withFile)).toEqual(['keychain', 'passphrase']);
    expect(bashComplete('apns-cert completion ', withFile)).toEqual(['bash', 'zsh', 'fish']);
    for (const command of ['show', 'export', 'retire', 'renew'])
      expect(bashComplete(`apns-cert ${command} `, withFile), command).toEqual(['acme-dev', 'acme-prod']);
    expect(bashComplete('apns-cert probe ', withFile)).toEqual(['acme-dev', 'acme-prod', FILE]);
    expect(bashComplete('apns-cert inspect ', withFile)).toEqual([FILE]);
    expect(bashComplete('apns-cert check-expiry --warn-days ', withFile)).toEqual([]);
    expect(bashComplete('apns-cert export acme-prod --pem ', withFile)).toEqual([FILE]);
  });

  it('bash: the subcommands of a group, then the options and values of the subcommand', () => {
    expect(bashComplete('apns-cert vendor ', withFile)).toEqual(['import', 'list', 'remove']);
    expect(bashComplete('apns-cert --json vendor li', withFile)).toEqual(['list']);
    expect(bashComplete('apns-cert store ', withFile)).toEqual(['copy', 'init', 'upgrade']);
    expect(bashComplete('apns-cert vendor import --').sort()).toEqual(['--cert', '--chain', '--help', '--key']);
    expect(bashComplete('apns-cert vendor import --cert ', withFile)).toEqual([FILE]);
    expect(bashComplete('apns-cert vendor remove --')).toEqual(['--force', '--help']);
    // `vendor list` is not `list`, `vendor import` not `import`
    expect(bashComplete('apns-cert vendor list --')).toEqual(['--help']);
    expect(bashComplete('apns-cert import --')).toContain('--allow-expired');
    expect(bashComplete('apns-cert vendor import --')).not.toContain('--allow-expired');
    expect(bashComplete('apns-cert ve').sort()).toEqual(['vendor', 'vendor-sign', 'verify']);
  });

  it.skipIf(!shellAvailable('fish'))('fish: the subcommands of a group, then the options of the subcommand', () => {
    const complete = (line: string, cwd = tempDir()) =>
      execFileSync('fish', ['-c', `source ${join(dir, 'completion.fish')}; complete -C ${JSON.stringify(line)}`], {
        env,
        cwd,
      })
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    expect(complete('apns-cert vendor ', withFile).sort()).toEqual(['import', 'list', 'remove']);
    expect(complete('apns-cert --json vendor li', withFile)).toEqual(['list']);
    expect(complete('apns-cert store ', withFile)).toEqual(['copy', 'init', 'upgrade']);
    const importOptions = complete('apns-cert vendor import --');
    expect(importOptions).toEqual(expect.arrayContaining(['--cert', '--chain', '--key', '--help']));
    expect(importOptions).not.toContain('--allow-expired');
    expect(complete('apns-cert import --')).toContain('--allow-expired');
    expect(complete('apns-cert vendor import --cert ', withFile)).toEqual([FILE]);
    expect(complete('apns-cert vendor remove --')).toContain('--force');
    expect(complete('apns-cert vendor list --')).not.toContain('--force');
  });

  it.skipIf(!shellAvailable('fish'))('fish: the same, through complete -C', () => {
    const complete = (line: string, cwd = dir) =>
      execFileSync('fish', ['-c', `source ${join(dir, 'completion.fish')}; complete -C ${JSON.stringify(line)}`], {
        env,
        cwd,
      })
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    expect(complete('apns-cert ch')).toEqual(['check-expiry']);
    expect(complete('apns-cert renew acme-')).toEqual(expect.arrayContaining(['acme-dev', 'acme-prod']));
    expect(complete('apns-cert csr --vendor-')).toEqual(['--vendor-cert', '--vendor-key']);
    // values where values are due, files only where files are
    expect(complete('apns-cert check-expiry --format ', withFile).sort()).toEqual([
      'json',
      'nagios',
      'prometheus',
      'text',
    ]);
    expect(complete('apns-cert --secret-backend ', withFile).sort()).toEqual(['keychain', 'passphrase']);
    expect(complete('apns-cert completion ', withFile).sort()).toEqual(['bash', 'fish', 'zsh']);
    for (const command of ['show', 'export', 'retire', 'renew'])
      expect(complete(`apns-cert ${command} `, withFile).sort(), command).toEqual(['acme-dev', 'acme-prod']);
    expect(complete('apns-cert probe ', withFile).sort()).toEqual(['acme-dev', 'acme-prod', FILE]);
    expect(complete('apns-cert inspect ', withFile)).toEqual([FILE]);
    expect(complete('apns-cert export acme-prod --pem ', withFile)).toEqual([FILE]);
  });

  it.skipIf(!shellAvailable('zsh') || !tmuxAvailable)(
    'zsh: the candidates an interactive zsh lists on Tab',
    async () => {
      // A real interactive zsh in a pseudo-terminal: compinit, the script, then Tab and read what it lists.
      const zdot = tempDir();
      writeFileSync(
        join(zdot, '.zshrc'),
        `PS1='zsh> '\nautoload -Uz compinit && compinit -u -d ${zdot}/zcompdump\nsource ${join(dir, 'completion.zsh')}\n`,
      );
      const term = new Terminal('zsh -i', { ...env, ZDOTDIR: zdot, TERM: 'xterm', HOME: zdot }, withFile);
      try {
        await term.waitFor(/zsh> $/m);
        const listed = async (line: string, tabs = 1) => {
          term.press('C-u');
          term.press('C-l');
          await term.waitFor(/^zsh> $/m);
          term.type(line);
          for (let i = 0; i < tabs; i++) term.press('Tab');
          // what zsh lists below the prompt line after Tab (the line itself may have been completed)
          const marker = `zsh> ${line}`;
          const below = (screen: string) => {
            const from = screen.lastIndexOf(marker);
            const rest = from < 0 ? '' : screen.slice(from);
            return rest.slice(rest.indexOf('\n') + 1).trim();
          };
          let shown = '';
          for (let attempt = 0; attempt < 200 && (shown === '' || shown !== below(term.screen())); attempt++) {
            shown = below(await term.waitFor(/zsh> /));
            await new Promise((r) => setTimeout(r, 100));
          }
          return shown.split(/\s+/).filter(Boolean);
        };
        expect((await listed('apns-cert check-expiry --format ')).sort()).toEqual([
          'json',
          'nagios',
          'prometheus',
          'text',
        ]);
        expect((await listed('apns-cert --secret-backend ')).sort()).toEqual(['keychain', 'passphrase']);
        expect((await listed('apns-cert completion ')).sort()).toEqual(['bash', 'fish', 'zsh']);
        expect((await listed('apns-cert vendor ')).sort()).toEqual(['import', 'list', 'remove']);
        expect((await listed('apns-cert store ')).sort()).toEqual(['copy', 'init', 'upgrade']);
        const importOptions = await listed('apns-cert vendor import --');
        expect(importOptions).toEqual(expect.arrayContaining(['--cert', '--chain', '--key']));
        expect(importOptions).not.toContain('--allow-expired');
        for (const command of ['show', 'export']) {
          const candidates = await listed(`apns-cert ${command} `, 2);
          expect(candidates, command).toEqual(expect.arrayContaining(['acme-dev', 'acme-prod']));
          expect(candidates, command).not.toContain(FILE);
        }
      } finally {
        term.close();
      }
    },
  );

  it.skipIf(!shellAvailable('zsh'))('zsh: a valid completion function registered for apns-cert', () => {
    execFileSync('zsh', ['-n', join(dir, 'completion.zsh')]);
    const registered = execFileSync(
      'zsh',
      [
        '-c',
        `autoload -Uz compinit && compinit -u -d ${dir}/zcompdump && source ${join(dir, 'completion.zsh')} && print $_comps[apns-cert]`,
      ],
      { env, cwd: dir },
    )
      .toString()
      .trim();
    expect(registered).toBe('_apns_cert');
    const script = readFileSync(join(dir, 'completion.zsh'), 'utf8');
    for (const command of ['csr', 'renew', 'check-expiry', 'doctor']) expect(script).toContain(`'${command}:`);
  });

  it('an unknown shell is a usage error', async () => {
    const r = await runInProcess(['completion', 'tcsh'], { env });
    expect(r.code).toBe(64);
  });
});
