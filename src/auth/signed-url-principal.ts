/** The Principal a verified signed URL acts as (src/http/app.ts sets it on the request). */
import type { ApiTokenRepository } from '../storage/api-tokens.js';
import { LOCAL_USER_ID } from '../storage/schema.js';
import type { UserRepository } from '../storage/users.js';
import { LOCAL_PRINCIPAL, type Principal } from './principal.js';

/** undefined: the URL's user or token no longer authenticates (403 INVALID_SIGNATURE). */
export type PrincipalForSignedUrl = (userId: number, tokenId: string | null) => Principal | undefined;

/**
 * Local-mode URLs (the local user, no token) need no lookup. A URL naming a token acts for that
 * token's user while the token is valid (checked on every request: revoking a token ends its
 * URLs); one naming only a user acts for that user while the user exists. With `requireToken`
 * (AUTH=token, where every URL the API hands out names its token) a URL without one opens nothing:
 * URLs signed in local mode stop working once tokens are on.
 */
export function principalForSignedUrl(
  users: Pick<UserRepository, 'findById'>,
  tokens: Pick<ApiTokenRepository, 'activeOwner'>,
  options: { requireToken: boolean } = { requireToken: false },
): PrincipalForSignedUrl {
  return (userId, tokenId) => {
    if (tokenId === null && options.requireToken) return undefined;
    if (userId === LOCAL_USER_ID && tokenId === null) return LOCAL_PRINCIPAL;
    if (tokenId !== null) {
      const owner = tokens.activeOwner(tokenId, userId);
      return owner ? Object.freeze({ ...owner }) : undefined;
    }
    const user = users.findById(userId);
    return user ? Object.freeze({ userId: user.id, userName: user.name, isAdmin: user.isAdmin, tokenId: null }) : undefined;
  };
}
