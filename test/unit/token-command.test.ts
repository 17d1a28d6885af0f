import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDuration, runTokenCommand } from '../../src/cli/token-command.js';
import { ApiTokenRepository } from '../../src/storage/api-tokens.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { UserRepository } from '../../src/storage/users.js';

let dir: string;
let database: OpenDatabase;
const clock = Date.UTC(2026, 5, 1, 12);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-token-cli-'));
  database = openDatabase(dir);
});

afterEach(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = runTokenCommand(argv, database.db, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, now: () => clock });
  return { code, stdout, stderr };
}

describe('npm run token', () => {
  it('create: makes the user, prints only the token on stdout, and the token authenticates', () => {
    const out = run('create', '--user', 'alice', '--label', 'nightly export');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^dql_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}\n$/);
    expect(out.stderr).toContain('Created user alice.');
    expect(out.stderr).toContain('never expires');
    expect(out.stderr).not.toContain(out.stdout.trim());
    const owner = new ApiTokenRepository(database.db, { now: () => clock }).authenticate(out.stdout.trim());
    expect(owner).toMatchObject({ userName: 'alice', isAdmin: false });
    // Second token for the same user: no new user.
    const again = run('create', '--user', 'alice');
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('Created user');
    expect(new UserRepository(database.db).list().map((u) => u.name)).toEqual(['local', 'alice']);
  });

  it('create --admin makes a new admin; it does not promote an existing user', () => {
    expect(run('create', '--user', 'root', '--admin').code).toBe(0);
    expect(new UserRepository(database.db).findByName('root')?.isAdmin).toBe(true);
    run('create', '--user', 'alice');
    const refused = run('create', '--user', 'alice', '--admin');
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toMatch(/not an admin/);
    expect(new UserRepository(database.db).findByName('alice')?.isAdmin).toBe(false);
    expect(new ApiTokenRepository(database.db).list().length).toBe(2);
  });

  it('create --expires-in sets the expiry', () => {
    const out = run('create', '--user', 'alice', '--expires-in', '12h');
    expect(out.code).toBe(0);
    const [row] = new ApiTokenRepository(database.db).list();
    expect(row?.expiresAt?.getTime()).toBe(clock + 12 * 3600_000);
    expect(out.stderr).toContain(`expires ${new Date(clock + 12 * 3600_000).toISOString()}`);
    expect([parseDuration('30d'), parseDuration('12h'), parseDuration('45m'), parseDuration('3600s')]).toEqual([30 * 86400, 12 * 3600, 45 * 60, 3600]);
  });

  it('list: a table without secrets, filtered by user', () => {
    const a = run('create', '--user', 'alice', '--label', 'ci\u001b[31m').stdout.trim();
    const b = run('create', '--user', 'bob', '--expires-in', '1d').stdout.trim();
    const all = run('list');
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+USER\s+STATUS\s+CREATED\s+EXPIRES\s+LAST USED\s+LABEL$/);
    expect(lines).toHaveLength(3);
    const secretOf = (t: string) => t.slice(21);
    for (const token of [a, b]) {
      expect(all.stdout).toContain(token.slice(4, 20));
      expect(all.stdout).not.toContain(secretOf(token));
    }
    expect(all.stdout).not.toContain('\u001b');
    expect(all.stdout).toContain('ci?[31m');
    const bobs = run('list', '--user', 'bob');
    expect(bobs.stdout.trim().split('\n')).toHaveLength(2);
    expect(bobs.stdout).toContain(b.slice(4, 20));
    expect(bobs.stdout).toContain('active');
    expect(run('list', '--user', 'nobody')).toMatchObject({ code: 1, stdout: '' });
  });

  it('revoke: the token stops working; unknown ids fail with exit 1', () => {
    const token = run('create', '--user', 'alice').stdout.trim();
    const id = token.slice(4, 20);
    const out = run('revoke', id);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain(`Revoked token ${id} (user alice)`);
    expect(new ApiTokenRepository(database.db).authenticate(token)).toBeUndefined();
    expect(run('list').stdout).toContain('revoked');
    expect(run('revoke', id)).toMatchObject({ code: 0, stderr: expect.stringContaining('already revoked') });
    expect(run('revoke', 'AAAAAAAAAAAAAAAA')).toMatchObject({ code: 1, stderr: expect.stringContaining('no API token with id') });
  });

  it.each([
    [[], /No command given/],
    [['frobnicate'], /Unknown command "frobnicate"/],
    [['create'], /create needs --user NAME/],
    [['create', '--user'], /argument missing|--user/],
    [['create', '--user', 'alice', '--expires-in', 'soon'], /--expires-in must be a number and a unit/],
    [['create', '--user', 'alice', '--expires-in', '0s'], /--expires-in must be between/],
    [['create', '--user', 'alice', '--colour', 'red'], /Unknown option '--colour'/],
    [['create', '--user', 'a b'], /Invalid user name/],
    [['revoke'], /exactly one token id/],
    [['revoke', 'a', 'b'], /exactly one token id/],
    [['list', 'extra'], /Unexpected argument 'extra'|positional/],
  ])('bad usage %j → exit 2 with a clear message, nothing created', (argv, message) => {
    const out = run(...(argv as string[]));
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(message);
    expect(new ApiTokenRepository(database.db).list()).toEqual([]);
  });
});
