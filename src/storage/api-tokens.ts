/**
 * API tokens (api_tokens table). A token reads `dql_<publicId>_<secret>`: the public id (96
 * random bits) names the row and may appear in lists, logs and the audit trail; the secret (256
 * random bits) is never stored, only its SHA-256. The plaintext exists once: in create()'s answer.
 *
 * Why a fast hash and not bcrypt/scrypt/argon2: those slow hashes exist for passwords, whose few
 * bits of entropy an attacker holding the database could enumerate. A 256-bit random secret
 * cannot be enumerated at any hash speed (2^256 guesses), so SHA-256 loses nothing, and a slow
 * hash on every request would only hand clients a way to burn the server's CPU.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { InvalidArgumentError } from '../errors.js';
import type { Db } from './db.js';
import { type ApiTokenRow, apiTokens, users } from './schema.js';
import { walSyncFor } from './wal-sync.js';

/** 12 bytes → 16 base64url characters; 32 bytes → 43. Fixed lengths: "_" may occur inside base64url. */
const PUBLIC_ID_BYTES = 12;
const SECRET_BYTES = 32;
const TOKEN_PATTERN = /^dql_([A-Za-z0-9_-]{16})_([A-Za-z0-9_-]{43})$/;
const PUBLIC_ID_PATTERN = /^[A-Za-z0-9_-]{16}$/;
/** Longest label accepted (free text, never logged). */
export const MAX_TOKEN_LABEL_LENGTH = 200;
/** lastUsedAt is written at most this often per token: each write is a transaction and a WAL sync. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

/** A token row as it may be shown: everything but the hash, with its owner's name. */
export type ApiTokenInfo = Omit<ApiTokenRow, 'secretHash'> & { readonly userName: string };

/** Who a valid token acts for (structurally an auth Principal; storage does not import auth). */
export interface TokenOwner {
  readonly userId: number;
  readonly userName: string;
  readonly isAdmin: boolean;
  /** The token's public id. */
  readonly tokenId: string;
}

export interface CreatedApiToken {
  /** The whole token, `dql_<publicId>_<secret>`: shown once, never stored. */
  readonly token: string;
  readonly row: ApiTokenInfo;
}

export interface ApiTokenRepositoryOptions {
  /** Injected clock (ms) for tests. */
  readonly now?: () => number;
}

function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Compared against when the public id is unknown, so that path hashes and compares too. */
const DUMMY_HASH = hashSecret('dicomql: no such token');

/** The token's public id if it has the token format, else undefined (no database access). */
export function publicIdOf(token: string): string | undefined {
  return TOKEN_PATTERN.exec(token)?.[1];
}

export class ApiTokenRepository {
  private readonly now: () => number;
  /** publicId → when lastUsedAt was last written (ms). */
  private readonly lastUsedWrites = new Map<string, number>();

  constructor(
    private readonly db: Db,
    options: ApiTokenRepositoryOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Creates a token for `userId`; the plaintext is in the answer and nowhere else. Throws
   * InvalidArgumentError for a label over MAX_TOKEN_LABEL_LENGTH or an expiry not in the future.
   */
  create(userId: number, options: { label?: string | null; expiresAt?: Date | null } = {}): CreatedApiToken {
    const label = options.label?.trim() || null;
    if (label !== null && label.length > MAX_TOKEN_LABEL_LENGTH) throw new InvalidArgumentError(`A token label has at most ${MAX_TOKEN_LABEL_LENGTH} characters`);
    const expiresAt = options.expiresAt ?? null;
    const now = this.now();
    if (expiresAt !== null && !(expiresAt.getTime() > now)) throw new InvalidArgumentError('A token must expire in the future');
    const user = this.db.select().from(users).where(eq(users.id, userId)).get();
    if (!user) throw new InvalidArgumentError(`No user with id ${userId}`);
    const publicId = randomBytes(PUBLIC_ID_BYTES).toString('base64url');
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const row = this.db
      .insert(apiTokens)
      .values({ id: publicId, userRef: userId, secretHash: hashSecret(secret).toString('hex'), label, createdAt: new Date(now), expiresAt })
      .returning()
      .get();
    return { token: `dql_${publicId}_${secret}`, row: info(row, user.name) };
  }

  /**
   * The owner of a valid token: well-formed, known, secret matching (compared in constant time),
   * not revoked, not expired. Undefined otherwise, with no hint why. An unknown public id costs
   * the same hash and comparison as a known one.
   */
  authenticate(token: string): TokenOwner | undefined {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return undefined;
    const [, publicId, secret] = match as unknown as [string, string, string];
    const found = this.db
      .select({ token: apiTokens, userName: users.name, isAdmin: users.isAdmin })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userRef))
      .where(eq(apiTokens.id, publicId))
      .get();
    const presented = hashSecret(secret);
    const stored = found ? Buffer.from(found.token.secretHash, 'hex') : DUMMY_HASH;
    const equal = stored.length === presented.length && timingSafeEqual(stored, presented);
    if (!found || !equal) return undefined;
    const now = this.now();
    if (found.token.revokedAt !== null) return undefined;
    if (found.token.expiresAt !== null && found.token.expiresAt.getTime() <= now) return undefined;
    this.touch(publicId, now);
    return { userId: found.token.userRef, userName: found.userName, isAdmin: found.isAdmin, tokenId: publicId };
  }

  /**
   * The owner of token `publicId` when it belongs to user `userId` and is neither revoked nor
   * expired (no secret: for a signed URL, whose signature already proves it was issued under that
   * token). Undefined otherwise: the URL stops working when its token does.
   */
  activeOwner(publicId: string, userId: number): TokenOwner | undefined {
    const row = this.find(publicId, userId);
    if (!row || row.revokedAt !== null || (row.expiresAt !== null && row.expiresAt.getTime() <= this.now())) return undefined;
    const user = this.db.select({ isAdmin: users.isAdmin }).from(users).where(eq(users.id, userId)).get();
    return user ? { userId, userName: row.userName, isAdmin: user.isAdmin, tokenId: publicId } : undefined;
  }

  /**
   * Revokes a token (idempotent: a revoked token keeps its first revokedAt). With `userId`, only
   * that user's tokens: another user's token answers undefined, like an unknown one.
   */
  revoke(publicId: string, userId?: number): ApiTokenInfo | undefined {
    const row = this.find(publicId, userId);
    if (!row) return undefined;
    if (row.revokedAt === null) {
      this.db
        .update(apiTokens)
        .set({ revokedAt: new Date(this.now()) })
        .where(and(eq(apiTokens.id, publicId), isNull(apiTokens.revokedAt)))
        .run();
      this.lastUsedWrites.delete(publicId);
    }
    return this.find(publicId, userId);
  }

  /**
   * Resolves once every committed change is on disk (the WAL sync, wal-sync.ts): a client told of
   * a created or revoked token must not see it undone by a power loss. create() and revoke() are
   * synchronous (the CLI runs create() inside its own transaction); the caller awaits this after.
   */
  durable(): Promise<void> {
    return walSyncFor(this.db.$client).durable();
  }

  /** One token without its hash; with `userId`, only if it is that user's. */
  find(publicId: string, userId?: number): ApiTokenInfo | undefined {
    if (!PUBLIC_ID_PATTERN.test(publicId)) return undefined;
    const found = this.db
      .select({ token: apiTokens, userName: users.name })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userRef))
      .where(userId === undefined ? eq(apiTokens.id, publicId) : and(eq(apiTokens.id, publicId), eq(apiTokens.userRef, userId)))
      .get();
    return found ? info(found.token, found.userName) : undefined;
  }

  /** Tokens (all, or one user's), oldest first, without their hashes. */
  list(userId?: number): ApiTokenInfo[] {
    return this.db
      .select({ token: apiTokens, userName: users.name })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userRef))
      .where(userId === undefined ? undefined : eq(apiTokens.userRef, userId))
      .orderBy(asc(apiTokens.createdAt), asc(apiTokens.id))
      .all()
      .map((r) => info(r.token, r.userName));
  }

  /** Records use at most once a minute per token (each write is a transaction and a WAL sync; nobody waits for it). */
  private touch(publicId: string, now: number): void {
    const last = this.lastUsedWrites.get(publicId);
    if (last !== undefined && now - last < LAST_USED_WRITE_INTERVAL_MS) return;
    if (this.lastUsedWrites.size > 10_000) {
      for (const [id, at] of this.lastUsedWrites) if (now - at >= LAST_USED_WRITE_INTERVAL_MS) this.lastUsedWrites.delete(id);
    }
    this.lastUsedWrites.set(publicId, now);
    this.db.update(apiTokens).set({ lastUsedAt: new Date(now) }).where(eq(apiTokens.id, publicId)).run();
    walSyncFor(this.db.$client).request();
  }
}

function info(row: ApiTokenRow, userName: string): ApiTokenInfo {
  const { secretHash: _hash, ...rest } = row;
  return { ...rest, userName };
}
