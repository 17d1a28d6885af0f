/**
 * The GraphQL answer cache (src/http/graphql-answer-cache.ts) over real HTTP: hits are
 * byte-identical to misses, writes of the owner invalidate, entries are scoped to the user and
 * token, audit events and metrics count hits, signed URLs are those a fresh execution signs (and
 * the entry ends at the URL bucket's boundary), and what must never be reused is not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticImage } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bearer, createUserToken, type UserToken } from '../helpers/tokens.js';

interface Answer {
  status: number;
  text: string;
  headers: Headers;
  requestId: string;
  json: any;
}

async function post(server: TestServer, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers, requestId: res.headers.get('x-request-id') ?? '', json: JSON.parse(text) };
}

const body = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });

async function cacheCounts(server: TestServer, headers: Record<string, string> = {}): Promise<{ hit: number; miss: number }> {
  const text = await (await fetch(`${server.url}/metrics`, { headers })).text();
  const read = (result: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`dicomql_graphql_answer_cache_total{result="${result}"}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  return { hit: read('hit'), miss: read('miss') };
}

async function uploadImage(server: TestServer, sop: string, headers?: Record<string, string>): Promise<string> {
  const up = await server.upload({ name: `${sop}.dcm`, bytes: syntheticImage({ sopInstanceUid: sop }) }, undefined, { 'apollo-require-preflight': 'true', ...headers });
  expect(up.body.data.uploadDicom.__typename).toBe('UploadDicomSuccess');
  return up.body.data.uploadDicom.file.id as string;
}

const ATTRIBUTE = 'query Attr($id: ID!) { dicomFile(id: $id) { attribute(tag: "Rows") { value } pngUrl downloadUrl } }';
const COUNT = 'query Count { dicomFiles { totalCount } }';

describe('GraphQL answer cache (local mode)', () => {
  let server: TestServer;
  let now = Date.UTC(2026, 0, 1, 0, 0, 0);
  beforeAll(async () => {
    server = await startTestServer({}, undefined, { now: () => now });
  });
  afterAll(() => server.stop());

  it('answers a repeated query from the cache with the same bytes and headers, counting it', async () => {
    const id = await uploadImage(server, '1.2.3.101');
    const before = await cacheCounts(server);
    const miss = await post(server, body(ATTRIBUTE, { id }));
    const hit = await post(server, body(ATTRIBUTE, { id }));
    expect(miss.status).toBe(200);
    expect(miss.json.data.dicomFile.attribute.value).toEqual([4]);
    expect(hit.text).toBe(miss.text);
    expect(hit.headers.get('content-type')).toBe(miss.headers.get('content-type'));
    expect(hit.headers.get('content-length')).toBe(miss.headers.get('content-length'));
    expect(hit.requestId).not.toBe(miss.requestId);
    const after = await cacheCounts(server);
    expect(after.miss - before.miss).toBe(1);
    expect(after.hit - before.hit).toBe(1);
    // The operation counter counts hits too.
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/dicomql_graphql_operations_total\{operation_name="Attr",operation_type="query",result="success"\} 2/);
  });

  it('records the READ audit events of the original execution again on every hit, with the hit request id', async () => {
    const id = await uploadImage(server, '1.2.3.102');
    const query = 'query Rows($id: ID!) { dicomFile(id: $id) { attribute(tag: "Rows") { value } } }';
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await post(server, body(query, { id })));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    const events = await post(
      server,
      body('{ auditEvents(first: 100, filter: { action: READ }) { edges { node { action fileId requestId } } } }'),
    );
    const reads = events.json.data.auditEvents.edges.map((e: any) => e.node);
    for (const answer of answers) {
      const ofRequest = reads.filter((e: any) => e.requestId === answer.requestId);
      expect(ofRequest).toHaveLength(1);
      expect(ofRequest[0].action).toBe('READ');
    }
    expect(new Set(answers.map((a) => reads.find((e: any) => e.requestId === a.requestId).fileId)).size).toBe(1);
  });

  it('an upload of a new file invalidates the owner\'s answers; a duplicate upload does not', async () => {
    const first = (await post(server, body(COUNT))).json.data.dicomFiles.totalCount as number;
    expect((await post(server, body(COUNT))).json.data.dicomFiles.totalCount).toBe(first);
    await uploadImage(server, '1.2.3.103');
    expect((await post(server, body(COUNT))).json.data.dicomFiles.totalCount).toBe(first + 1);
    const before = await cacheCounts(server);
    await uploadImage(server, '1.2.3.103'); // duplicate: nothing changes
    expect((await post(server, body(COUNT))).json.data.dicomFiles.totalCount).toBe(first + 1);
    expect((await cacheCounts(server)).hit - before.hit).toBe(1);
  });

  it('a delete invalidates: the deleted file is null afterwards', async () => {
    const id = await uploadImage(server, '1.2.3.104');
    const query = body('query One($id: ID!) { dicomFile(id: $id) { sha256 } }', { id });
    expect((await post(server, query)).json.data.dicomFile).not.toBeNull();
    expect((await post(server, query)).json.data.dicomFile).not.toBeNull(); // cached
    const deleted = await post(server, body('mutation Del($id: ID!) { deleteDicomFile(id: $id) { __typename } }', { id }));
    expect(deleted.json.data.deleteDicomFile.__typename).toBe('DeleteResult');
    expect((await post(server, query)).json.data.dicomFile).toBeNull();
  });

  it('signed URLs in a hit are those a fresh execution signs; the entry ends at the bucket boundary', async () => {
    const id = await uploadImage(server, '1.2.3.105');
    const ttl = 3600;
    const bucket = 900;
    // Just before the instant at which new URLs get the next bucketed expiry.
    const exp = Math.ceil((now / 1000 + ttl) / bucket) * bucket;
    const boundary = (exp - ttl) * 1000; // the last instant that signs `exp`
    now = boundary - 5000;
    const q = body(ATTRIBUTE, { id });
    /** The same query spelled differently: never the cached entry, so a fresh execution. */
    const fresh = () => post(server, body(`${ATTRIBUTE} `, { id }));
    const a = await post(server, q);
    expect(a.json.data.dicomFile.pngUrl).toContain(`exp=${exp}`);
    now = boundary;
    const before = await cacheCounts(server);
    const b = await post(server, q);
    expect((await cacheCounts(server)).hit - before.hit).toBe(1);
    expect(b.text).toBe(a.text);
    expect(b.json.data).toEqual((await fresh()).json.data);
    now = boundary + 1;
    const c = await post(server, q);
    expect(c.json.data.dicomFile.pngUrl).toContain(`exp=${exp + bucket}`);
    expect(c.json.data).toEqual((await fresh()).json.data);
    // The URLs of the hit still work (and are verified like any other).
    expect((await fetch(b.json.data.dicomFile.downloadUrl)).status).toBe(200);
  });

  it('never reuses answers of mutations, errors, auditEvents, viewer or apiTokens', async () => {
    const fileId = await uploadImage(server, '1.2.3.107');
    const queries = [
      body('{ viewer { name } }'),
      body('{ apiTokens { id } }'),
      body('{ auditEvents(first: 1) { totalCount } }'),
      body('query Bad($id: ID!) { dicomFile(id: $id) { attribute(tag: "NotATag") { value } } }', { id: fileId }),
      body('{ nope }'),
      body('mutation Del { deleteDicomFile(id: "RGljb21GaWxlOm5vbmU=") { __typename } }'),
    ];
    const before = await cacheCounts(server);
    for (const q of queries) {
      await post(server, q);
      await post(server, q);
      const after = await cacheCounts(server);
      expect({ q, hits: after.hit - before.hit }).toEqual({ q, hits: 0 });
    }
    // auditEvents: the second answer counts the audit events the first request added.
    const audit = body('{ auditEvents(first: 1) { totalCount } }');
    const id = await uploadImage(server, '1.2.3.106');
    const n1 = (await post(server, audit)).json.data.auditEvents.totalCount as number;
    await post(server, body(ATTRIBUTE, { id }));
    const n2 = (await post(server, audit)).json.data.auditEvents.totalCount as number;
    expect(n2).toBeGreaterThan(n1);
  });
});

describe('GraphQL answer cache with API tokens', () => {
  let server: TestServer;
  let alice: UserToken;
  let alice2: UserToken;
  let bob: UserToken;
  let admin: UserToken;
  beforeAll(async () => {
    server = await startTestServer({ AUTH: 'token', HOST: '127.0.0.1' });
    alice = createUserToken(server.dataDir, 'alice');
    alice2 = createUserToken(server.dataDir, 'alice', { label: 'second' });
    bob = createUserToken(server.dataDir, 'bob');
    admin = createUserToken(server.dataDir, 'root', { admin: true });
  });
  afterAll(() => server.stop());

  it('another user with the identical request body never gets the first user\'s answer', async () => {
    const id = await uploadImage(server, '1.2.3.201', bearer(alice.token));
    const q = body(ATTRIBUTE, { id });
    const a1 = await post(server, q, bearer(alice.token));
    const a2 = await post(server, q, bearer(alice.token));
    expect(a2.text).toBe(a1.text);
    expect(a1.json.data.dicomFile).not.toBeNull();
    const b = await post(server, q, bearer(bob.token));
    expect(b.status).toBe(200);
    expect(b.json.data.dicomFile).toBeNull();
    expect((await post(server, body(COUNT), bearer(bob.token))).json.data.dicomFiles.totalCount).toBe(0);
    expect((await post(server, body(COUNT), bearer(alice.token))).json.data.dicomFiles.totalCount).toBe(1);
    // Bob's upload invalidates Bob's answers only; Alice's stay correct.
    await uploadImage(server, '1.2.3.202', bearer(bob.token));
    expect((await post(server, body(COUNT), bearer(bob.token))).json.data.dicomFiles.totalCount).toBe(1);
    expect((await post(server, body(COUNT), bearer(alice.token))).json.data.dicomFiles.totalCount).toBe(1);
  });

  it('two tokens of one user get their own URLs (k names each token)', async () => {
    const id = await uploadImage(server, '1.2.3.203', bearer(alice.token));
    const q = body(ATTRIBUTE, { id });
    const viaFirst = await post(server, q, bearer(alice.token));
    const viaFirstAgain = await post(server, q, bearer(alice.token));
    const viaSecond = await post(server, q, bearer(alice2.token));
    expect(viaFirstAgain.text).toBe(viaFirst.text);
    expect(new URL(viaFirst.json.data.dicomFile.pngUrl).searchParams.get('k')).toBe(alice.tokenId);
    expect(new URL(viaSecond.json.data.dicomFile.pngUrl).searchParams.get('k')).toBe(alice2.tokenId);
    // Audit events of hits carry the token of the request that hit.
    const events = await post(
      server,
      body('query Ev($f: AuditEventFilter) { auditEvents(first: 50, filter: $f) { edges { node { requestId tokenId } } } }', {
        f: { action: 'READ', userName: 'alice' },
      }),
      bearer(admin.token),
    );
    const nodes = events.json.data.auditEvents.edges.map((e: any) => e.node);
    expect(nodes.find((n: any) => n.requestId === viaFirstAgain.requestId)?.tokenId).toBe(alice.tokenId);
    expect(nodes.find((n: any) => n.requestId === viaSecond.requestId)?.tokenId).toBe(alice2.tokenId);
  });
});

describe('GraphQL answer cache disabled (GRAPHQL_ANSWER_CACHE_BYTES=0)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ GRAPHQL_ANSWER_CACHE_BYTES: '0' });
  });
  afterAll(() => server.stop());

  it('runs every query (header cache hits, no answer cache counts) and answers the same', async () => {
    const id = await uploadImage(server, '1.2.3.301');
    const q = body('query Rows($id: ID!) { dicomFile(id: $id) { attribute(tag: "Rows") { value } } }', { id });
    const a = await post(server, q);
    const b = await post(server, q);
    expect(b.text).toBe(a.text);
    expect(a.json.data.dicomFile.attribute.value).toEqual([4]);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(await cacheCounts(server)).toEqual({ hit: 0, miss: 0 });
    expect(text).toMatch(/dicomql_header_cache_hits_total 1/);
  });
});
