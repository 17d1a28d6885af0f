/** Absolute, signed companion URLs (src/auth/url-signer.ts): the only way resolvers hand them out. */
import type { Context } from './context.js';

/** ctx.baseUrl + the route path, signed for ctx.principal (its user and API token). */
export function signedUrl(ctx: Pick<Context, 'baseUrl' | 'urlSigner' | 'principal'>, pathAndQuery: string): string {
  return ctx.baseUrl + ctx.urlSigner.sign(pathAndQuery, { userId: ctx.principal.userId, tokenId: ctx.principal.tokenId });
}
