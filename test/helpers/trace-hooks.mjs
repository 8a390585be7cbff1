import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (process.env.APNS_CERT_TRACE_FILE) appendFileSync(process.env.APNS_CERT_TRACE_FILE, `${result.url}\n`);
  return result;
}
