import { describe, expect, it } from 'vitest';
import { UrlSigner } from '../../src/auth/url-signer.js';
import { MAX_TARGET_LENGTH, VerifiedUrlCache } from '../../src/auth/verified-url-cache.js';

const KEY = Buffer.alloc(32, 9);
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const FILE = '1bc9b73b-8c1e-4f43-9d8e-1a2b3c4d5e6f';
const png = (center: number) => `/files/${FILE}/frames/1.png?center=${center}&width=400`;

/** A signer whose full checks (the HMAC) are counted, on a clock the test moves. */
function setup(maxEntries?: number) {
  const clock = { now: T0 };
  const signer = new UrlSigner(KEY, { ttlSeconds: 60, now: () => clock.now });
  let fullChecks = 0;
  const verify = signer.verify.bind(signer);
  signer.verify = (pathname, params) => {
    fullChecks++;
    return verify(pathname, params);
  };
  const cache = new VerifiedUrlCache(signer, maxEntries);
  /** What the route does: the cache keyed by the exact target, with its parse. */
  const check = (target: string) => cache.verify(target, new URL(target, 'http://localhost'));
  return { clock, signer, cache, check, fullChecks: () => fullChecks };
}

describe('VerifiedUrlCache', () => {
  it('a repeated target skips the full check and answers what the signer answers', () => {
    const { signer, check, fullChecks, cache } = setup();
    const url = signer.sign(png(40), { userId: 3, tokenId: 'tok_a' });
    const first = check(url);
    expect(first).toEqual({ ok: true, userId: 3, tokenId: 'tok_a', expiresAt: Number(new URL(url, 'http://x').searchParams.get('exp')) * 1000 });
    expect(fullChecks()).toBe(1);
    for (let i = 0; i < 5; i++) expect(check(url)).toEqual(first);
    expect(fullChecks()).toBe(1);
    expect(cache.stats()).toEqual({ entries: 1, hmacChecks: 1 });
  });

  it('checks the expiry against the clock on every hit', () => {
    const { clock, signer, check, fullChecks } = setup();
    const url = signer.sign(png(40), { userId: 1, tokenId: null });
    const expiresAt = Number(new URL(url, 'http://x').searchParams.get('exp')) * 1000;
    expect(check(url).ok).toBe(true);
    clock.now = expiresAt - 1;
    expect(check(url).ok).toBe(true);
    clock.now = expiresAt;
    expect(check(url)).toEqual({ ok: false, code: 'URL_EXPIRED' });
    // Dropped once expired: a later request runs the full check again, which says the same.
    expect(check(url)).toEqual({ ok: false, code: 'URL_EXPIRED' });
    expect(fullChecks()).toBe(2);
  });

  it('never keeps a target that failed: altered, wrongly signed or unsigned URLs are fully checked every time', () => {
    const { signer, check, fullChecks, cache } = setup();
    const good = signer.sign(png(40), { userId: 1, tokenId: null });
    expect(check(good).ok).toBe(true);
    const sig = new URL(good, 'http://x').searchParams.get('sig')!;
    const badSig = good.replace(sig, (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    const otherUser = good.replace('u=1', 'u=2');
    const otherKey = new UrlSigner(Buffer.alloc(32, 1), { ttlSeconds: 60, now: () => T0 }).sign(png(40), { userId: 1, tokenId: null });
    for (const bad of [badSig, otherUser, otherKey, png(40)]) {
      const expected = bad === png(40) ? 'MISSING_SIGNATURE' : 'INVALID_SIGNATURE';
      const before = fullChecks();
      expect(check(bad)).toEqual({ ok: false, code: expected });
      expect(check(bad)).toEqual({ ok: false, code: expected });
      expect(fullChecks() - before).toBe(2);
    }
    expect(cache.stats().entries).toBe(1); // the good one only
    expect(check(good).ok).toBe(true);
  });

  it('keys by the exact target: another spelling of the same URL is checked on its own', () => {
    const { signer, check, fullChecks } = setup();
    const url = signer.sign(png(40), { userId: 1, tokenId: null });
    const [path, query] = url.split('?') as [string, string];
    const reordered = `${path}?${query.split('&').reverse().join('&')}`;
    expect(check(url).ok).toBe(true);
    expect(check(reordered).ok).toBe(true); // same canonical string, so valid, but not the cached entry
    expect(fullChecks()).toBe(2);
    expect(check(reordered).ok).toBe(true);
    expect(fullChecks()).toBe(2);
  });

  it('is bounded: the least recently used target goes first', () => {
    const { signer, check, fullChecks, cache } = setup(2);
    const [a, b, c] = [40, 41, 42].map((center) => signer.sign(png(center), { userId: 1, tokenId: null })) as [string, string, string];
    check(a);
    check(b);
    check(a); // a is now the most recent
    check(c); // evicts b
    expect(cache.stats().entries).toBe(2);
    const before = fullChecks();
    check(a);
    check(c);
    expect(fullChecks()).toBe(before);
    check(b);
    expect(fullChecks()).toBe(before + 1);
  });

  it('does not keep very long targets, nor anything with maxEntries 0', () => {
    const { signer, check, cache } = setup();
    const long = signer.sign(`${png(40)}&pad=${'x'.repeat(MAX_TARGET_LENGTH)}`, { userId: 1, tokenId: null });
    expect(check(long).ok).toBe(true);
    expect(cache.stats().entries).toBe(0);
    const off = setup(0);
    expect(off.check(off.signer.sign(png(40), { userId: 1, tokenId: null })).ok).toBe(true);
    expect(off.cache.stats().entries).toBe(0);
  });
});
