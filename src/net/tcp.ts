import { connect } from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

export function parseEndpoint(text: string): Endpoint | null {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Opens a TCP connection and closes it: null when it connected, else the cause. */
export function tcpReachable(endpoint: Endpoint, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const done = (result: string | null) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    socket.once('connect', () => done(null));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}
