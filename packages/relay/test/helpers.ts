import { createRelay, type Relay, type RelayOptions } from '../src/index.js';

/** An in-process relay on a free loopback port, silent. */
export async function relayFor(options: RelayOptions = {}): Promise<Relay & { base: string }> {
  const relay = createRelay({ port: 0, host: '127.0.0.1', log: () => undefined, ...options });
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
