/**
 * Remembers which exact request targets (path + query, as the client sent them) carried a valid
 * signature, so that a URL fetched again (an image revalidated with If-None-Match, a page of
 * thumbnails reloaded) skips the HMAC. What it may skip and what it may not:
 *
 * - The signature is a function of the URL's bytes and the signing key only (url-signer.ts), and
 *   the key is fixed for the signer's life: the same target string always verifies the same way,
 *   so a verified target may skip the HMAC. Only targets whose signature verified are kept; a
 *   target that failed (altered, wrong key, malformed, missing sig) is checked in full every time.
 * - Expiry depends on the clock: it is checked against the signer's clock on every request, and
 *   an expired entry is dropped (URL_EXPIRED, as the signer says).
 * - Whether the URL's user or token still authenticates is not a property of the URL: the caller
 *   asks for the principal on every request (app.ts front(), principalForSignedUrl), so revoking a
 *   token ends its URLs at once, cached or not.
 *
 * Bounded: at most `maxEntries` targets (least recently used go first), and targets longer than
 * MAX_TARGET_LENGTH are never kept.
 */
import { LRUCache } from 'lru-cache';
import type { UrlSigner, VerifiedUrl } from './url-signer.js';

type Verified = Extract<VerifiedUrl, { ok: true }>;

export const DEFAULT_VERIFIED_URL_ENTRIES = 10_000;
/** Longer targets are verified every time (memory bound: entries × this). */
export const MAX_TARGET_LENGTH = 2048;

const EXPIRED: VerifiedUrl = Object.freeze({ ok: false, code: 'URL_EXPIRED' });

export class VerifiedUrlCache {
  /** lru-cache: a hit does not touch its Map (file-facts-cache.ts says why that matters). */
  private readonly entries: LRUCache<string, Verified> | undefined;
  private hmacChecks = 0;

  constructor(
    private readonly signer: Pick<UrlSigner, 'verify' | 'currentTime'>,
    readonly maxEntries: number = DEFAULT_VERIFIED_URL_ENTRIES,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError(`maxEntries must be an integer ≥ 0, got ${maxEntries}`);
    this.entries = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : undefined;
  }

  /**
   * Verifies the request target `target` (req.url, exactly as received), whose parse is `url`
   * (new URL(target, base): the same string always parses the same way). Same answers as
   * signer.verify(url.pathname, url.searchParams) at the signer's current time.
   */
  verify(target: string, url: URL): VerifiedUrl {
    const hit = this.entries?.get(target);
    if (hit !== undefined) {
      if (this.signer.currentTime() < hit.expiresAt) return hit;
      this.entries!.delete(target);
      return EXPIRED;
    }
    this.hmacChecks++;
    const result = this.signer.verify(url.pathname, url.searchParams);
    if (result.ok && this.entries && target.length <= MAX_TARGET_LENGTH) this.entries.set(target, Object.freeze(result));
    return result;
  }

  /** Targets kept, and how many verifications ran the full check (tests, monitoring). */
  stats(): { entries: number; hmacChecks: number } {
    return { entries: this.entries?.size ?? 0, hmacChecks: this.hmacChecks };
  }
}
