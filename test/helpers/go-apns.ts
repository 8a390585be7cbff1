/**
 * Starts test/helpers/go-apns/main.go: an APNs-like HTTP/2 server on Go's crypto/tls (standard library only).
 * The binary is built once per test process with `GO111MODULE=off go build` into a temporary directory.
 * Go is required (CI installs golang-go): without it the tests that use this fail, they do not skip.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, tempDir } from './cli.js';
import { daysFrom, issueCert } from './fake-apple.js';
import type { FakeCa } from './fake-apple.js';

export type GoApnsMode = 'tls13' | 'tls12' | 'plain-http';

export interface GoApns {
  url: string;
  port: number;
  /** The CA of the server's own certificate (for --ca-file). */
  serverCaPem: string;
  close(): Promise<void>;
}

let binary: string | undefined;

function goBinary(): string {
  if (binary === undefined) {
    const dir = tempDir('apns-cert-go-');
    const out = join(dir, 'go-apns');
    execFileSync('go', ['build', '-o', out, join(ROOT, 'test/helpers/go-apns/main.go')], {
      cwd: dir,
      env: { ...process.env, GO111MODULE: 'off', GOFLAGS: '' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    binary = out;
  }
  return binary;
}

/** A Go server that accepts client certificates issued by `clientCa` only (RequireAndVerifyClientCert). */
export async function startGoApns(clientCa: FakeCa, mode: GoApnsMode): Promise<GoApns> {
  const now = new Date();
  const dir = tempDir('apns-cert-go-apns-');
  const root = issueCert(null, {
    subject: [{ name: 'commonName', value: `Go APNs test server CA (${mode})` }],
    notBefore: daysFrom(now, -10),
    notAfter: daysFrom(now, 100),
    isCa: true,
  });
  const server = issueCert(root, {
    subject: [{ name: 'commonName', value: '127.0.0.1' }],
    notBefore: daysFrom(now, -1),
    notAfter: daysFrom(now, 30),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  writeFileSync(join(dir, 'server.pem'), server.pem);
  writeFileSync(join(dir, 'server.key'), server.privatePem);
  writeFileSync(join(dir, 'client-ca.pem'), clientCa.pem);
  const args = [
    '-cert',
    join(dir, 'server.pem'),
    '-key',
    join(dir, 'server.key'),
    '-client-ca',
    join(dir, 'client-ca.pem'),
  ];
  args.push(...(mode === 'plain-http' ? ['-plain'] : ['-tls', mode === 'tls12' ? '1.2' : '1.3']));
  const child = spawn(goBinary(), args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`go-apns exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`go-apns said: ${line}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    // https even for the plain-HTTP server: that is what `probe --apns-url` is pointed at.
    url: `https://127.0.0.1:${port}`,
    port,
    serverCaPem: root.pem,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}
