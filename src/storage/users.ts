/** Accounts (users table): who owns stored files and API tokens. Users are never deleted. */
import { asc, eq } from 'drizzle-orm';
import { AppError } from '../errors.js';
import type { Db } from './db.js';
import { type UserRow, users } from './schema.js';

/** A user name is shown in logs of the CLI and in the audit trail: printable, no spaces, bounded. */
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export class InvalidUserNameError extends AppError {
  constructor(name: string) {
    super('INVALID_ARGUMENT', `Invalid user name ${JSON.stringify(name)}: 1–64 characters of letters, digits, ".", "_", "@", "-", starting with a letter or digit`, 400);
  }
}

export class UserExistsError extends AppError {
  constructor(name: string) {
    super('USER_EXISTS', `A user named ${JSON.stringify(name)} exists already`, 409);
  }
}

export class UserRepository {
  constructor(private readonly db: Db) {}

  /** Creates a user; throws InvalidUserNameError or UserExistsError. */
  create(name: string, options: { admin?: boolean } = {}): UserRow {
    if (!USER_NAME.test(name)) throw new InvalidUserNameError(name);
    if (this.findByName(name)) throw new UserExistsError(name);
    return this.db
      .insert(users)
      .values({ name, isAdmin: options.admin ?? false, createdAt: new Date() })
      .returning()
      .get();
  }

  findByName(name: string): UserRow | undefined {
    return this.db.select().from(users).where(eq(users.name, name)).get();
  }

  findById(id: number): UserRow | undefined {
    return this.db.select().from(users).where(eq(users.id, id)).get();
  }

  list(): UserRow[] {
    return this.db.select().from(users).orderBy(asc(users.id)).all();
  }
}
