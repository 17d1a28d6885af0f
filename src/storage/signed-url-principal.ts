/**
 * Who a signed companion URL acts for (src/auth/signed-url-principal.ts): the user it names, as
 * long as the API token it was obtained with (if any) still authenticates. A small private query
 * for now; it belongs in the users / api_tokens repositories.
 */
import type { Db } from './db.js';

export interface SignedUrlOwner {
  readonly id: number;
  readonly name: string;
  readonly isAdmin: boolean;
}

/**
 * The user `userId`; undefined when there is none, or when `tokenId` is given and that token is
 * revoked, expired at `nowMs`, or another user's.
 */
export function findSignedUrlOwner(db: Db, userId: number, tokenId: string | null, nowMs: number): SignedUrlOwner | undefined {
  const client = db.$client;
  const user = client.prepare('SELECT id, name, is_admin AS isAdmin FROM users WHERE id = ?').get(userId) as
    | { id: number; name: string; isAdmin: number }
    | undefined;
  if (!user) return undefined;
  if (tokenId !== null) {
    const token = client
      .prepare('SELECT 1 FROM api_tokens WHERE id = ? AND user_ref = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)')
      .get(tokenId, userId, nowMs);
    if (!token) return undefined;
  }
  return { id: user.id, name: user.name, isAdmin: user.isAdmin === 1 };
}
