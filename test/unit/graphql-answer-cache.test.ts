/**
 * GraphqlAnswerCache with a stand-in for yoga on a real node:http server: what it stores, when an
 * entry stops matching (data version, validity window), the byte bound, audit replay; and the
 * URL signer's expiry windows and the hints that collect cacheability.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UrlSigner } from '../../src/auth/url-signer.js';
import { AnswerCacheHints } from '../../src/graphql/answer-cache-hints.js';
import { answerCacheHintsOf, cacheKey, GraphqlAnswerCache, isCacheableRequest, MAX_BODY_BYTES } from '../../src/http/graphql-answer-cache.js';
import { startRequestContext } from '../../src/observability/request-context.js';
import type { AuditAction, AuditLog } from '../../src/storage/audit-log.js';
import { DataVersions } from '../../src/storage/data-versions.js';

interface Behaviour {
  type?: string;
  status?: number;
  uncacheable?: boolean;
  valid?: [number, number];
  audit?: [AuditAction, string][];
  size?: number;
}

/** A server whose "yoga" answers the body's `n` with behaviour `plan(body)` and counts executions. */
async function harness(maxBytes: number, plan: (body: any) => Behaviour = () => ({})) {
  let now = 1_000_000;
  let executions = 0;
  const recorded: { action: string; fileId: string; requestId: string | null | undefined; userId: number }[] = [];
  const auditLog = {
    forRequest: (actor: { userId: number }, requestId: string | null | undefined) => ({
      record: (action: string, fileId: string) => recorded.push({ action, fileId, requestId, userId: actor.userId }),
    }),
  } as unknown as AuditLog;
  const versions = new DataVersions();
  const cache = new GraphqlAnswerCache({
    maxBytes,
    now: () => now,
    versions,
    auditLog,
    yoga: {
      handleNodeRequestAndResponse(req: IncomingMessage) {
        executions++;
        const hints = answerCacheHintsOf(req)!;
        const body = JSON.parse((req as IncomingMessage & { body: string }).body);
        const b = plan(body);
        hints.operationType = b.type ?? 'query';
        hints.operationName = 'Op';
        if (b.uncacheable) hints.uncacheable();
        if (b.valid) hints.limitValidity(b.valid[0], b.valid[1]);
        const audit = hints.recording(auditLog.forRequest({ userId: Number(req.headers['x-user']) } as never, startRequestContextId(req)));
        for (const [action, fileId] of b.audit ?? []) audit.record(action, fileId);
        const text = JSON.stringify({ data: { n: body.n, run: executions, pad: 'x'.repeat(b.size ?? 0) } });
        return new Response(text, { status: b.status ?? 200, headers: { 'content-type': 'application/json; charset=utf-8' } });
      },
    },
  });
  const ids = new WeakMap<IncomingMessage, string>();
  const startRequestContextId = (req: IncomingMessage) => ids.get(req);
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const request = startRequestContext(req);
    ids.set(req, request.id);
    const userId = Number(req.headers['x-user'] ?? 1);
    request.principal = { userId, userName: `u${userId}`, isAdmin: false, tokenId: (req.headers['x-token'] as string | undefined) ?? null };
    res.setHeader('x-request-id', request.id);
    void cache.handle(req, res, request).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  servers.push(server);
  const ask = async (payload: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(payload),
    });
    return { status: res.status, json: (await res.json()) as any, requestId: res.headers.get('x-request-id') };
  };
  return {
    ask,
    cache,
    versions,
    recorded,
    setNow: (t: number) => {
      now = t;
    },
    executions: () => executions,
  };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('GraphqlAnswerCache', () => {
  it('stores a cacheable query answer and serves it again without running yoga', async () => {
    const h = await harness(1 << 20);
    const a = await h.ask({ n: 1 });
    const b = await h.ask({ n: 1 });
    expect(b.json).toEqual(a.json);
    expect(h.executions()).toBe(1);
    expect(h.cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 1 });
    await h.ask({ n: 2 });
    expect(h.executions()).toBe(2);
  });

  it('keys by user, token and Accept header', async () => {
    const h = await harness(1 << 20);
    await h.ask({ n: 1 }, { 'x-user': '1', 'x-token': 'a' });
    await h.ask({ n: 1 }, { 'x-user': '2', 'x-token': 'a' });
    await h.ask({ n: 1 }, { 'x-user': '1', 'x-token': 'b' });
    await h.ask({ n: 1 }, { 'x-user': '1', 'x-token': 'a', accept: 'application/graphql-response+json' });
    expect(h.executions()).toBe(4);
    await h.ask({ n: 1 }, { 'x-user': '1', 'x-token': 'b' });
    expect(h.executions()).toBe(4);
  });

  it('does not store mutations, non-200 answers or answers a field made uncacheable', async () => {
    const h = await harness(1 << 20, (body) => body.b);
    for (const b of [{ type: 'mutation' }, { status: 400 }, { uncacheable: true }, { valid: [5, 5] as [number, number] }]) {
      const before = h.executions();
      await h.ask({ b });
      await h.ask({ b });
      expect(h.executions() - before).toBe(2);
    }
  });

  it('an entry from an older data version of the owner is a miss; other owners keep theirs', async () => {
    const h = await harness(1 << 20);
    await h.ask({ n: 1 }, { 'x-user': '1' });
    await h.ask({ n: 1 }, { 'x-user': '2' });
    h.versions.bump(1);
    const again = await h.ask({ n: 1 }, { 'x-user': '1' });
    expect(again.json.data.run).toBe(3);
    expect((await h.ask({ n: 1 }, { 'x-user': '2' })).json.data.run).toBe(2);
    expect(h.executions()).toBe(3);
  });

  it('an entry is used only inside its validity window (after < now ≤ until)', async () => {
    const h = await harness(1 << 20, () => ({ valid: [999_000, 1_005_000] }));
    await h.ask({ n: 1 });
    h.setNow(1_005_000);
    await h.ask({ n: 1 });
    expect(h.executions()).toBe(1);
    h.setNow(1_005_001);
    await h.ask({ n: 1 }); // expired: runs again (and the new entry is outside its own window)
    expect(h.executions()).toBe(2);
    h.setNow(999_000); // a clock set back before the window
    await h.ask({ n: 1 });
    expect(h.executions()).toBe(3);
  });

  it('records the stored audit events again for every hit, with the hit request id and user', async () => {
    const h = await harness(1 << 20, () => ({ audit: [['READ', 'f1'], ['READ', 'f2'], ['READ', 'f1']] }));
    const miss = await h.ask({ n: 1 }, { 'x-user': '3' });
    const hit = await h.ask({ n: 1 }, { 'x-user': '3' });
    expect(h.executions()).toBe(1);
    const of = (id: string | null) => h.recorded.filter((e) => e.requestId === id).map((e) => `${e.action}:${e.fileId}:${e.userId}`);
    expect(of(hit.requestId)).toEqual(['READ:f1:3', 'READ:f2:3']);
    // The original execution recorded through the request's own (deduplicating) recorder.
    expect(of(miss.requestId)).toEqual(['READ:f1:3', 'READ:f2:3', 'READ:f1:3']);
  });

  it('is bounded by bytes (LRU) and keeps no answer larger than an eighth of it', async () => {
    const h = await harness(64 * 1024, (body) => ({ size: body.size }));
    for (let n = 0; n < 20; n++) await h.ask({ n, size: 4000 });
    expect(h.cache.stats().bytes).toBeLessThanOrEqual(64 * 1024);
    expect(h.cache.stats().entries).toBeLessThan(20);
    await h.ask({ n: 19, size: 4000 }); // the newest is still there
    expect(h.executions()).toBe(20);
    await h.ask({ n: 0, size: 4000 }); // the oldest was evicted
    expect(h.executions()).toBe(21);
    await h.ask({ n: 100, size: 10_000 });
    await h.ask({ n: 100, size: 10_000 });
    expect(h.executions()).toBe(23);
  });
});

describe('isCacheableRequest', () => {
  const req = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;
  it('takes JSON POSTs with a small Content-Length only', () => {
    const json = { 'content-type': 'application/json', 'content-length': '100' };
    expect(isCacheableRequest(req('POST', json))).toBe(true);
    expect(isCacheableRequest(req('POST', { ...json, 'content-type': 'application/json; charset=utf-8' }))).toBe(true);
    expect(isCacheableRequest(req('GET', json))).toBe(false);
    expect(isCacheableRequest(req('POST', { ...json, 'content-type': 'multipart/form-data; boundary=x' }))).toBe(false);
    expect(isCacheableRequest(req('POST', { ...json, accept: 'text/event-stream' }))).toBe(false);
    expect(isCacheableRequest(req('POST', { ...json, accept: 'multipart/mixed' }))).toBe(false);
    expect(isCacheableRequest(req('POST', { ...json, 'content-length': String(MAX_BODY_BYTES + 1) }))).toBe(false);
    expect(isCacheableRequest(req('POST', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }))).toBe(false);
    expect(isCacheableRequest(req('POST', { ...json, 'content-encoding': 'gzip' }))).toBe(false);
  });
});

describe('UrlSigner.expiryWindow', () => {
  it('is exactly the instants at which sign() gives that expiry', () => {
    for (const ttl of [1, 7, 60, 3600, 86_400]) {
      let t = Date.UTC(2026, 10, 22, 9, 0, 0) - 3;
      const s = new UrlSigner(Buffer.alloc(32, 1), { ttlSeconds: ttl, now: () => t });
      for (let i = 0; i < 50; i++) {
        t += 137 + i * 911;
        const { exp } = s.signWithExpiry('/files/x/download', { userId: 1, tokenId: null });
        const { after, until } = s.expiryWindow(exp);
        expect(after < t && t <= until).toBe(true);
        expect(s.expiryFor(until)).toBe(exp);
        expect(s.expiryFor(until + 1)).toBeGreaterThan(exp);
        expect(s.expiryFor(after + 1)).toBe(exp);
        expect(s.expiryFor(after)).toBeLessThan(exp);
      }
    }
  });
});

describe('AnswerCacheHints', () => {
  it('is cacheable until a field says otherwise or the validity window is empty', () => {
    const h = new AnswerCacheHints();
    expect(h.cacheable).toBe(true);
    h.limitValidity(10, 20);
    h.limitValidity(5, 15);
    expect([h.validAfter, h.validUntil]).toEqual([10, 15]);
    expect(h.cacheable).toBe(true);
    h.limitValidity(15, 30); // URLs from two buckets: no instant gives both
    expect(h.cacheable).toBe(false);
    const u = new AnswerCacheHints();
    u.uncacheable();
    expect(u.cacheable).toBe(false);
  });
});

describe('DataVersions', () => {
  it('changes an owner\'s version on each of its writes and every owner\'s on bumpAll, never repeating one', () => {
    const v = new DataVersions();
    expect(v.of(1)).toBe(0);
    v.bump(1);
    const one = v.of(1);
    expect(one).not.toBe(0);
    expect(v.of(2)).toBe(0);
    v.bump(2);
    expect(v.of(1)).toBe(one);
    v.bumpAll();
    const afterAll = [v.of(1), v.of(2), v.of(3)];
    expect(afterAll[0]).not.toBe(one);
    expect(afterAll[2]).not.toBe(0);
    v.bump(1);
    expect(v.of(1)).not.toBe(afterAll[0]);
    expect(v.of(2)).toBe(afterAll[1]);
  });
});

describe('cacheKey', () => {
  const principal = { userId: 1, userName: 'alice', tokenId: 'tok1', isAdmin: false };
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const base = { accept: 'application/json', 'content-type': 'application/json', host: 'h:1' };

  it('is the same for the same caller, headers and body, and differs when any of them differs', () => {
    const key = cacheKey(principal, req(base), '{"query":"{a}"}');
    expect(cacheKey({ ...principal }, req({ ...base }), '{"query":"{a}"}')).toBe(key);
    const others = [
      cacheKey({ ...principal, userId: 2 }, req(base), '{"query":"{a}"}'),
      cacheKey({ ...principal, tokenId: null }, req(base), '{"query":"{a}"}'),
      cacheKey({ ...principal, userName: 'bob' }, req(base), '{"query":"{a}"}'),
      cacheKey({ ...principal, isAdmin: true }, req(base), '{"query":"{a}"}'),
      cacheKey(principal, req({ ...base, accept: '' }), '{"query":"{a}"}'), // empty, not missing
      cacheKey(principal, req({ 'content-type': 'application/json', host: 'h:1' }), '{"query":"{a}"}'), // missing
      cacheKey(principal, req({ ...base, 'accept-encoding': 'gzip' }), '{"query":"{a}"}'),
      cacheKey(principal, req({ ...base, host: 'h:2' }), '{"query":"{a}"}'),
      cacheKey(principal, req(base), '{"query":"{b}"}'),
    ];
    expect(new Set([key, ...others]).size).toBe(others.length + 1);
  });

  it('cannot be forged by a user name or body holding the separator', () => {
    const a = cacheKey({ ...principal, userName: 'x\u00001' }, req(base), 'q');
    const b = cacheKey({ ...principal, userName: 'x' }, req(base), 'q');
    expect(a).not.toBe(b);
    // The body is last: whatever it holds, the fields before it are fixed.
    expect(cacheKey(principal, req(base), 'a\u0000b')).not.toBe(cacheKey(principal, req(base), 'a'));
  });
});
