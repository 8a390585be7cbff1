/**
 * POSTs a JSON message to a webhook (Slack and Teams read its `text`). Resolves to null on success,
 * else to a one-line cause; never throws, so a failed notification cannot hide the expiry status.
 */
export async function postWebhook(url: URL, body: object, timeoutMs: number): Promise<string | null> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'apns-cert' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.ok ? null : `the webhook answered HTTP ${response.status}`;
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 100) / 10} s`;
    return e.cause?.code ?? e.cause?.message ?? e.message;
  }
}
