import type { IncomingMessage } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Principal, ResolvedOptions } from './options.js';

/** The credential accepted everywhere in `--dev` mode. */
export const DEV_CREDENTIAL = 'dev';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time membership test (hashing first makes lengths equal). */
export function credentialListed(credential: string, allowed: readonly string[]): boolean {
  const d = digest(credential);
  let found = false;
  for (const candidate of allowed) if (timingSafeEqual(d, digest(candidate))) found = true;
  return found;
}

/** SHA-256 (hex) of a credential: what shared state keeps instead of a user's or customer's token. */
export function credentialHash(credential: string): string {
  return digest(credential).toString('hex');
}

/** Constant-time check of a credential against a {@link credentialHash}. */
export function credentialMatches(credential: string, hash: string): boolean {
  const expected = Buffer.from(hash, 'hex');
  const d = digest(credential);
  return expected.length === d.length && timingSafeEqual(d, expected);
}

/** A stable, non-reversible id for a credential, safe to log. */
export function credentialId(credential: string): string {
  return digest(credential).toString('hex').slice(0, 12);
}

/**
 * Decides whether a door's credential lets the caller in: the library's `authenticate` hook when
 * given, else the configured list, else (only in dev mode) the credential `dev`.
 */
export async function authenticate(
  options: ResolvedOptions,
  req: IncomingMessage,
  dialect: string,
  credential: string | undefined,
  configured: readonly string[],
): Promise<Principal | undefined> {
  if (options.authenticate)
    return (await options.authenticate({ dialect, headers: req.headers, credential })) ?? undefined;
  if (!credential) return undefined;
  if (credentialListed(credential, configured)) return { id: credentialId(credential) };
  if (options.dev && credential === DEV_CREDENTIAL) return { id: 'dev' };
  return undefined;
}
