/**
 * Authentication over real HTTP: AUTH=token needs `Authorization: Bearer <token>` on GraphQL
 * (JSON, GET, multipart, subscriptions) and /metrics (admins); probes stay open; local mode needs
 * nothing; the rate limit is per token (per address in local mode and for failed attempts); a
 * non-loopback HOST without AUTH=token refuses to start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticImage } from '../helpers/fixtures.js';
import { startTestServer, type TestServer, UPLOAD_MUTATION } from '../helpers/server.js';
import { bearer, createUserToken, gqlWith, type UserToken } from '../helpers/tokens.js';

const VIEWER = '{ viewer { name isAdmin } }';
const CSRF = { 'apollo-require-preflight': 'true' };

function expectUnauthenticated(res: { status: number; headers: Headers }, body: unknown): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer realm="dicomql"');
  expect(body).toMatchObject({ errors: [{ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } }] });
}

/** Every file under dir (recursively). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

function storedRows(dataDir: string): number {
  const db = new Database(join(dataDir, 'dicomql.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM dicom_files').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('AUTH=token', () => {
  let dataDir: string;
  let server: TestServer;
  let alice: UserToken;
  let bob: UserToken;
  let admin: UserToken;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dicomql-auth-'));
    alice = createUserToken(dataDir, 'alice');
    bob = createUserToken(dataDir, 'bob');
    admin = createUserToken(dataDir, 'root', { admin: true });
    server = await startTestServer({ AUTH: 'token' }, dataDir);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 401 UNAUTHENTICATED without a token (POST, GET, subscriptions)', async () => {
    const post = await gqlWith(server.url, {}, VIEWER);
    expectUnauthenticated(post, post.body);
    expect(post.body.errors?.[0]?.message).toMatch(/Authorization: Bearer/);
    expect(post.body.data).toBeUndefined();
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent(VIEWER)}`);
    expectUnauthenticated(get, await get.json());
    const sse = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { dicomFileAdded { id } }' }),
    });
    expectUnauthenticated(sse, await sse.json());
  });

  it('answers 401 for a bad scheme, garbage, an unknown, a revoked or an expired token', async () => {
    const revoked = createUserToken(dataDir, 'alice');
    const expired = createUserToken(dataDir, 'alice');
    const revokedRes = await gqlWith(server.url, bearer(revoked.token), VIEWER);
    expect(revokedRes.status).toBe(200);
    const expiredRes = await gqlWith(server.url, bearer(expired.token), VIEWER);
    expect(expiredRes.status).toBe(200);
    // What time and `npm run token -- revoke` do to a row, done to the database the server uses.
    const db = new Database(join(dataDir, 'dicomql.sqlite'));
    db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ?').run(Date.now(), revoked.tokenId);
    db.prepare('UPDATE api_tokens SET expires_at = ? WHERE id = ?').run(Date.now() - 1, expired.tokenId);
    db.close();
    const unknown = `dql_${'A'.repeat(16)}_${alice.token.slice(21)}`;
    const wrongSecret = `${alice.token.slice(0, 21)}${'B'.repeat(43)}`;
    for (const authorization of [
      `Basic ${Buffer.from('alice:secret').toString('base64')}`,
      `Token ${alice.token}`,
      alice.token,
      'Bearer',
      'Bearer garbage',
      `Bearer ${alice.token} extra`,
      `Bearer ${unknown}`,
      `Bearer ${wrongSecret}`,
      `Bearer ${revoked.token}`,
      `Bearer ${expired.token}`,
    ]) {
      const res = await gqlWith(server.url, { authorization }, VIEWER);
      expect(res.status, authorization).toBe(401);
      expectUnauthenticated(res, res.body);
    }
  });

  it('answers 200 with a valid token; viewer is its owner (scheme case-insensitive)', async () => {
    for (const [user, authorization] of [
      [alice, `Bearer ${alice.token}`],
      [bob, `bearer ${bob.token}`],
      [admin, `BEARER ${admin.token}`],
    ] as const) {
      const res = await gqlWith(server.url, { authorization }, VIEWER);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { viewer: { name: user.userName, isAdmin: user === admin } } });
    }
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent(VIEWER)}`, { headers: bearer(alice.token) });
    expect(await get.json()).toEqual({ data: { viewer: { name: 'alice', isAdmin: false } } });
    const abort = new AbortController();
    const sse = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...bearer(alice.token) },
      body: JSON.stringify({ query: 'subscription { dicomFileAdded { id } }' }),
      signal: abort.signal,
    });
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    abort.abort();
  });

  it('createApiToken → the new token works → revokeApiToken → 401', async () => {
    const created = await gqlWith(
      server.url,
      bearer(alice.token),
      `mutation($input: CreateApiTokenInput) { createApiToken(input: $input) { token apiToken { id label createdAt expiresAt lastUsedAt revokedAt revoked } } }`,
      { input: { label: 'viewer app', expiresInSeconds: 3600 } },
    );
    expect(created.status).toBe(200);
    const { token, apiToken } = created.body.data.createApiToken;
    expect(token).toMatch(/^dql_[A-Za-z0-9_-]{16}_[A-Za-z0-9_-]{43}$/);
    expect(token.slice(4, 20)).toBe(apiToken.id);
    expect(apiToken).toMatchObject({ label: 'viewer app', lastUsedAt: null, revokedAt: null, revoked: false });
    const expiresIn = Date.parse(apiToken.expiresAt) - Date.parse(apiToken.createdAt);
    expect(expiresIn).toBeGreaterThan(3590_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);

    expect((await gqlWith(server.url, bearer(token), VIEWER)).body).toEqual({ data: { viewer: { name: 'alice', isAdmin: false } } });
    const listed = await gqlWith(server.url, bearer(token), '{ apiTokens { id label revoked lastUsedAt } }');
    const mine = listed.body.data.apiTokens.find((t: { id: string }) => t.id === apiToken.id);
    expect(mine).toMatchObject({ label: 'viewer app', revoked: false, lastUsedAt: expect.any(String) });
    expect(listed.body.data.apiTokens.map((t: { id: string }) => t.id)).toContain(alice.tokenId);
    expect(listed.body.data.apiTokens.map((t: { id: string }) => t.id)).not.toContain(bob.tokenId);
    expect(JSON.stringify(listed.body)).not.toContain(token.slice(21));

    const revoked = await gqlWith(
      server.url,
      bearer(alice.token),
      `mutation($id: ID!) { revokeApiToken(id: $id) { __typename ... on RevokeApiTokenSuccess { apiToken { id revoked revokedAt } } ... on Error { code } } }`,
      { id: apiToken.id },
    );
    expect(revoked.body.data.revokeApiToken).toMatchObject({ __typename: 'RevokeApiTokenSuccess', apiToken: { id: apiToken.id, revoked: true } });
    expect((await gqlWith(server.url, bearer(token), VIEWER)).status).toBe(401);
    expect((await gqlWith(server.url, bearer(alice.token), VIEWER)).status).toBe(200);
  });

  it('rejects a bad expiry with INVALID_ARGUMENT and creates nothing', async () => {
    const before = (await gqlWith(server.url, bearer(bob.token), '{ apiTokens { id } }')).body.data.apiTokens.length;
    for (const input of [{ expiresAt: '2000-01-01T00:00:00Z' }, { expiresInSeconds: 0 }, { expiresInSeconds: 60, expiresAt: '2999-01-01T00:00:00Z' }]) {
      const res = await gqlWith(server.url, bearer(bob.token), 'mutation($input: CreateApiTokenInput) { createApiToken(input: $input) { token } }', { input });
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(input)).toBe('INVALID_ARGUMENT');
    }
    expect((await gqlWith(server.url, bearer(bob.token), '{ apiTokens { id } }')).body.data.apiTokens.length).toBe(before);
  });

  it("one user cannot revoke another's token (NotFoundError, like an unknown id)", async () => {
    const revoke = `mutation($id: ID!) { revokeApiToken(id: $id) { __typename ... on Error { code message } } }`;
    const attempt = await gqlWith(server.url, bearer(bob.token), revoke, { id: alice.tokenId });
    const unknown = await gqlWith(server.url, bearer(bob.token), revoke, { id: 'AAAAAAAAAAAAAAAA' });
    expect(attempt.body.data.revokeApiToken).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(unknown.body.data.revokeApiToken).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect((await gqlWith(server.url, bearer(alice.token), VIEWER)).status).toBe(200);
  });

  it('refuses a multipart upload without a token and stores nothing', async () => {
    const bytes = syntheticImage({ rows: 64, columns: 64 });
    for (const headers of [CSRF, { ...CSRF, authorization: 'Bearer nope' }]) {
      const res = await server.upload({ name: 'a.dcm', bytes }, UPLOAD_MUTATION, headers);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    expect(storedRows(dataDir)).toBe(0);
    expect(filesUnder(join(dataDir, 'blobs'))).toEqual([]);
    expect(filesUnder(join(dataDir, 'tmp'))).toEqual([]);
    // The same upload with a token is stored (the checks above would have seen it).
    const ok = await server.upload({ name: 'a.dcm', bytes }, UPLOAD_MUTATION, { ...CSRF, ...bearer(alice.token) });
    expect(ok.body.data.uploadDicom.__typename).toBe('UploadDicomSuccess');
    expect(storedRows(dataDir)).toBe(1);
    expect(filesUnder(join(dataDir, 'blobs'))).toHaveLength(1);
  });

  it('answers a large upload without a token at once and closes the connection without reading it', async () => {
    const { port } = new URL(server.url);
    const declared = 200 * 1024 * 1024;
    const rowsBefore = storedRows(dataDir);
    const outcome = await new Promise<{ status?: number; closed: boolean }>((resolve) => {
      const result: { status?: number; closed: boolean } = { closed: false };
      const req = request(
        { host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { ...CSRF, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(declared) } },
        (res) => {
          result.status = res.statusCode;
          res.resume();
        },
      );
      req.on('error', () => undefined);
      // 1 MiB of the declared 200 MiB, and no more: only a server that stops reading answers and closes now.
      req.write(Buffer.alloc(1024 * 1024));
      req.on('close', () => resolve({ ...result, closed: true }));
      setTimeout(() => {
        resolve(result);
        req.destroy();
      }, 5000);
    });
    expect(outcome).toEqual({ status: 401, closed: true });
    expect(storedRows(dataDir)).toBe(rowsBefore);
  });

  it('leaves /healthz and /readyz open; /metrics needs an admin token', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const anonymous = await fetch(`${server.url}/metrics`);
    expectUnauthenticated(anonymous, await anonymous.json());
    const user = await fetch(`${server.url}/metrics`, { headers: bearer(alice.token) });
    expect(user.status).toBe(403);
    expect(await user.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const adminRes = await fetch(`${server.url}/metrics`, { headers: bearer(admin.token) });
    expect(adminRes.status).toBe(200);
    expect(await adminRes.text()).toContain('# TYPE');
  });

  it('lets allowed cross-origin pages send the Authorization header (CORS preflight is not authenticated)', async () => {
    const cors = await startTestServer({ AUTH: 'token', CORS_ORIGINS: 'https://viewer.example.org' });
    try {
      const preflight = await fetch(`${cors.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: 'https://viewer.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/(^|, )authorization(,|$)/);
      const res = await gqlWith(cors.url, { origin: 'https://viewer.example.org' }, VIEWER);
      expect(res.status).toBe(401);
      expect(res.headers.get('access-control-expose-headers')).toContain('www-authenticate');
    } finally {
      await cors.stop();
    }
  });

  it('answers unknown paths 401 without a token (no probing of the route table)', async () => {
    const res = await fetch(`${server.url}/nothing-here`);
    expectUnauthenticated(res, await res.json());
    expect((await fetch(`${server.url}/nothing-here`, { headers: bearer(alice.token) })).status).toBe(404);
  });
});

describe('local mode (no AUTH, loopback HOST)', () => {
  it('needs no token and acts as the local admin', async () => {
    const server = await startTestServer();
    try {
      const res = await gqlWith(server.url, {}, VIEWER);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { viewer: { name: 'local', isAdmin: true } } });
      // A header is ignored, not checked.
      expect((await gqlWith(server.url, { authorization: 'Bearer garbage' }, VIEWER)).status).toBe(200);
      expect((await fetch(`${server.url}/metrics`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('rate-limits per client address', async () => {
    const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_BURST: '3' });
    try {
      const statuses: number[] = [];
      // Different Authorization headers do not make different clients in local mode.
      for (const headers of [{}, { authorization: 'Bearer a' }, { authorization: 'Bearer b' }, { authorization: 'Bearer c' }] as Record<string, string>[]) {
        statuses.push((await gqlWith(server.url, headers, VIEWER)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await server.stop();
    }
  });
});

describe('rate limit with AUTH=token', () => {
  it('is per token; failed authentications spend the address bucket', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dicomql-auth-rate-'));
    const a = createUserToken(dataDir, 'alice');
    const b = createUserToken(dataDir, 'bob');
    const server = await startTestServer({ AUTH: 'token', RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_BURST: '3' }, dataDir);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await gqlWith(server.url, bearer(a.token), VIEWER)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const limited = await gqlWith(server.url, bearer(a.token), VIEWER);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(10);
      expect(limited.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
      // Token B, from the same address, has its own bucket.
      expect((await gqlWith(server.url, bearer(b.token), VIEWER)).status).toBe(200);
      // Guessing: failed attempts spend the address's bucket, then answer 429 (even before checking).
      const guesses: number[] = [];
      for (let i = 0; i < 4; i++) guesses.push((await gqlWith(server.url, { authorization: `Bearer guess${i}` }, VIEWER)).status);
      expect(guesses).toEqual([401, 401, 401, 429]);
      // …which does not stop the valid token B.
      expect((await gqlWith(server.url, bearer(b.token), VIEWER)).status).toBe(200);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('start-up', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));

  function start(env: Record<string, string>) {
    const dataDir = mkdtempSync(join(tmpdir(), 'dicomql-auth-process-'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, PORT: '0', AUTH: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    exited.finally(() => rmSync(dataDir, { recursive: true, force: true }));
    return { child, exited, output: () => output };
  }

  it('refuses a non-loopback HOST without AUTH=token, saying how to fix it', async () => {
    const proc = start({ HOST: '0.0.0.0' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain('HOST=0.0.0.0 is reachable from other machines, but AUTH is not set');
    expect(proc.output()).toContain('Set AUTH=token');
    expect(proc.output()).toContain('npm run token -- create --user NAME');
  });

  it('serves a non-loopback HOST with AUTH=token, tokens required', async () => {
    const proc = start({ HOST: '0.0.0.0', AUTH: 'token' });
    try {
      const deadline = Date.now() + 30_000;
      let port: string | undefined;
      while (!port && Date.now() < deadline) {
        port = /on http:\/\/0\.0\.0\.0:(\d+)\/graphql/.exec(proc.output())?.[1];
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(port, proc.output()).toBeDefined();
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/graphql?query=%7B__typename%7D`)).status).toBe(401);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
  });
});
