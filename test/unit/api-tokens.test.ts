import { createHash } from 'node:crypto';
import * as crypto from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Authenticator, isAuthFailure } from '../../src/auth/authenticator.js';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { ApiTokenRepository, publicIdOf } from '../../src/storage/api-tokens.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { LOCAL_USER_ID } from '../../src/storage/schema.js';
import { InvalidUserNameError, UserExistsError, UserRepository } from '../../src/storage/users.js';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const TOKEN = /^dql_([A-Za-z0-9_-]{16})_([A-Za-z0-9_-]{43})$/;

let dir: string;
let database: OpenDatabase;
let clock: number;
let tokens: ApiTokenRepository;
let users: UserRepository;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-tokens-'));
  database = openDatabase(dir);
  clock = Date.UTC(2026, 0, 1);
  tokens = new ApiTokenRepository(database.db, { now: () => clock });
  users = new UserRepository(database.db);
});

afterEach(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

function secretOf(token: string): string {
  return TOKEN.exec(token)?.[2] as string;
}

describe('UserRepository', () => {
  it('creates, finds and lists users; the local admin exists from the start', () => {
    expect(users.findById(LOCAL_USER_ID)).toMatchObject({ name: 'local', isAdmin: true });
    const alice = users.create('alice');
    const bob = users.create('bob@example.org', { admin: true });
    expect(alice).toMatchObject({ name: 'alice', isAdmin: false });
    expect(users.findByName('bob@example.org')).toEqual(bob);
    expect(users.findById(alice.id)).toEqual(alice);
    expect(users.findByName('carol')).toBeUndefined();
    expect(users.list().map((u) => u.name)).toEqual(['local', 'alice', 'bob@example.org']);
  });

  it('refuses duplicate and malformed names', () => {
    users.create('alice');
    expect(() => users.create('alice')).toThrow(UserExistsError);
    for (const name of ['', 'a b', '-x', 'x'.repeat(65), 'é', 'a\nb']) expect(() => users.create(name), name).toThrow(InvalidUserNameError);
  });
});

describe('ApiTokenRepository', () => {
  it('issues dql_<publicId>_<secret> with 96 + 256 random bits', () => {
    const alice = users.create('alice');
    const issued = Array.from({ length: 200 }, () => tokens.create(alice.id));
    let ones = 0;
    for (const { token, row } of issued) {
      const match = TOKEN.exec(token);
      expect(match, token).not.toBeNull();
      expect(row.id).toBe(match?.[1]);
      expect(publicIdOf(token)).toBe(row.id);
      expect(Buffer.from(match?.[1] as string, 'base64url')).toHaveLength(12);
      const secret = Buffer.from(match?.[2] as string, 'base64url');
      expect(secret).toHaveLength(32);
      for (const byte of secret) for (let b = byte; b; b >>= 1) ones += b & 1;
    }
    expect(new Set(issued.map((i) => i.row.id)).size).toBe(200);
    expect(new Set(issued.map((i) => secretOf(i.token))).size).toBe(200);
    // 51,200 secret bits: a fair source gives 50 % ones (± 0.2 % standard deviation).
    expect(ones / (200 * 256)).toBeGreaterThan(0.48);
    expect(ones / (200 * 256)).toBeLessThan(0.52);
  });

  it('stores only the SHA-256 of the secret: the plaintext is nowhere in the database files', () => {
    const alice = users.create('alice');
    const { token, row } = tokens.create(alice.id, { label: 'ci' });
    const secret = secretOf(token);
    const stored = database.db.$client.prepare('SELECT * FROM api_tokens WHERE id = ?').get(row.id) as Record<string, unknown>;
    expect(stored.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(Object.values(stored)).not.toContain(token);
    expect(Object.values(stored)).not.toContain(secret);
    expect(Object.keys(row)).not.toContain('secretHash');
    expect(Object.keys(tokens.list()[0] as object)).not.toContain('secretHash');
    database.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    database.close();
    const files = readdirSync(dir).filter((f) => f.startsWith('dicomql.sqlite'));
    expect(files).toContain('dicomql.sqlite');
    for (const file of files) {
      const bytes = readFileSync(join(dir, file));
      expect(bytes.includes(Buffer.from(secret)), file).toBe(false);
      expect(bytes.includes(Buffer.from(secret.slice(0, 20))), file).toBe(false);
    }
    // The hash is there (sanity: the search would have found text stored in the file).
    expect(readFileSync(join(dir, 'dicomql.sqlite')).includes(Buffer.from(stored.secret_hash as string))).toBe(true);
    database = openDatabase(dir);
  });

  it('authenticates a valid token as its owner and rejects wrong, tampered and malformed ones', () => {
    const bob = users.create('bob', { admin: true });
    const { token, row } = tokens.create(bob.id);
    expect(tokens.authenticate(token)).toEqual({ userId: bob.id, userName: 'bob', isAdmin: true, tokenId: row.id });
    const secret = secretOf(token);
    const flipped = secret.slice(0, -2) + (secret.at(-2) === 'A' ? 'B' : 'A') + secret.at(-1);
    expect(tokens.authenticate(`dql_${row.id}_${flipped}`)).toBeUndefined();
    const other = tokens.create(bob.id);
    expect(tokens.authenticate(`dql_${row.id}_${secretOf(other.token)}`)).toBeUndefined();
    for (const bad of ['', token.slice(0, -1), `${token}x`, token.replace('dql_', 'dqx_'), ` ${token}`, token.toUpperCase()]) {
      expect(tokens.authenticate(bad), bad).toBeUndefined();
    }
  });

  it('compares in constant time on every path, unknown ids included', () => {
    const alice = users.create('alice');
    const { token, row } = tokens.create(alice.id);
    const compare = vi.mocked(crypto.timingSafeEqual);
    const unknown = `dql_${'A'.repeat(16)}_${secretOf(token)}`;
    for (const attempt of [token, `dql_${row.id}_${'B'.repeat(43)}`, unknown]) {
      compare.mockClear();
      tokens.authenticate(attempt);
      expect(compare, attempt).toHaveBeenCalledTimes(1);
      const [a, b] = compare.mock.calls[0] as [Buffer, Buffer];
      expect(a).toHaveLength(32);
      expect(b).toHaveLength(32);
    }
  });

  it('honours expiry', () => {
    const alice = users.create('alice');
    const { token } = tokens.create(alice.id, { expiresAt: new Date(clock + 60_000) });
    expect(tokens.authenticate(token)).toBeDefined();
    clock += 59_999;
    expect(tokens.authenticate(token)).toBeDefined();
    clock += 1;
    expect(tokens.authenticate(token)).toBeUndefined();
    expect(() => tokens.create(alice.id, { expiresAt: new Date(clock) })).toThrow(InvalidArgumentError);
    expect(() => tokens.create(alice.id, { label: 'x'.repeat(201) })).toThrow(InvalidArgumentError);
    expect(() => tokens.create(9999)).toThrow(InvalidArgumentError);
  });

  it('revokes for good; revoking twice keeps the first time', () => {
    const alice = users.create('alice');
    const { token, row } = tokens.create(alice.id);
    const keep = tokens.create(alice.id);
    const revoked = tokens.revoke(row.id);
    expect(revoked?.revokedAt?.getTime()).toBe(clock);
    expect(tokens.authenticate(token)).toBeUndefined();
    expect(tokens.authenticate(keep.token)).toBeDefined();
    clock += 5000;
    expect(tokens.revoke(row.id)?.revokedAt?.getTime()).toBe(clock - 5000);
    expect(tokens.revoke('A'.repeat(16))).toBeUndefined();
    expect(tokens.revoke('not an id')).toBeUndefined();
  });

  it("scopes revoke and list to a user: another user's token behaves as missing", () => {
    const alice = users.create('alice');
    const bob = users.create('bob');
    const a = tokens.create(alice.id, { label: 'a' });
    clock += 1;
    const b = tokens.create(bob.id, { label: 'b' });
    expect(tokens.revoke(a.row.id, bob.id)).toBeUndefined();
    expect(tokens.find(a.row.id, bob.id)).toBeUndefined();
    expect(tokens.authenticate(a.token)).toBeDefined();
    expect(tokens.list(bob.id).map((t) => t.label)).toEqual(['b']);
    expect(tokens.list().map((t) => [t.label, t.userName])).toEqual([
      ['a', 'alice'],
      ['b', 'bob'],
    ]);
    expect(tokens.revoke(b.row.id, bob.id)?.revokedAt).not.toBeNull();
    expect(tokens.authenticate(b.token)).toBeUndefined();
  });

  it('records lastUsedAt at most once a minute per token', () => {
    const alice = users.create('alice');
    const { token, row } = tokens.create(alice.id);
    expect(tokens.find(row.id)?.lastUsedAt).toBeNull();
    const start = clock;
    tokens.authenticate(token);
    expect(tokens.find(row.id)?.lastUsedAt?.getTime()).toBe(start);
    clock += 59_000;
    tokens.authenticate(token);
    expect(tokens.find(row.id)?.lastUsedAt?.getTime()).toBe(start);
    clock += 1000;
    tokens.authenticate(token);
    expect(tokens.find(row.id)?.lastUsedAt?.getTime()).toBe(start + 60_000);
    // A failed attempt is not a use.
    clock += 120_000;
    tokens.authenticate(`dql_${row.id}_${'C'.repeat(43)}`);
    expect(tokens.find(row.id)?.lastUsedAt?.getTime()).toBe(start + 60_000);
  });
});

describe('Authenticator', () => {
  it('acts as the local user in local mode, whatever the header', () => {
    const auth = new Authenticator('none', tokens);
    expect(auth.authenticate(undefined)).toBe(LOCAL_PRINCIPAL);
    expect(auth.authenticate('Bearer garbage')).toBe(LOCAL_PRINCIPAL);
  });

  it('parses Bearer strictly in token mode', () => {
    const alice = users.create('alice');
    const { token, row } = tokens.create(alice.id);
    const auth = new Authenticator('token', tokens);
    const principal = { userId: alice.id, userName: 'alice', isAdmin: false, tokenId: row.id };
    expect(auth.authenticate(`Bearer ${token}`)).toEqual(principal);
    expect(auth.authenticate(`bearer ${token}`)).toEqual(principal);
    expect(auth.authenticate(`BEARER  ${token}`)).toEqual(principal);
    for (const header of [undefined, '', 'Bearer', 'Bearer ', `Basic ${token}`, token, `Bearer ${token} x`, `Bearer ${token},Bearer ${token}`, `Bearer\t${token}`]) {
      const result = auth.authenticate(header);
      expect(isAuthFailure(result), String(header)).toBe(true);
    }
    expect(auth.authenticate(undefined)).toMatchObject({ message: expect.stringMatching(/Authorization: Bearer/) });
    expect(auth.authenticate('Basic abc')).toMatchObject({ message: expect.stringMatching(/Malformed/) });
    tokens.revoke(row.id);
    expect(auth.authenticate(`Bearer ${token}`)).toMatchObject({ failed: true, message: 'Invalid, expired or revoked API token' });
  });
});
