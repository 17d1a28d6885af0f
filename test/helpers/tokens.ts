/**
 * Users and API tokens straight in a DATA_DIR's database (as `npm run token -- create` does), for
 * tests of token mode: `startTestServer({ AUTH: 'token' }, dataDir)` then requests with the token.
 * Safe while a server runs on the same DATA_DIR (SQLite WAL, a second connection).
 */
import { openDatabase } from '../../src/storage/db.js';
import { ApiTokenRepository } from '../../src/storage/api-tokens.js';
import { UserRepository } from '../../src/storage/users.js';

export interface UserToken {
  /** The whole token: send as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** Its public id (ApiToken.id, audit trail tokenId). */
  readonly tokenId: string;
  readonly userId: number;
  readonly userName: string;
}

/** Creates the user if new (admin when asked) and a token for it. */
export function createUserToken(
  dataDir: string,
  name: string,
  options: { admin?: boolean; label?: string; expiresAt?: Date } = {},
): UserToken {
  const database = openDatabase(dataDir);
  try {
    const users = new UserRepository(database.db);
    const user = users.findByName(name) ?? users.create(name, { admin: options.admin ?? false });
    const { token, row } = new ApiTokenRepository(database.db).create(user.id, { label: options.label ?? null, expiresAt: options.expiresAt ?? null });
    return { token, tokenId: row.id, userId: user.id, userName: user.name };
  } finally {
    database.close();
  }
}

/** Headers that authenticate as `token`. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** A JSON GraphQL request to `baseUrl` with `headers` (e.g. bearer(token)); status and parsed body. */
export async function gqlWith<T = any>(
  baseUrl: string,
  headers: Record<string, string>,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ status: number; headers: Headers; body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] } }> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
