import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalString, UrlSigner } from '../../src/auth/url-signer.js';
import { loadOrCreateKeyFile, loadUrlSigningKey, URL_SIGNING_KEY_FILE } from '../../src/auth/url-signing-key.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const KEY = Buffer.alloc(32, 7);
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0); // a bucket boundary for every TTL used below
const FILE = '1bc9b73b-8c1e-4f43-9d8e-1a2b3c4d5e6f';
const OTHER_FILE = '2bc9b73b-8c1e-4f43-9d8e-1a2b3c4d5e6f';
const PNG = `/files/${FILE}/frames/2.png?v=0123456789abcdefr1&center=40&width=400&maxSize=64&bitDepth=16`;

function signer(options: { key?: Buffer; ttl?: number; now?: () => number } = {}) {
  return new UrlSigner(options.key ?? KEY, { ttlSeconds: options.ttl ?? 3600, now: options.now ?? (() => T0) });
}

/** Verifies a path-and-query as the route would see it. */
function check(s: UrlSigner, pathAndQuery: string) {
  const url = new URL(pathAndQuery, 'http://localhost');
  return s.verify(url.pathname, url.searchParams);
}

/** Applies `edit` to the query of a signed URL. */
function editQuery(signed: string, edit: (q: URLSearchParams) => void): string {
  const url = new URL(signed, 'http://localhost');
  edit(url.searchParams);
  return `${url.pathname}?${url.searchParams.toString()}`;
}

describe('UrlSigner', () => {
  it('round trip: the signed URL keeps path and parameters, adds u, k, exp, sig, and verifies to its claims', () => {
    const s = signer();
    const signed = s.sign(PNG, { userId: 42, tokenId: 'tok_AbC-9' });
    expect(signed).toMatch(/^\/files\/[0-9a-f-]+\/frames\/2\.png\?v=0123456789abcdefr1&center=40&width=400&maxSize=64&bitDepth=16&u=42&k=tok_AbC-9&exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
    const exp = T0 / 1000 + 3600;
    expect(new URL(signed, 'http://x').searchParams.get('exp')).toBe(String(exp));
    expect(check(s, signed)).toEqual({ ok: true, userId: 42, tokenId: 'tok_AbC-9', expiresAt: exp * 1000 });
  });

  it('local mode: no k, tokenId null', () => {
    const s = signer();
    const signed = s.sign(`/files/${FILE}/download`, { userId: 1, tokenId: null });
    expect(new URL(signed, 'http://x').searchParams.has('k')).toBe(false);
    expect(check(s, signed)).toMatchObject({ ok: true, userId: 1, tokenId: null });
  });

  it('signs every companion route', () => {
    const s = signer();
    for (const path of [`/files/${FILE}/download`, `/files/${FILE}/bulkdata/00880200/0/7FE00010`, '/series/12.zip', '/studies/3.zip', PNG]) {
      expect(check(s, s.sign(path, { userId: 5, tokenId: null })).ok, path).toBe(true);
    }
  });

  describe('any change breaks the signature (INVALID_SIGNATURE)', () => {
    const s = signer();
    const signed = s.sign(PNG, { userId: 42, tokenId: 'tok_1' });
    const cases: [string, string][] = [
      ['another file id', signed.replace(FILE, OTHER_FILE)],
      ['another frame', signed.replace('/frames/2.png', '/frames/1.png')],
      ['another route, same file', signed.replace('/frames/2.png', '/download')],
      ['center', editQuery(signed, (q) => q.set('center', '41'))],
      ['width', editQuery(signed, (q) => q.set('width', '4000'))],
      ['maxSize', editQuery(signed, (q) => q.set('maxSize', '512'))],
      ['bitDepth', editQuery(signed, (q) => q.set('bitDepth', '8'))],
      ['v', editQuery(signed, (q) => q.set('v', 'fedcba9876543210r1'))],
      ['u', editQuery(signed, (q) => q.set('u', '43'))],
      ['k', editQuery(signed, (q) => q.set('k', 'tok_2'))],
      ['k removed', editQuery(signed, (q) => q.delete('k'))],
      ['exp later', editQuery(signed, (q) => q.set('exp', String(Number(q.get('exp')) + 3600)))],
      ['exp earlier', editQuery(signed, (q) => q.set('exp', String(Number(q.get('exp')) - 1)))],
      ['sig: one character changed', editQuery(signed, (q) => q.set('sig', (q.get('sig')!.startsWith('A') ? 'B' : 'A') + q.get('sig')!.slice(1)))],
      ['sig truncated', editQuery(signed, (q) => q.set('sig', q.get('sig')!.slice(0, 42)))],
      ['sig duplicated', editQuery(signed, (q) => q.append('sig', q.get('sig')!))],
      ['a parameter added', editQuery(signed, (q) => q.append('foo', 'bar'))],
      ['an empty parameter added', editQuery(signed, (q) => q.append('maxSize', ''))],
      ['window removed', editQuery(signed, (q) => (q.delete('center'), q.delete('width')))],
      ['maxSize removed', editQuery(signed, (q) => q.delete('maxSize'))],
      ['v removed', editQuery(signed, (q) => q.delete('v'))],
      ['a parameter duplicated', editQuery(signed, (q) => q.append('bitDepth', '16'))],
      ['u duplicated', editQuery(signed, (q) => q.append('u', '42'))],
      ['exp duplicated', editQuery(signed, (q) => q.append('exp', q.get('exp')!))],
      ['percent-encoded path segment', signed.replace('/frames/', '/%66rames/')],
    ];
    it.each(cases)('%s', (_what, tampered) => {
      expect(tampered).not.toBe(signed);
      expect(check(s, tampered)).toEqual({ ok: false, code: 'INVALID_SIGNATURE' });
    });

    it('reordering the parameters changes nothing (same canonical string)', () => {
      const url = new URL(signed, 'http://x');
      const reversed = new URLSearchParams([...url.searchParams].reverse());
      expect(check(s, `${url.pathname}?${reversed.toString()}`)).toMatchObject({ ok: true });
    });

    it('another secret rejects it', () => {
      expect(check(signer({ key: randomBytes(32) }), signed)).toEqual({ ok: false, code: 'INVALID_SIGNATURE' });
    });
  });

  it('MISSING_SIGNATURE without sig; INVALID_SIGNATURE with sig but no u or exp', () => {
    const s = signer();
    expect(check(s, PNG)).toEqual({ ok: false, code: 'MISSING_SIGNATURE' });
    const signed = s.sign(PNG, { userId: 1, tokenId: null });
    expect(check(s, editQuery(signed, (q) => q.delete('sig')))).toEqual({ ok: false, code: 'MISSING_SIGNATURE' });
    expect(check(s, editQuery(signed, (q) => q.delete('u')))).toEqual({ ok: false, code: 'INVALID_SIGNATURE' });
    expect(check(s, editQuery(signed, (q) => q.delete('exp')))).toEqual({ ok: false, code: 'INVALID_SIGNATURE' });
  });

  it('refuses to sign a path that already uses a signature parameter', () => {
    expect(() => signer().sign(`${PNG}&u=2`, { userId: 1, tokenId: null })).toThrow(/"u"/);
    expect(() => signer().sign(`/series/1.zip?sig=x`, { userId: 1, tokenId: null })).toThrow(/"sig"/);
  });

  it('expires exactly at exp: valid 1 ms before, URL_EXPIRED at and after', () => {
    let now = T0;
    const s = signer({ ttl: 60, now: () => now });
    const signed = s.sign(PNG, { userId: 1, tokenId: null });
    const exp = Number(new URL(signed, 'http://x').searchParams.get('exp')) * 1000;
    now = exp - 1;
    expect(check(s, signed).ok).toBe(true);
    now = exp;
    expect(check(s, signed)).toEqual({ ok: false, code: 'URL_EXPIRED' });
    now = exp + 86_400_000;
    expect(check(s, signed)).toEqual({ ok: false, code: 'URL_EXPIRED' });
    // An expired URL whose exp was moved later is not valid either.
    expect(check(s, editQuery(signed, (q) => q.set('exp', String(now / 1000 + 60))))).toEqual({ ok: false, code: 'INVALID_SIGNATURE' });
  });

  it('buckets the expiry: the same URL for a while, always living between ttl and ttl + bucket', () => {
    for (const [ttl, bucket] of [
      [3600, 900],
      [60, 15],
      [7 * 86_400, 900],
      [2, 1],
      [1, 1],
    ] as const) {
      let now = T0 + 1; // just after a boundary: the URL lives the longest
      const s = signer({ ttl, now: () => now });
      const first = s.sign(PNG, { userId: 1, tokenId: null });
      const exp = Number(new URL(first, 'http://x').searchParams.get('exp'));
      expect(exp % bucket, `ttl ${ttl}`).toBe(0);
      expect(exp, `ttl ${ttl}`).toBe(T0 / 1000 + ttl + bucket);
      for (const dt of [0, 1, bucket * 500 - 1, bucket * 1000 - 1]) {
        now = T0 + 1 + dt;
        const url = s.sign(PNG, { userId: 1, tokenId: null });
        expect(url, `ttl ${ttl} +${dt} ms`).toBe(first); // stable within the bucket
        const life = Number(new URL(url, 'http://x').searchParams.get('exp')) - now / 1000;
        expect(life, `ttl ${ttl}`).toBeGreaterThanOrEqual(ttl);
        expect(life, `ttl ${ttl}`).toBeLessThanOrEqual(ttl + bucket);
      }
      now = T0 + bucket * 1000 + 1; // the next bucket: a new URL
      expect(s.sign(PNG, { userId: 1, tokenId: null })).not.toBe(first);
    }
  });

  it('canonical string: sorted by name then value, URLSearchParams encoding, sig left out', () => {
    const params = new URLSearchParams('b=2&a=x y&a=%C3%A9&sig=zzz&a=1');
    expect(canonicalString('/p%20q', params)).toBe('dicomql-signed-url-v1\n/p%20q\na=1&a=x+y&a=%C3%A9&b=2');
  });

  it('refuses keys under 256 bits', () => {
    expect(() => new UrlSigner(Buffer.alloc(31), { ttlSeconds: 60 })).toThrow(/at least 32 bytes/);
  });
});

describe('URL signing key', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomql-key-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('is created once in DATA_DIR (32 random bytes, mode 0600) and reused', async () => {
    const dir = tempDir();
    const first = await loadOrCreateKeyFile(dir);
    const path = join(dir, URL_SIGNING_KEY_FILE);
    expect(first).toHaveLength(32);
    expect(readFileSync(path).equals(first)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateKeyFile(dir)).equals(first)).toBe(true);
    expect((await loadOrCreateKeyFile(tempDir())).equals(first)).toBe(false); // random per DATA_DIR
  });

  it('concurrent creation agrees on one key and leaves no temp files', async () => {
    const dir = tempDir();
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyFile(dir)));
    for (const key of keys) expect(key.equals(keys[0]!)).toBe(true);
    expect(readFileSync(join(dir, URL_SIGNING_KEY_FILE)).equals(keys[0]!)).toBe(true);
    expect(readdirSync(dir)).toEqual([URL_SIGNING_KEY_FILE]);
  });

  it('URL_SIGNING_SECRET wins over the file; the file is then never created', async () => {
    const dir = tempDir();
    const secret = 's'.repeat(40);
    expect((await loadUrlSigningKey({ secret, dataDir: dir })).equals(Buffer.from(secret))).toBe(true);
    expect(existsSync(join(dir, URL_SIGNING_KEY_FILE))).toBe(false);
  });

  it('a short key file stops the start with a message saying what to do', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, URL_SIGNING_KEY_FILE), 'short');
    await expect(loadOrCreateKeyFile(dir)).rejects.toThrow(/holds 5 bytes.*delete it/);
  });

  it('a URL_SIGNING_SECRET under 32 characters is a ConfigError', () => {
    expect(() => loadConfig({ URL_SIGNING_SECRET: 'too short' })).toThrow(ConfigError);
    expect(() => loadConfig({ URL_SIGNING_SECRET: 'x'.repeat(31) })).toThrow(/URL_SIGNING_SECRET must have at least 32 characters/);
    expect(loadConfig({ URL_SIGNING_SECRET: 'x'.repeat(32) }).urlSigningSecret).toBe('x'.repeat(32));
  });
});
