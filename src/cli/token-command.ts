/**
 * `npm run token -- …`: API tokens from the command line (an operator with access to DATA_DIR).
 *
 *   create --user NAME [--admin] [--label TEXT] [--expires-in 30d|12h|45m|3600s]
 *   revoke <id>
 *   list [--user NAME]
 *
 * `create` makes the user if it is new and prints the token on stdout, alone (scripts can capture
 * it); everything else goes to stderr. Exit codes: 0 done, 1 failed (unknown token or user), 2 bad
 * usage. The logic takes its database and streams so tests call it directly (scripts/token.ts is
 * the entry point).
 */
import { parseArgs } from 'node:util';
import { AppError } from '../errors.js';
import { ApiTokenRepository, type ApiTokenInfo } from '../storage/api-tokens.js';
import type { Db } from '../storage/db.js';
import { UserRepository } from '../storage/users.js';

export interface Output {
  write(text: string): unknown;
}

export interface TokenCommandIo {
  readonly stdout: Output;
  readonly stderr: Output;
  /** Injected clock (ms) for tests. */
  readonly now?: () => number;
}

export const TOKEN_USAGE = `Usage: npm run token -- <command>

  create --user NAME [--admin] [--label TEXT] [--expires-in DURATION]
      Creates an API token for NAME (and the user, if new; --admin makes a new user an admin).
      Prints the token on stdout, once: only a hash of it is stored. DURATION: 30d, 12h, 45m, 3600s.
  revoke ID
      Revokes the token with public id ID (see list); it never authenticates again.
  list [--user NAME]
      Lists tokens (all, or NAME's), without secrets.

The database is the one in DATA_DIR (default ./data), as for the server.
`;

class UsageError extends Error {}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const MAX_EXPIRES_IN_SECONDS = 10 * 366 * 86_400;

/** "30d" | "12h" | "45m" | "3600s" → seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,9})([smhd])$/.exec(text.trim());
  if (!match) throw new UsageError(`--expires-in must be a number and a unit (s, m, h or d), e.g. 30d or 3600s; got ${JSON.stringify(text)}`);
  const seconds = Number(match[1]) * (UNITS[match[2] as string] as number);
  if (seconds < 1 || seconds > MAX_EXPIRES_IN_SECONDS) throw new UsageError(`--expires-in must be between 1s and ${MAX_EXPIRES_IN_SECONDS / 86_400}d`);
  return seconds;
}

export function runTokenCommand(argv: readonly string[], db: Db, io: TokenCommandIo): number {
  const now = io.now ?? Date.now;
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'create':
        return create(rest, db, io, now);
      case 'revoke':
        return revoke(rest, db, io, now);
      case 'list':
        return list(rest, db, io, now);
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(TOKEN_USAGE);
        return 0;
      default:
        throw new UsageError(command === undefined ? 'No command given' : `Unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`error: ${err.message}\n\n${TOKEN_USAGE}`);
      return 2;
    }
    if (err instanceof AppError) {
      io.stderr.write(`error: ${err.message}\n`);
      return err.code === 'INVALID_ARGUMENT' ? 2 : 1;
    }
    throw err;
  }
}

function create(args: readonly string[], db: Db, io: TokenCommandIo, now: () => number): number {
  const { values } = parseArgs({
    args: [...args],
    options: { user: { type: 'string' }, admin: { type: 'boolean' }, label: { type: 'string' }, 'expires-in': { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  if (!values.user) throw new UsageError('create needs --user NAME');
  const expiresInSeconds = values['expires-in'] === undefined ? undefined : parseDuration(values['expires-in']);
  const users = new UserRepository(db);
  const tokens = new ApiTokenRepository(db, { now });
  return db.$client.transaction(() => {
    let user = users.findByName(values.user as string);
    if (!user) {
      user = users.create(values.user as string, { admin: values.admin === true });
      io.stderr.write(`Created user ${user.name}${user.isAdmin ? ' (admin)' : ''}.\n`);
    } else if (values.admin === true && !user.isAdmin) {
      io.stderr.write(`error: user ${user.name} exists and is not an admin; --admin only applies to a new user. Nothing was created.\n`);
      return 1;
    }
    const expiresAt = expiresInSeconds === undefined ? null : new Date(now() + expiresInSeconds * 1000);
    const { token, row } = tokens.create(user.id, { label: values.label ?? null, expiresAt });
    io.stdout.write(`${token}\n`);
    io.stderr.write(
      `Token ${row.id} for user ${user.name}${row.expiresAt ? `, expires ${row.expiresAt.toISOString()}` : ', never expires'}. ` +
        'It is shown only this once: store it now. Send it as "Authorization: Bearer <token>".\n',
    );
    return 0;
  })();
}

function revoke(args: readonly string[], db: Db, io: TokenCommandIo, now: () => number): number {
  const { positionals } = parseArgs({ args: [...args], options: {}, strict: true, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('revoke needs exactly one token id (see `npm run token -- list`)');
  const id = positionals[0] as string;
  const tokens = new ApiTokenRepository(db, { now });
  const before = tokens.find(id);
  const revoked = tokens.revoke(id);
  if (!revoked) {
    io.stderr.write(`error: no API token with id ${JSON.stringify(id)}\n`);
    return 1;
  }
  io.stderr.write(
    before?.revokedAt
      ? `Token ${revoked.id} (user ${revoked.userName}) was already revoked at ${before.revokedAt.toISOString()}.\n`
      : `Revoked token ${revoked.id} (user ${revoked.userName}).\n`,
  );
  return 0;
}

function list(args: readonly string[], db: Db, io: TokenCommandIo, now: () => number): number {
  const { values } = parseArgs({ args: [...args], options: { user: { type: 'string' } }, strict: true, allowPositionals: false });
  let userId: number | undefined;
  if (values.user !== undefined) {
    const user = new UserRepository(db).findByName(values.user);
    if (!user) {
      io.stderr.write(`error: no user named ${JSON.stringify(values.user)}\n`);
      return 1;
    }
    userId = user.id;
  }
  const rows = new ApiTokenRepository(db, { now }).list(userId);
  io.stdout.write(table(rows, now()));
  return 0;
}

function status(row: ApiTokenInfo, now: number): string {
  if (row.revokedAt) return 'revoked';
  if (row.expiresAt && row.expiresAt.getTime() <= now) return 'expired';
  return 'active';
}

/** Control characters in a label must not reach the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

function table(rows: readonly ApiTokenInfo[], now: number): string {
  const date = (d: Date | null) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');
  const header = ['ID', 'USER', 'STATUS', 'CREATED', 'EXPIRES', 'LAST USED', 'LABEL'];
  const lines = rows.map((r) => [r.id, r.userName, status(r, now), date(r.createdAt), date(r.expiresAt), date(r.lastUsedAt), printable(r.label ?? '')]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const format = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [format(header), ...lines.map(format)].join('\n') + '\n';
}
