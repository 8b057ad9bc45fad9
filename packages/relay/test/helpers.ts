import { createRelay, type Relay, type RelayOptions } from '../src/index.js';

/** A secret long enough for a relay without --dev (at least 32 bytes). */
export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789';

/** An in-process relay on a free loopback port, silent; a 32-byte secret unless the test names one. */
export async function relayFor(options: RelayOptions = {}): Promise<Relay & { base: string }> {
  const relay = createRelay({ port: 0, host: '127.0.0.1', log: () => undefined, secret: TEST_SECRET, ...options });
  const base = await relay.listen();
  return Object.assign(relay, { base });
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}
