/**
 * Signed companion URLs (pngUrl, downloadUrl, dicomJson BulkDataURI, zipUrl): the URL itself is
 * the credential, so that `<img src>` and plain links work without headers.
 *
 *   /files/{id}/frames/1.png?v=…&maxSize=64&u=7&k=tok_ab12&exp=1767225600&sig=<base64url>
 *
 * `u` is the owner's user id, `k` the API token's public id when the request that obtained the URL
 * used one (absent in local mode), `exp` the expiry in unix seconds, `sig` an HMAC-SHA256 over a
 * canonical string: the path (percent-encoded, as the route sees it) and every other parameter,
 * sorted by name then value. Changing, adding, removing or duplicating any of them (the path, u, k
 * and exp included) breaks the signature; only their order does not matter, as it changes nothing.
 *
 * Expiry is bucketed: exp = ceil((now + ttl) / g) · g with g = min(ttl / 4, 900 s), at least 1 s.
 * The same query within one bucket gives the same URL (browser caches hit), and a URL lives
 * between ttl and ttl + g.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Who a URL acts for: the owner, and the API token the URL was obtained with (null in local mode). */
export interface UrlClaims {
  readonly userId: number;
  readonly tokenId: string | null;
}

export type SignatureFailure = 'MISSING_SIGNATURE' | 'INVALID_SIGNATURE' | 'URL_EXPIRED';

export type VerifiedUrl =
  | { readonly ok: true; readonly userId: number; readonly tokenId: string | null; /** Unix ms. */ readonly expiresAt: number }
  | { readonly ok: false; readonly code: SignatureFailure };

/** Query parameters the signer owns; the route's own parameters must not use these names. */
export const SIGNATURE_PARAMS = ['u', 'k', 'exp', 'sig'] as const;

/** Smallest key: 256 bits. */
export const MIN_SECRET_BYTES = 32;

const DOMAIN = 'dicomql-signed-url-v1';
const MAX_BUCKET_SECONDS = 900;
const TOKEN_ID = /^[A-Za-z0-9_-]{1,128}$/;
const USER_ID = /^[1-9]\d{0,15}$/;
const EXP = /^[1-9]\d{0,12}$/;
const SIG = /^[A-Za-z0-9_-]{43}$/; // 32 bytes, base64url without padding

export interface UrlSignerOptions {
  /** Lifetime of a new URL, seconds (≥ 1). */
  readonly ttlSeconds: number;
  /** Clock (unix ms); tests move it. */
  readonly now?: () => number;
}

export class UrlSigner {
  private readonly ttl: number;
  private readonly bucket: number;
  private readonly now: () => number;

  constructor(
    private readonly secret: Buffer,
    options: UrlSignerOptions,
  ) {
    if (secret.length < MIN_SECRET_BYTES) throw new Error(`URL signing key must have at least ${MIN_SECRET_BYTES} bytes, got ${secret.length}`);
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) throw new Error(`ttlSeconds must be an integer ≥ 1, got ${options.ttlSeconds}`);
    this.ttl = options.ttlSeconds;
    this.bucket = Math.max(1, Math.min(Math.floor(this.ttl / 4), MAX_BUCKET_SECONDS));
    this.now = options.now ?? Date.now;
  }

  /** Expiry (unix seconds) a URL signed at nowMs gets: at least ttl later, on a bucket boundary. */
  expiryFor(nowMs: number = this.now()): number {
    return Math.ceil((nowMs / 1000 + this.ttl) / this.bucket) * this.bucket;
  }

  /**
   * Signs a route path with its query ("/files/x/frames/1.png?v=…"), returning it with
   * u, k, exp and sig appended. The path must not already carry any of SIGNATURE_PARAMS.
   */
  sign(pathAndQuery: string, claims: UrlClaims): string {
    return this.signWithExpiry(pathAndQuery, claims).url;
  }

  /** sign(), also telling the expiry (unix seconds) the URL got. */
  signWithExpiry(pathAndQuery: string, claims: UrlClaims): { url: string; exp: number } {
    const url = new URL(pathAndQuery, 'http://localhost');
    for (const name of SIGNATURE_PARAMS) {
      if (url.searchParams.has(name)) throw new Error(`a signed route must not use the query parameter "${name}"`);
    }
    if (!USER_ID.test(String(claims.userId))) throw new Error(`invalid user id ${claims.userId}`);
    if (claims.tokenId !== null && !TOKEN_ID.test(claims.tokenId)) throw new Error('invalid token id');
    url.searchParams.append('u', String(claims.userId));
    if (claims.tokenId !== null) url.searchParams.append('k', claims.tokenId);
    const exp = this.expiryFor();
    url.searchParams.append('exp', String(exp));
    url.searchParams.append('sig', this.mac(url.pathname, url.searchParams).toString('base64url'));
    return { url: `${url.pathname}?${url.searchParams.toString()}`, exp };
  }

  /**
   * The instants (unix ms) at which sign() gives expiry `exp`: after < now ≤ until. A cached
   * answer holding a URL with this expiry equals a fresh one only then.
   */
  expiryWindow(exp: number): { after: number; until: number } {
    return { after: (exp - this.bucket - this.ttl) * 1000, until: (exp - this.ttl) * 1000 };
  }

  /** The signer's clock (unix ms): what expiries are computed from. */
  currentTime(): number {
    return this.now();
  }

  /**
   * Checks a request's path (URL.pathname: percent-encoded) and query. The signature is checked
   * before the expiry, so that URL_EXPIRED is only ever said of a URL this server issued.
   */
  verify(pathname: string, params: URLSearchParams): VerifiedUrl {
    const sigs = params.getAll('sig');
    if (sigs.length === 0) return { ok: false, code: 'MISSING_SIGNATURE' };
    const invalid = { ok: false, code: 'INVALID_SIGNATURE' } as const;
    if (sigs.length !== 1 || !SIG.test(sigs[0]!)) return invalid;
    const u = params.getAll('u');
    const k = params.getAll('k');
    const exp = params.getAll('exp');
    if (u.length !== 1 || !USER_ID.test(u[0]!) || exp.length !== 1 || !EXP.test(exp[0]!) || k.length > 1 || (k.length === 1 && !TOKEN_ID.test(k[0]!))) {
      return invalid;
    }
    const given = Buffer.from(sigs[0]!, 'base64url');
    const expected = this.mac(pathname, params);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid;
    const expiresAt = Number(exp[0]) * 1000;
    if (this.now() >= expiresAt) return { ok: false, code: 'URL_EXPIRED' };
    return { ok: true, userId: Number(u[0]), tokenId: k[0] ?? null, expiresAt };
  }

  private mac(pathname: string, params: URLSearchParams): Buffer {
    return createHmac('sha256', this.secret).update(canonicalString(pathname, params)).digest();
  }
}

/**
 * DOMAIN "\n" path "\n" name=value&… — every parameter except sig, each encoded as
 * URLSearchParams encodes it, sorted by name then value (code units), duplicates kept.
 */
export function canonicalString(pathname: string, params: URLSearchParams): string {
  const pairs: [string, string][] = [];
  for (const [name, value] of params) if (name !== 'sig') pairs.push([name, value]);
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return `${DOMAIN}\n${pathname}\n${new URLSearchParams(pairs).toString()}`;
}
