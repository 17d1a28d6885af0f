/** AuditLog: batched writes (one transaction per flush), close, failures, per-request dedup, listing. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvalidCursorError } from '../../src/errors.js';
import { type AuditAction, AuditLog, EVENTS_PER_INSERT, MAX_PENDING } from '../../src/storage/audit-log.js';
import { encodeCursor, FILE_ORDERINGS } from '../../src/storage/catalog-query.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { recordStatements } from '../helpers/sql-recorder.js';

let dir: string;
let database: OpenDatabase;
const errors: unknown[] = [];
const logError = (err: unknown) => errors.push(err);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-audit-'));
  database = openDatabase(dir);
  errors.length = 0;
});
afterEach(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = () => database.db.$client.prepare('SELECT * FROM audit_events ORDER BY id').all() as Record<string, unknown>[];
const local = { userId: 1, userName: 'local', tokenId: null };

describe('AuditLog writes', () => {
  it('writes 5,000 events in a few transactions with two prepared INSERTs (32 rows, 1 row), not one commit each', () => {
    const log = new AuditLog(database.db, { logError, flushIntervalMs: 60_000 });
    const transactions = vi.spyOn(database.db.$client, 'transaction');
    const inserts: string[] = [];
    let transactionCount = 0;
    const undo = recordStatements(database.db.$client, (sql) => {
      if (/^insert into "?audit_events"?/i.test(sql)) inserts.push(sql);
    });
    try {
      for (let i = 0; i < 5000; i++) log.record({ ...local, action: 'READ', fileId: `f${i}`, requestId: `r${i}` });
      expect(log.pendingCount).toBe(5000 - 2 * MAX_PENDING);
      log.flush();
      transactionCount = transactions.mock.calls.length;
    } finally {
      undo();
      transactions.mockRestore();
    }
    // MAX_PENDING (2000) pending trigger a write: two batches of 2000, then the rest on flush().
    expect(MAX_PENDING).toBe(2000);
    expect(transactionCount).toBe(3);
    // Two statements, each prepared once: EVENTS_PER_INSERT (32) events per run, the rest of a
    // batch one per run: 2000 = 62 × 32 + 16, 1000 = 31 × 32 + 8.
    expect(EVENTS_PER_INSERT).toBe(32);
    expect(inserts.length).toBe(2 * (62 + 16) + 31 + 8);
    expect(new Set(inserts).size).toBe(2);
    const written = rows();
    expect(written).toHaveLength(5000);
    // Every event's seven values in its own row, in the order recorded.
    expect(written.map((r) => `${r.file_id} ${r.request_id} ${r.action} ${r.user_ref}`)).toEqual(Array.from({ length: 5000 }, (_, i) => `f${i} r${i} READ 1`));
    expect(written[4999]).toMatchObject({ user_ref: 1, user_name: 'local', token_id: null, action: 'READ', file_id: 'f4999', request_id: 'r4999' });
    expect(log.pendingCount).toBe(0);
    log.close();
  });

  it('holds events in memory until the interval passes, then writes them', async () => {
    const log = new AuditLog(database.db, { logError, flushIntervalMs: 30 });
    log.record({ ...local, action: 'RENDER', fileId: 'a' });
    log.record({ ...local, action: 'RENDER', fileId: 'b' });
    expect(rows()).toHaveLength(0);
    expect(log.pendingCount).toBe(2);
    await new Promise((r) => setTimeout(r, 150));
    expect(rows().map((r) => r.file_id)).toEqual(['a', 'b']);
    log.close();
  });

  it('close() writes what is pending; a record after close is written at once', () => {
    const log = new AuditLog(database.db, { logError, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) log.record({ ...local, action: 'DOWNLOAD', fileId: `f${i}` });
    expect(rows()).toHaveLength(0);
    log.close();
    expect(rows()).toHaveLength(5);
    log.record({ ...local, action: 'DELETE', fileId: 'late' });
    expect(rows()).toHaveLength(6);
  });

  it('a failing write is logged, does not throw, and is retried by the next flush', () => {
    const log = new AuditLog(database.db, { logError, flushIntervalMs: 60_000 });
    database.db.$client.exec(`CREATE TRIGGER audit_fail BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    log.record({ ...local, action: 'UPLOAD', fileId: 'x' });
    expect(() => log.flush()).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/audit log: writing 1 event\(s\) failed/);
    expect(log.pendingCount).toBe(1);
    database.db.$client.exec('DROP TRIGGER audit_fail');
    log.record({ ...local, action: 'UPLOAD', fileId: 'y' });
    log.flush();
    expect(rows().map((r) => r.file_id)).toEqual(['x', 'y']);
    log.close();
  });

  it('keeps at most maxRetained events while writes fail, dropping the oldest', () => {
    const log = new AuditLog(database.db, { logError, flushIntervalMs: 60_000, maxPending: 2, maxRetained: 3 });
    database.db.$client.exec(`CREATE TRIGGER audit_fail BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    for (const id of ['a', 'b', 'c', 'd', 'e']) log.record({ ...local, action: 'READ', fileId: id });
    database.db.$client.exec('DROP TRIGGER audit_fail');
    log.close();
    expect(rows().map((r) => r.file_id)).toEqual(['c', 'd', 'e']);
    expect(errors.some((e) => /dropped the 1 oldest/.test(String(e)))).toBe(true);
  });

  it('forRequest records each (action, file) once per request', () => {
    const log = new AuditLog(database.db, { logError, flushIntervalMs: 60_000 });
    const one = log.forRequest({ userId: 7, userName: 'ana', tokenId: 'tok1' }, 'req-1');
    for (let i = 0; i < 14; i++) one.record('READ', 'f1');
    one.record('RENDER', 'f1');
    one.record('READ', 'f2');
    const two = log.forRequest({ userId: 7, userName: 'ana', tokenId: 'tok1' }, 'req-2');
    two.record('READ', 'f1');
    log.close();
    expect(rows().map((r) => [r.action, r.file_id, r.request_id, r.token_id, r.user_ref])).toEqual([
      ['READ', 'f1', 'req-1', 'tok1', 7],
      ['RENDER', 'f1', 'req-1', 'tok1', 7],
      ['READ', 'f2', 'req-1', 'tok1', 7],
      ['READ', 'f1', 'req-2', 'tok1', 7],
    ]);
  });

  it('forRequest: repeats of any pair are dropped, whichever was recorded first, and requests never share their pairs', () => {
    const log = new AuditLog(database.db, { logError, flushIntervalMs: 60_000 });
    const actor = { userId: 3, userName: 'bo', tokenId: null };
    const one = log.forRequest(actor, 'r1');
    const two = log.forRequest(actor, 'r2');
    const pairs: [AuditAction, string][] = [
      ['RENDER', 'f1'],
      ['DOWNLOAD', 'f1'],
      ['RENDER', 'f2'],
      ['RENDER', 'f1'],
      ['DOWNLOAD', 'f1'],
      ['RENDER', 'f2'],
      ['DOWNLOAD', 'f2'],
    ];
    for (const [action, file] of pairs) one.record(action, file);
    two.record('DOWNLOAD', 'f1');
    two.record('RENDER', 'f1');
    two.record('DOWNLOAD', 'f1');
    expect(log.pendingCount).toBe(6);
    log.close();
    expect(rows().map((r) => [r.request_id, r.action, r.file_id, r.token_id, r.user_name])).toEqual([
      ['r1', 'RENDER', 'f1', null, 'bo'],
      ['r1', 'DOWNLOAD', 'f1', null, 'bo'],
      ['r1', 'RENDER', 'f2', null, 'bo'],
      ['r1', 'DOWNLOAD', 'f2', null, 'bo'],
      ['r2', 'DOWNLOAD', 'f1', null, 'bo'],
      ['r2', 'RENDER', 'f1', null, 'bo'],
    ]);
  });
});

describe('AuditLog.list', () => {
  /** Events at t = 1000, 2000, … ms; two share t = 3000 (the id breaks the tie). */
  function seed(): AuditLog {
    const times = [1000, 2000, 3000, 3000, 4000, 5000];
    let i = 0;
    const log = new AuditLog(database.db, { logError, flushIntervalMs: 60_000, now: () => new Date(times[i++]!) });
    const events: [string, AuditAction, string][] = [
      ['ana', 'UPLOAD', 'f1'],
      ['ana', 'READ', 'f1'],
      ['bob', 'RENDER', 'f1'],
      ['bob', 'READ', 'f2'],
      ['ana', 'DOWNLOAD', 'f2'],
      ['bob', 'DELETE', 'f2'],
    ];
    for (const [userName, action, fileId] of events) log.record({ userId: userName === 'ana' ? 2 : 3, userName, tokenId: null, action, fileId });
    return log; // not flushed: list() must flush first
  }
  const brief = (page: ReturnType<AuditLog['list']>) => page.edges.map((e) => `${e.node.userName}:${e.node.action}:${e.node.fileId}`);

  it('lists newest first (id breaks ties), after flushing what is pending', () => {
    const log = seed();
    const page = log.list({}, { first: 10 });
    expect(brief(page)).toEqual(['bob:DELETE:f2', 'ana:DOWNLOAD:f2', 'bob:READ:f2', 'bob:RENDER:f1', 'ana:READ:f1', 'ana:UPLOAD:f1']);
    expect(page.totalCount()).toBe(6);
    expect(page.hasNextPage).toBe(false);
    expect(page.edges[0]!.node.at).toEqual(new Date(5000));
  });

  it('filters by user name, file, action and a half-open time range', () => {
    const log = seed();
    expect(brief(log.list({ userName: 'ana' }, {}))).toEqual(['ana:DOWNLOAD:f2', 'ana:READ:f1', 'ana:UPLOAD:f1']);
    expect(brief(log.list({ fileId: 'f1' }, {}))).toEqual(['bob:RENDER:f1', 'ana:READ:f1', 'ana:UPLOAD:f1']);
    expect(brief(log.list({ action: 'READ' }, {}))).toEqual(['bob:READ:f2', 'ana:READ:f1']);
    expect(brief(log.list({ since: new Date(2000), until: new Date(4000) }, {}))).toEqual(['bob:READ:f2', 'bob:RENDER:f1', 'ana:READ:f1']);
    const both = log.list({ userName: 'bob', fileId: 'f2' }, {});
    expect(brief(both)).toEqual(['bob:DELETE:f2', 'bob:READ:f2']);
    expect(both.totalCount()).toBe(2);
    expect(brief(log.list({ userName: 'nobody' }, {}))).toEqual([]);
  });

  it('pages with keyset cursors across equal timestamps, forwards and backwards', () => {
    const log = seed();
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = log.list({}, { first: 2, after });
      seen.push(...brief(page));
      pages++;
      if (!page.hasNextPage) break;
      expect(page.edges).toHaveLength(2);
      after = page.edges.at(-1)!.cursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(brief(log.list({}, { first: 10 })));
    // Page 2 starts after the first event at t = 3000 and holds the other one.
    const first = log.list({}, { first: 3 });
    const second = log.list({}, { first: 1, after: first.edges[2]!.cursor });
    expect(brief(second)).toEqual(['bob:RENDER:f1']);
    expect(second.hasPreviousPage).toBe(true);
    const back = log.list({}, { last: 2, before: first.edges[2]!.cursor });
    expect(brief(back)).toEqual(['bob:DELETE:f2', 'ana:DOWNLOAD:f2']);
  });

  it('rejects a malformed cursor and a cursor of another connection with InvalidCursorError', () => {
    const log = seed();
    expect(() => log.list({}, { after: 'not a cursor!' })).toThrow(InvalidCursorError);
    expect(() => log.list({}, { after: Buffer.from('["AuditEvent.at","x",1]').toString('base64url') })).toThrow(InvalidCursorError);
    const fileCursor = encodeCursor(FILE_ORDERINGS.UPLOADED_AT, { uploadedAt: new Date(1), id: 'abc' });
    expect(() => log.list({}, { after: fileCursor })).toThrow(/ordering "DicomFile.uploadedAt"/);
  });
});
