/**
 * better-sqlite3 statements over a drizzle table, prepared once: an INSERT … RETURNING the whole
 * row and an UPDATE … WHERE id = ?, with drizzle's own value mapping (each column's
 * mapToDriverValue / mapFromDriverValue: timestamps as ms, booleans as 0/1), so a row comes back
 * exactly as `db.insert(t).values(v).returning().get()` returns it.
 *
 * Why not drizzle's `.prepare()` with placeholders: its placeholders pass every value, null
 * included, to the column's encoder, so a null boolean would be stored as 0 and a null timestamp
 * would throw. Why prepare at all: building the SQL with the query builder and preparing it again
 * for every upload was most of an insert's CPU (catalog.ts, uploadStatements).
 */
import type Database from 'better-sqlite3';
import { getTableColumns, getTableName } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Null for null/undefined, else the column's driver value. */
function encode(column: SQLiteColumn, value: unknown): unknown {
  return value === null || value === undefined ? null : column.mapToDriverValue(value);
}

/** Whole rows of `table` from raw arrays (its columns in declaration order), as drizzle maps them. */
function rowDecoder<T extends SQLiteTable>(table: T): { list: string; decode(raw: unknown[]): T['$inferSelect'] } {
  const columns = Object.entries(getTableColumns(table)) as [string, SQLiteColumn][];
  return {
    list: columns.map(([, c]) => quote(c.name)).join(', '),
    decode(raw) {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < columns.length; i++) {
        const [key, column] = columns[i]!;
        const value = raw[i];
        row[key] = value === null ? null : column.mapFromDriverValue(value);
      }
      return row as T['$inferSelect'];
    },
  };
}

/**
 * `INSERT INTO table (keys…) VALUES (…) RETURNING *`: columns not in `keys` take their SQL
 * default. A key whose column has a default must be given a value (undefined would otherwise store
 * NULL where drizzle stored the default): it throws.
 */
export function prepareInsert<T extends SQLiteTable, K extends keyof T['$inferInsert'] & string>(
  sqlite: Database.Database,
  table: T,
  keys: readonly K[],
): (values: Pick<T['$inferInsert'], K>) => T['$inferSelect'] {
  const all = getTableColumns(table) as Record<string, SQLiteColumn>;
  const columns = keys.map((k) => {
    const column = all[k];
    if (!column) throw new Error(`${getTableName(table)} has no column ${k}`);
    return [k, column] as const;
  });
  const returning = rowDecoder(table);
  const statement = sqlite
    .prepare(
      `INSERT INTO ${quote(getTableName(table))} (${columns.map(([, c]) => quote(c.name)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) RETURNING ${returning.list}`,
    )
    .raw(true);
  const args: unknown[] = new Array(columns.length);
  return (values) => {
    const v = values as Record<string, unknown>;
    for (let i = 0; i < columns.length; i++) {
      const [k, column] = columns[i]!;
      const value = v[k];
      if (value === undefined && column.hasDefault) throw new Error(`${getTableName(table)}.${k}: a value is required (the column has a default)`);
      args[i] = encode(column, value);
    }
    return returning.decode(statement.get(...args) as unknown[]);
  };
}

/** `UPDATE table SET keys… = ? WHERE id = ?` (every key set, null for null/undefined). */
export function prepareUpdateById<T extends SQLiteTable, K extends keyof T['$inferInsert'] & string>(
  sqlite: Database.Database,
  table: T,
  keys: readonly K[],
): (id: number | string, values: Pick<T['$inferInsert'], K>) => void {
  const all = getTableColumns(table) as Record<string, SQLiteColumn>;
  const id = all.id;
  if (!id) throw new Error(`${getTableName(table)} has no id column`);
  const columns = keys.map((k) => {
    const column = all[k];
    if (!column) throw new Error(`${getTableName(table)} has no column ${k}`);
    return [k, column] as const;
  });
  const statement = sqlite.prepare(
    `UPDATE ${quote(getTableName(table))} SET ${columns.map(([, c]) => `${quote(c.name)} = ?`).join(', ')} WHERE ${quote(id.name)} = ?`,
  );
  const args: unknown[] = new Array(columns.length + 1);
  return (rowId, values) => {
    const v = values as Record<string, unknown>;
    for (let i = 0; i < columns.length; i++) {
      const [k, column] = columns[i]!;
      args[i] = encode(column, v[k]);
    }
    args[columns.length] = rowId;
    statement.run(...args);
  };
}
