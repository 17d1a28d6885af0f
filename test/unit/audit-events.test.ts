/**
 * auditEvents' admin check, through the real yoga handler with the principal that src/http's
 * authentication puts on the request (tokens come from another part of the feature; here the
 * request context is set directly, as front() does). Only the audit log is a real service.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import { createGraphqlHandler, type Services } from '../../src/http/yoga.js';
import { startRequestContext } from '../../src/observability/request-context.js';
import { AuditLog } from '../../src/storage/audit-log.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';

let dir: string;
let database: OpenDatabase;
let auditLog: AuditLog;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-audit-gql-'));
  database = openDatabase(dir);
  auditLog = new AuditLog(database.db, { logError: (err) => { throw err; } });
  auditLog.record({ userId: 1, userName: 'local', tokenId: null, action: 'UPLOAD', fileId: 'f1', requestId: 'r1' });
});
afterEach(() => {
  auditLog.close();
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

async function query(principal: Principal) {
  const unexpected: unknown[] = [];
  const yoga = createGraphqlHandler(() => ({ auditLog }) as unknown as Services, {
    publicUrl: undefined,
    logError: (err) => unexpected.push(err),
    limits: { maxDepth: 0, maxAliases: 0, maxCost: 0, maxTokens: 0, maxDirectives: 0, fieldSuggestions: true },
  });
  // As src/http does for every request: a request context carrying the authenticated principal.
  const req = { headers: {} } as IncomingMessage;
  startRequestContext(req).principal = principal;
  const res = await yoga.fetch(
    'http://localhost/graphql',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ auditEvents(first: 5) { totalCount edges { node { userName action requestId } } } }' }),
    },
    { req },
  );
  expect(unexpected).toEqual([]);
  return (await res.json()) as { data: { auditEvents: { totalCount: number; edges: unknown[] } } | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

describe('auditEvents admin check', () => {
  it('answers FORBIDDEN to a caller that is not an admin', async () => {
    const body = await query({ userId: 2, userName: 'ana', isAdmin: false, tokenId: 'tok_ana' });
    expect(body.data).toBeNull();
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.extensions?.code).toBe('FORBIDDEN');
    expect(body.errors![0]!.message).toMatch(/admin/);
  });

  it('lists the trail for an admin (not only the local user)', async () => {
    const body = await query({ userId: 3, userName: 'root', isAdmin: true, tokenId: 'tok_root' });
    expect(body.errors).toBeUndefined();
    expect(body.data!.auditEvents.totalCount).toBe(1);
    expect(body.data!.auditEvents.edges).toEqual([{ node: { userName: 'local', action: 'UPLOAD', requestId: 'r1' } }]);
  });
});
