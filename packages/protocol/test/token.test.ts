import { expect, test } from '@playwright/test';
import { signToken, verifyToken, toBase64Url, fromBase64Url } from '../src/index.js';

const SECRET = 'test-secret';
const claims = { room: 'room-1', role: 'recorder' as const, user: 'u1', name: 'Ada' };

test.describe('connection tokens', () => {
  test('a fresh token verifies and carries its claims', async () => {
    const token = await signToken(SECRET, claims);
    const result = await verifyToken(SECRET, token, { room: 'room-1', role: 'recorder' });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.claims).toMatchObject(claims);
      expect(result.claims.exp).toBeGreaterThan(Date.now());
    }
  });

  test('a tampered body is refused', async () => {
    const token = await signToken(SECRET, claims);
    const [body, mac] = token.split('.');
    const forged = JSON.parse(new TextDecoder().decode(fromBase64Url(body!)));
    forged.room = 'someone-elses-room';
    const tampered = `${toBase64Url(new TextEncoder().encode(JSON.stringify(forged)))}.${mac}`;
    expect(await verifyToken(SECRET, tampered)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  test('a tampered MAC or another secret is refused', async () => {
    const token = await signToken(SECRET, claims);
    const mid = token.length - 10;
    const flipped = token.slice(0, mid) + (token[mid] === 'A' ? 'B' : 'A') + token.slice(mid + 1);
    expect(await verifyToken(SECRET, flipped)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(await verifyToken('other-secret', token)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  test('an expired token is refused', async () => {
    const token = await signToken(SECRET, claims, 1000);
    expect(await verifyToken(SECRET, token, { now: Date.now() + 1001 })).toEqual({ ok: false, reason: 'expired' });
    const past = await signToken(SECRET, { ...claims, exp: Date.now() - 1 });
    expect(await verifyToken(SECRET, past)).toEqual({ ok: false, reason: 'expired' });
  });

  test('a token for another room, role or tenant is refused', async () => {
    const token = await signToken(SECRET, { ...claims, tenant: 't1' });
    expect(await verifyToken(SECRET, token, { room: 'room-2' })).toEqual({ ok: false, reason: 'wrong-room' });
    expect(await verifyToken(SECRET, token, { role: 'replayer' })).toEqual({ ok: false, reason: 'wrong-role' });
    expect(await verifyToken(SECRET, token, { tenant: 't2' })).toEqual({ ok: false, reason: 'wrong-tenant' });
  });

  test('garbage is malformed, never an exception', async () => {
    for (const bad of [
      '',
      'abc',
      'a.b.c',
      '.',
      'x'.repeat(5000),
      '!!!.???',
      `${toBase64Url(new TextEncoder().encode('not json'))}.${'A'.repeat(43)}`,
    ]) {
      const result = await verifyToken(SECRET, bad);
      expect(result.ok).toBe(false);
    }
    // A correctly signed body that is not a claims object is malformed too.
    const body = toBase64Url(new TextEncoder().encode(JSON.stringify({ room: 1 })));
    const key = await crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(SECRET),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    const mac = toBase64Url(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body))));
    expect(await verifyToken(SECRET, `${body}.${mac}`)).toEqual({ ok: false, reason: 'malformed' });
  });
});
