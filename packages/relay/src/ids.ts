import { randomBytes, randomInt } from 'node:crypto';

/** A numeric code of `digits` digits (no leading zero), e.g. a session token a customer reads aloud. */
export function numericCode(digits: number): string {
  return String(randomInt(10 ** (digits - 1), 10 ** digits));
}

/** A code from `alphabet`, uniformly drawn. */
export function codeFrom(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** An unguessable secret, URL-safe. */
export function secretToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
