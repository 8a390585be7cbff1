import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Whether the real Secret Service is here (scripts/with-secret-service.sh sets APNS_CERT_SECRET_SERVICE=1).
 * CI sets APNS_CERT_REQUIRE_KEYCHAIN=1: there the keychain tests fail instead of skipping.
 */
export const keychainAvailable =
  process.env.APNS_CERT_SECRET_SERVICE === '1' && process.env.DBUS_SESSION_BUS_ADDRESS !== undefined;
export const keychainRequired = process.env.APNS_CERT_REQUIRE_KEYCHAIN === '1';

export function keychainSkipReason(): string | undefined {
  if (keychainAvailable) return undefined;
  if (keychainRequired)
    throw new Error(
      'APNS_CERT_REQUIRE_KEYCHAIN=1 but no Secret Service: run the tests through scripts/with-secret-service.sh',
    );
  return 'no Secret Service in this session: run `scripts/with-secret-service.sh npm test` to include the keychain tests';
}

/** Whether dbus-daemon is installed (a private bus for the tests); CI (APNS_CERT_REQUIRE_KEYCHAIN=1) must have it. */
export function dbusDaemonSkipReason(): string | undefined {
  if (spawnSync('dbus-daemon', ['--version']).status === 0) return undefined;
  if (keychainRequired)
    throw new Error('APNS_CERT_REQUIRE_KEYCHAIN=1 but no dbus-daemon: install dbus-daemon (see .ci/run)');
  return 'no dbus-daemon on this machine';
}

export interface PrivateBus {
  /** For DBUS_SESSION_BUS_ADDRESS. */
  address: string;
  pid: number;
  close(): void;
}

/**
 * A real dbus-daemon of the test's own with no service directories: a bus with no Secret Service on it
 * (nothing can be activated), and a daemon the test can SIGSTOP without stopping anyone else's bus.
 */
export async function startPrivateBus(): Promise<PrivateBus> {
  const dir = mkdtempSync(join(tmpdir(), 'apns-cert-bus-'));
  const config = join(dir, 'bus.conf');
  // The session bus configuration of dbus-daemon(1) ("CONFIGURATION FILE"), minus <servicedir> and includes.
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${join(dir, 'bus')}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`,
  );
  const daemon = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--print-address'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    daemon.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.trim());
    });
    daemon.on('exit', (code) => reject(new Error(`dbus-daemon exited (${code}) before printing its address`)));
  });
  return {
    address,
    pid: daemon.pid!,
    close() {
      daemon.kill('SIGCONT');
      daemon.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * How a fake bus that never answers behaves once a client connects:
 * - 'accept': takes the connection and never reads from it;
 * - 'read': reads everything and never writes;
 * - 'auth': answers the authentication handshake as dbus-daemon does (D-Bus specification, "Authentication
 *   Protocol": after the client's NUL byte, `AUTH EXTERNAL <hex uid>` gets `OK <server guid>`,
 *   `NEGOTIATE_UNIX_FD` gets `AGREE_UNIX_FD`, `BEGIN` ends the handshake), then never answers a message
 *   (the client's first is org.freedesktop.DBus.Hello).
 */
export type SilentMode = 'accept' | 'read' | 'auth';

export interface SilentBus {
  address: string;
  /** Resolves when a client has connected. */
  connected: Promise<void>;
  /** Resolves when the client sent BEGIN ('auth' mode). */
  began: Promise<void>;
  /** Resolves when the client's connection has closed (the process holding it is gone). */
  disconnected: Promise<void>;
  close(): void;
}

export async function startSilentBus(mode: SilentMode): Promise<SilentBus> {
  const dir = mkdtempSync(join(tmpdir(), 'apns-cert-silent-bus-'));
  const path = join(dir, 'bus');
  let onConnect!: () => void;
  let onBegin!: () => void;
  let onClose!: () => void;
  const connected = new Promise<void>((resolve) => (onConnect = resolve));
  const began = new Promise<void>((resolve) => (onBegin = resolve));
  const disconnected = new Promise<void>((resolve) => (onClose = resolve));
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      onClose();
    });
    socket.on('error', () => undefined);
    onConnect();
    if (mode === 'accept') {
      socket.pause();
      return;
    }
    let text = '';
    let authenticated = false;
    socket.on('data', (chunk: Buffer) => {
      if (mode === 'read' || authenticated) return;
      text += chunk.toString('latin1').replace(/^\0/, '');
      let end;
      while (!authenticated && (end = text.indexOf('\r\n')) >= 0) {
        const line = text.slice(0, end);
        text = text.slice(end + 2);
        if (/^AUTH EXTERNAL \S+$/.test(line)) socket.write(`OK ${randomBytes(16).toString('hex')}\r\n`);
        else if (line === 'AUTH EXTERNAL') socket.write('DATA\r\n');
        else if (line.startsWith('DATA')) socket.write(`OK ${randomBytes(16).toString('hex')}\r\n`);
        else if (line.startsWith('AUTH')) socket.write('REJECTED EXTERNAL\r\n');
        else if (line === 'NEGOTIATE_UNIX_FD') socket.write('AGREE_UNIX_FD\r\n');
        else if (line === 'BEGIN') {
          authenticated = true;
          onBegin();
        } else socket.write('ERROR\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    address: `unix:path=${path}`,
    connected,
    began,
    disconnected,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
