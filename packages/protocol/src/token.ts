import { fromBase64Url, toBase64Url } from './base64url.js';
import { type Role, isRole } from './roles.js';

/**
 * Connection tokens ("signature" in the connection-info APIs): `base64url(claims JSON).base64url(HMAC-SHA256)`.
 * Signed and verified with WebCrypto, so the same code runs in the relay and in a browser.
 */
export interface TokenClaims {
  /** Room the token opens. */
  readonly room: string;
  /** Role the token grants in that room. */
  readonly role: Role;
  /** Who: the caller's user id and display name. */
  readonly user: string;
  readonly name: string;
  /** Tenant space the room belongs to, when the dialect has tenants. */
  readonly tenant?: string;
  /** Expiry, ms since epoch. */
  readonly exp: number;
  /** Random id of this token. */
  readonly jti: string;
}

export type TokenFailure = 'malformed' | 'bad-signature' | 'expired' | 'wrong-room' | 'wrong-role' | 'wrong-tenant';

export type TokenResult = { ok: true; claims: TokenClaims } | { ok: false; reason: TokenFailure };

export interface TokenExpectation {
  room?: string;
  role?: Role;
  tenant?: string;
  /** Clock for expiry checks, ms since epoch (default Date.now()). */
  now?: number;
}

const encoder = /* @__PURE__ */ new TextEncoder();
const decoder = /* @__PURE__ */ new TextDecoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    keys.set(secret, key);
  }
  return key;
}

function randomId(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(12)));
}

/** Signs claims for `ttlMs` from now. */
export async function signToken(
  secret: string,
  claims: Omit<TokenClaims, 'exp' | 'jti'> & { exp?: number; jti?: string },
  ttlMs = 5 * 60_000,
): Promise<string> {
  const full: TokenClaims = { ...claims, exp: claims.exp ?? Date.now() + ttlMs, jti: claims.jti ?? randomId() };
  const body = toBase64Url(encoder.encode(JSON.stringify(full)));
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(body)));
  return `${body}.${toBase64Url(mac)}`;
}

function isClaims(value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.room === 'string' &&
    isRole(c.role) &&
    typeof c.user === 'string' &&
    typeof c.name === 'string' &&
    (c.tenant === undefined || typeof c.tenant === 'string') &&
    typeof c.exp === 'number' &&
    typeof c.jti === 'string'
  );
}

/**
 * Verifies a token: the MAC first (WebCrypto's verify compares in constant time), then expiry,
 * room, role and tenant against what the caller expects.
 */
export async function verifyToken(secret: string, token: string, expect: TokenExpectation = {}): Promise<TokenResult> {
  if (typeof token !== 'string' || token.length > 4096) return { ok: false, reason: 'malformed' };
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const mac = fromBase64Url(token.slice(dot + 1));
  const bodyBytes = fromBase64Url(body);
  if (!mac || !bodyBytes || mac.length !== 32) return { ok: false, reason: 'malformed' };
  const valid = await crypto.subtle.verify('HMAC', await hmacKey(secret), mac, encoder.encode(body));
  if (!valid) return { ok: false, reason: 'bad-signature' };
  let claims: unknown;
  try {
    claims = JSON.parse(decoder.decode(bodyBytes));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!isClaims(claims)) return { ok: false, reason: 'malformed' };
  if (claims.exp <= (expect.now ?? Date.now())) return { ok: false, reason: 'expired' };
  if (expect.room !== undefined && claims.room !== expect.room) return { ok: false, reason: 'wrong-room' };
  if (expect.role !== undefined && claims.role !== expect.role) return { ok: false, reason: 'wrong-role' };
  if (expect.tenant !== undefined && claims.tenant !== expect.tenant) return { ok: false, reason: 'wrong-tenant' };
  return { ok: true, claims };
}
