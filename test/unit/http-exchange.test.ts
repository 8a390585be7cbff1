/**
 * src/net/http-exchange.ts: "sends one request and reads its answer; never throws", on a real loopback server; and its
 * two callers' words for a request node refuses to send (src/net/mdm/http.ts, src/output/webhook.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../../src/net/http-exchange.js';
import { exchange as mdmExchange } from '../../src/net/mdm/http.js';
import { postWebhook } from '../../src/output/webhook.js';

let requests = 0;
const server = createServer((_req, res) => {
  requests++;
  res.end('ok');
});
let url: URL;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('exchange', () => {
  it('answers', async () => {
    expect(await exchange({ method: 'GET', url, headers: {}, timeoutMs: 2000, maxAnswerBytes: 100 })).toEqual({
      kind: 'answer',
      status: 200,
      body: 'ok',
    });
  });

  it('a header node refuses (a credential with a second line) is an error result, sent nowhere, and nothing throws later', async () => {
    const before = requests;
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    process.on('uncaughtException', onError);
    try {
      const r = await exchange({
        method: 'GET',
        url,
        headers: { authorization: 'Bearer line one\nline two' },
        timeoutMs: 50,
        maxAnswerBytes: 100,
      });
      expect(r).toEqual({ kind: 'error', code: 'ERR_INVALID_CHAR' });
      await new Promise((resolve) => setTimeout(resolve, 150)); // past the timeout: its timer was cleared
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(errors).toEqual([]);
    expect(requests).toBe(before);
  });

  it('to an MDM server: "not sent", naming the credential, not "unreachable" (which says: retry later)', async () => {
    const before = requests;
    const credential = 'token-with-\u20ac';
    const r = await mdmExchange({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${credential}` },
      timeoutMs: 2000,
      secrets: [credential],
    });
    expect(r).toEqual({ kind: 'not-sent', cause: 'the credential holds a character an HTTP header cannot carry' });
    expect(requests).toBe(before);
  });

  it('a webhook URL whose user or password is not percent-encoding: a cause, not a throw (which would hide the expiry)', async () => {
    const before = requests;
    const hook = new URL(url);
    hook.username = 'u';
    hook.password = '%E0%A4%A';
    await expect(postWebhook(hook, { text: 'x' }, 2000)).resolves.toBe(
      "the webhook URL's user or password is not well-formed percent-encoding (%XX)",
    );
    expect(requests).toBe(before);
  });
});
