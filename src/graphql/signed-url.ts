/** Absolute, signed companion URLs (src/auth/url-signer.ts): the only way resolvers hand them out. */
import type { Context } from './context.js';

/** ctx.baseUrl + the route path, signed for ctx.principal (its user and API token). */
export function signedUrl(ctx: Pick<Context, 'baseUrl' | 'urlSigner' | 'principal' | 'answerCache'>, pathAndQuery: string): string {
  const { url, exp } = ctx.urlSigner.signWithExpiry(pathAndQuery, { userId: ctx.principal.userId, tokenId: ctx.principal.tokenId });
  if (ctx.answerCache) {
    // The URL's expiry is bucketed: an answer holding it is only reusable while the bucket lasts.
    const window = ctx.urlSigner.expiryWindow(exp);
    ctx.answerCache.limitValidity(window.after, window.until);
  }
  return ctx.baseUrl + url;
}
