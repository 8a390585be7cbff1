import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, runCli, tempDir } from '../helpers/cli.js';

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

beforeAll(async () => {
  dir = tempDir();
  const store = join(dir, 'store');
  // `apns-cert` on PATH, as after npm link, so the scripts can ask for the store's names
  writeFileSync(join(dir, 'apns-cert'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(dir, 'apns-cert'), 0o755);
  env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'c', PATH: `${dir}:${process.env.PATH}` });
  for (const name of ['acme-prod', 'acme-dev']) expect((await runCli(['csr', '--name', name, '--out', join(dir, `${name}.csr`)], { env })).code).toBe(0);
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await runCli(['completion', shell], { env });
    expect(r.code).toBe(0);
    writeFileSync(join(dir, `completion.${shell}`), r.stdout);
  }
});

function bashComplete(line: string): string[] {
  const script = `source ${join(dir, 'completion.bash')}
COMP_LINE=${JSON.stringify(line)}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
_apns_cert
printf '%s\\n' "\${COMPREPLY[@]}"`;
  // from an empty directory, so that file names do not join the answers
  return execFileSync('bash', ['-c', script], { env, cwd: tempDir() }).toString().split('\n').filter(Boolean);
}

describe('shell completion', () => {
  it('bash: commands, options of a command, and names from the store', () => {
    expect(bashComplete('apns-cert ch')).toEqual(['check-expiry']);
    expect(bashComplete('apns-cert check-expiry --fo')).toEqual(['--format']);
    expect(bashComplete('apns-cert check-expiry --format p')).toEqual(['prometheus']);
    expect(bashComplete('apns-cert renew acme-')).toEqual(['acme-dev', 'acme-prod']);
    expect(bashComplete('apns-cert --json check-expiry --name acme-p')).toEqual(['acme-prod']);
  });

  it.skipIf(!shellAvailable('fish'))('fish: the same, through complete -C', () => {
    const complete = (line: string) =>
      execFileSync('fish', ['-c', `source ${join(dir, 'completion.fish')}; complete -C ${JSON.stringify(line)}`], { env, cwd: dir })
        .toString()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]);
    expect(complete('apns-cert ch')).toEqual(['check-expiry']);
    expect(complete('apns-cert renew acme-')).toEqual(expect.arrayContaining(['acme-dev', 'acme-prod']));
    expect(complete('apns-cert csr --vendor-')).toEqual(['--vendor-cert', '--vendor-key']);
  });

  it.skipIf(!shellAvailable('zsh'))('zsh: a valid completion function registered for apns-cert', () => {
    execFileSync('zsh', ['-n', join(dir, 'completion.zsh')]);
    const registered = execFileSync('zsh', ['-c', `autoload -Uz compinit && compinit -u -d ${dir}/zcompdump && source ${join(dir, 'completion.zsh')} && print $_comps[apns-cert]`], { env, cwd: dir }).toString().trim();
    expect(registered).toBe('_apns_cert');
    const script = readFileSync(join(dir, 'completion.zsh'), 'utf8');
    for (const command of ['csr', 'renew', 'check-expiry', 'doctor']) expect(script).toContain(`'${command}:`);
  });

  it('an unknown shell is a usage error', async () => {
    const r = await runCli(['completion', 'tcsh'], { env });
    expect(r.code).toBe(64);
  });
});
