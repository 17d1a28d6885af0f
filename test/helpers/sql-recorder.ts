/**
 * Sees every SQL statement a better-sqlite3 connection runs (with its arguments), so that tests
 * and the catalog benchmark can EXPLAIN QUERY PLAN exactly what the repository executed.
 */
import type Database from 'better-sqlite3';

/** Wraps `client.prepare` so that each run of a statement calls `onRun(sql, args)`; returns the undo. */
export function recordStatements(client: Database.Database, onRun: (sql: string, args: unknown[]) => void): () => void {
  const original = client.prepare;
  const prepare = original.bind(client);
  client.prepare = ((source: string) => {
    const stmt = prepare(source);
    for (const method of ['all', 'get', 'run', 'iterate'] as const) {
      const original = (stmt as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!.bind(stmt);
      (stmt as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        onRun(source, args);
        return original(...args);
      };
    }
    return stmt;
  }) as typeof client.prepare;
  return () => {
    client.prepare = original;
  };
}
