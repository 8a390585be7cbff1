import { writeSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { KeychainAnswer, KeychainRequest } from './keychain.js';

/*
 * One OS-keychain call for the CLI (src/secrets/keychain.ts), in a process of its own: built into
 * dist/keychain-child.cjs and run as `node keychain-child.cjs`, the request a JSON line on stdin, the answer a
 * JSON line on stdout. @napi-rs/keyring blocks the thread that calls it until D-Bus answers, which a hung bus
 * never does; here that blocks a thread of this process, which the CLI kills when its time is up or it is
 * interrupted. The call runs in a worker thread, so that the main thread still sees the CLI go away without
 * killing it (stdin closes: kill -9, a crash) and then ends this process with SIGKILL: exit() would wait for
 * the blocked thread.
 */

async function call(request: KeychainRequest): Promise<KeychainAnswer> {
  try {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    // On Linux pinned to the Secret Service: no silent fallback to the kernel keyring.
    const entry = new AsyncEntry(request.service, request.account, { linux: { store: 'secret-service' } });
    if (request.op === 'save') {
      await entry.setSecret(Buffer.from(request.secret, 'base64'));
      return { ok: true, secret: null };
    }
    const secret = await entry.getSecret();
    return { ok: true, secret: secret === null ? null : Buffer.from(secret).toString('base64') };
  } catch (error) {
    return { ok: false, error: (error instanceof Error ? error.message : String(error)).split('\n')[0]! };
  }
}

function startWorker(line: string): void {
  const worker = new Worker(__filename, { workerData: JSON.parse(line) as KeychainRequest });
  worker.once('message', (answer: KeychainAnswer) => {
    writeSync(1, `${JSON.stringify(answer)}\n`);
    process.exit(0);
  });
  worker.once('error', (error) => {
    writeSync(1, `${JSON.stringify({ ok: false, error: error.message.split('\n')[0]! } satisfies KeychainAnswer)}\n`);
    process.exit(0);
  });
}

if (isMainThread) {
  let input = '';
  let started = false;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    input += chunk;
    if (!started && input.includes('\n')) {
      started = true;
      startWorker(input.slice(0, input.indexOf('\n')));
    }
  });
  // The CLI keeps stdin open until it has the answer: an end means it is gone.
  process.stdin.on('end', () => process.kill(process.pid, 'SIGKILL'));
} else {
  void call(workerData as KeychainRequest).then((answer) => parentPort!.postMessage(answer));
}
