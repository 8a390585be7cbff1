/** src/net/http-exchange.ts: "sends one request and reads its answer; never throws", on a real loopback server. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange } from '../../src/net/http-exchange.js';

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
});
