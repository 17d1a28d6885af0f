/** The Principal a verified signed URL acts as (src/http/app.ts sets it on the request). */
import { LOCAL_USER_ID } from '../storage/schema.js';
import type { SignedUrlOwner } from '../storage/signed-url-principal.js';
import { LOCAL_PRINCIPAL, type Principal } from './principal.js';

/** undefined: the URL's user or token no longer authenticates (403 INVALID_SIGNATURE). */
export type PrincipalForSignedUrl = (userId: number, tokenId: string | null) => Principal | undefined;

/** Local-mode URLs (the local user, no token) need no lookup; others are checked on every request. */
export function principalForSignedUrl(findOwner: (userId: number, tokenId: string | null) => SignedUrlOwner | undefined): PrincipalForSignedUrl {
  return (userId, tokenId) => {
    if (userId === LOCAL_USER_ID && tokenId === null) return LOCAL_PRINCIPAL;
    const owner = findOwner(userId, tokenId);
    return owner ? Object.freeze({ userId: owner.id, userName: owner.name, isAdmin: owner.isAdmin, tokenId }) : undefined;
  };
}
