/**
 * Signed companion URLs over real HTTP: every URL the API hands out (pngUrl, downloadUrl,
 * dicomJson BulkDataURI, zipUrl) works without headers, any change to it answers 403, it expires,
 * and it survives a restart on the same DATA_DIR but not a server with another secret.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { URL_SIGNING_KEY_FILE } from '../../src/auth/url-signing-key.js';
import { ApiTokenRepository } from '../../src/storage/api-tokens.js';
import { createUserToken, type UserToken } from '../helpers/tokens.js';
import { openDatabase } from '../../src/storage/db.js';
import { syntheticImage } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUrl } from '../helpers/signed-url.js';

const FIELDS = `id pngUrl downloadUrl dicomJson series { zipUrl } study { zipUrl }
  f2: pngUrl(frame: 2) windowed: pngUrl(window: { center: 100, width: 50 }) thumb: pngUrl(maxSize: 4) deep: pngUrl(bitDepth: 16)`;

interface Urls {
  id: string;
  pngUrl: string;
  downloadUrl: string;
  bulk: string;
  seriesZip: string;
  studyZip: string;
  f2: string;
  windowed: string;
  thumb: string;
  deep: string;
}

async function urls(server: TestServer, id: string): Promise<Urls> {
  const res = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { ${FIELDS} } }`, { id });
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  const f = res.body.data.dicomFile;
  return { ...f, bulk: f.dicomJson['7FE00010'].BulkDataURI, seriesZip: f.series.zipUrl, studyZip: f.study.zipUrl };
}

async function upload(server: TestServer, sopInstanceUid: string, frames = 3): Promise<string> {
  const res = await server.upload({ name: `${sopInstanceUid}.dcm`, bytes: syntheticImage({ rows: 8, columns: 8, frames, sopInstanceUid }) });
  expect(res.body.data?.uploadDicom?.__typename, JSON.stringify(res.body)).toBe('UploadDicomSuccess');
  return res.body.data.uploadDicom.file.id as string;
}

/** Status and error code (403s and other JSON errors). */
async function answer(url: string, init: RequestInit = {}): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code };
}

const routeId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;

function edit(url: string, change: (u: URL) => void): string {
  const u = new URL(url);
  change(u);
  return u.href;
}

describe('signed companion URLs', () => {
  let server: TestServer;
  let a: Urls;
  let b: Urls;

  beforeAll(async () => {
    server = await startTestServer();
    a = await urls(server, await upload(server, '1.2.7.1'));
    b = await urls(server, await upload(server, '1.2.7.2'));
  });
  afterAll(() => server.stop());

  it('every URL from GraphQL works without any header', async () => {
    for (const url of [a.pngUrl, a.f2, a.windowed, a.thumb, a.deep, a.downloadUrl, a.bulk, a.seriesZip, a.studyZip]) {
      expect(url).toMatch(/[?&]u=1&exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      await res.arrayBuffer();
      expect((await fetch(url, { method: 'HEAD' })).status, url).toBe(200);
    }
  });

  it('pointing a URL at another real file, frame, window, size or depth answers 403 INVALID_SIGNATURE', async () => {
    const aId = routeId(a.id);
    const bId = routeId(b.id);
    const tampered = [
      a.pngUrl.replace(aId, bId),
      a.downloadUrl.replace(aId, bId),
      a.bulk.replace(aId, bId),
      a.pngUrl.replace('/frames/1.png', '/frames/2.png'),
      a.f2.replace('/frames/2.png', '/frames/1.png'),
      edit(a.windowed, (u) => u.searchParams.set('center', '101')),
      edit(a.windowed, (u) => u.searchParams.set('width', '5000')),
      edit(a.windowed, (u) => (u.searchParams.delete('center'), u.searchParams.delete('width'))),
      edit(a.pngUrl, (u) => {
        u.searchParams.set('center', '100');
        u.searchParams.set('width', '50');
      }),
      edit(a.thumb, (u) => u.searchParams.set('maxSize', '2')),
      edit(a.thumb, (u) => u.searchParams.delete('maxSize')),
      edit(a.pngUrl, (u) => u.searchParams.set('maxSize', '4')),
      edit(a.deep, (u) => u.searchParams.delete('bitDepth')),
      edit(a.pngUrl, (u) => u.searchParams.set('u', '2')),
      edit(a.pngUrl, (u) => u.searchParams.set('exp', String(Number(u.searchParams.get('exp')) + 86_400))),
      a.seriesZip.replace(/\/series\/(\d+)\.zip/, (_m, id) => `/series/${Number(id) + 1}.zip`),
      a.studyZip.replace('/studies/', '/series/'),
      a.bulk.replace('/7FE00010', '/7FE00010/0/7FE00010'),
    ];
    for (const url of tampered) {
      expect(url).not.toBe(a.pngUrl);
      expect(await answer(url), url).toEqual({ status: 403, code: 'INVALID_SIGNATURE' });
    }
  });

  it('a URL without its signature answers 403 MISSING_SIGNATURE, even for an id that does not exist (no existence oracle)', async () => {
    for (const url of [a.pngUrl, a.downloadUrl, a.bulk, a.seriesZip, a.studyZip]) {
      expect(await answer(edit(url, (u) => u.searchParams.delete('sig'))), url).toEqual({ status: 403, code: 'MISSING_SIGNATURE' });
    }
    expect(await answer(`${server.url}/files/00000000-0000-0000-0000-000000000000/download`)).toEqual({ status: 403, code: 'MISSING_SIGNATURE' });
    expect(await answer(`${server.url}/studies/999999.zip`)).toEqual({ status: 403, code: 'MISSING_SIGNATURE' });
    // A signed URL of a file that does not exist still answers 404 (the route's own answer).
    expect(await answer(signUrl(server, '/files/00000000-0000-0000-0000-000000000000/download'))).toEqual({ status: 404, code: 'NOT_FOUND' });
  });

  it('a 304 needs a valid signature too; max-age never outlives the URL', async () => {
    const first = await fetch(a.pngUrl);
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    const exp = Number(new URL(a.pngUrl).searchParams.get('exp'));
    const m = /^private, max-age=(\d+), immutable$/.exec(first.headers.get('cache-control') ?? '');
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(exp - Math.floor(Date.now() / 1000) + 1);
    expect(Number(m![1])).toBeGreaterThanOrEqual(3600 - 5);
    expect((await fetch(a.pngUrl, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const forged = edit(a.pngUrl, (u) => u.searchParams.set('sig', 'A'.repeat(43)));
    expect(await answer(forged, { headers: { 'if-none-match': etag } })).toEqual({ status: 403, code: 'INVALID_SIGNATURE' });
    const download = await fetch(a.downloadUrl, { method: 'HEAD' });
    expect(await answer(edit(a.downloadUrl, (u) => u.searchParams.delete('sig')), { headers: { 'if-none-match': download.headers.get('etag')! } })).toEqual({
      status: 403,
      code: 'MISSING_SIGNATURE',
    });
  });

  it('the same query gives the same URL (cacheable) within the expiry bucket', async () => {
    const again = await urls(server, a.id);
    // 15-minute buckets: the two queries fall in one unless a boundary passed in between.
    const sameBucket = new URL(again.pngUrl).searchParams.get('exp') === new URL(a.pngUrl).searchParams.get('exp');
    if (sameBucket) expect(again.pngUrl).toBe(a.pngUrl);
    expect(again.pngUrl).not.toBe(b.pngUrl);
  });
});

describe('URLs of users and API tokens', () => {
  let server: TestServer;
  let path: string;
  let alice: UserToken;
  let bob: UserToken;
  let expired: UserToken;

  beforeAll(async () => {
    server = await startTestServer();
    alice = createUserToken(server.dataDir, 'alice');
    bob = createUserToken(server.dataDir, 'bob');
    expired = createUserToken(server.dataDir, 'alice', { expiresAt: new Date(Date.now() + 1500) });
    const id = await upload(server, '1.2.7.10');
    path = new URL((await urls(server, id)).downloadUrl).pathname;
    // The file is alice's (this server runs in local mode; token-mode uploads are tested in isolation.test.ts).
    const db = openDatabase(server.dataDir);
    db.db.$client.prepare('UPDATE dicom_files SET owner_ref = ? WHERE id = ?').run(alice.userId, routeId(id));
    db.close();
    await new Promise((r) => setTimeout(r, 1600)); // `expired` is past its expiry now
  });
  afterAll(async () => {
    await server.stop();
  });

  it('act for the user and token they name, and stop working when the token is revoked', async () => {
    const asAlice = signUrl(server, path, { userId: alice.userId, tokenId: alice.tokenId });
    expect((await answer(asAlice)).status).toBe(200);
    const refused = { status: 403, code: 'INVALID_SIGNATURE' };
    expect(await answer(signUrl(server, path, { userId: alice.userId, tokenId: bob.tokenId }))).toEqual(refused); // another user's token
    expect(await answer(signUrl(server, path, { userId: alice.userId, tokenId: expired.tokenId }))).toEqual(refused); // expired token
    expect(await answer(signUrl(server, path, { userId: alice.userId, tokenId: 'AAAAAAAAAAAAAAAA' }))).toEqual(refused); // unknown token
    expect(await answer(signUrl(server, path, { userId: 99, tokenId: null }))).toEqual(refused); // unknown user
    expect((await answer(signUrl(server, path, { userId: alice.userId, tokenId: null }))).status).toBe(200); // a user's own URL without a token (local mode)
    const db = openDatabase(server.dataDir);
    new ApiTokenRepository(db.db).revoke(alice.tokenId);
    db.close();
    expect(await answer(asAlice)).toEqual(refused);
  });

  it('a URL fetched again and again (its signature check remembered) still stops at once when its token is revoked', async () => {
    const token = createUserToken(server.dataDir, 'alice', { label: 'remembered' });
    const url = signUrl(server, path, { userId: token.userId, tokenId: token.tokenId });
    const first = await fetch(url);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    for (let i = 0; i < 3; i++) expect((await answer(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    // A copy with one character of the signature changed is refused, before and after its original was remembered.
    const sig = new URL(url).searchParams.get('sig')!;
    const altered = url.replace(sig, (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    const refused = { status: 403, code: 'INVALID_SIGNATURE' };
    expect(await answer(altered)).toEqual(refused);
    expect(await answer(altered)).toEqual(refused);
    const db = openDatabase(server.dataDir);
    new ApiTokenRepository(db.db).revoke(token.tokenId);
    db.close();
    expect(await answer(url, { headers: { 'if-none-match': etag } })).toEqual(refused);
    expect(await answer(url)).toEqual(refused);
  });

  it('the route acts as the principal the URL names', async () => {
    const seen: [number, string | null][] = [];
    const other = await startTestServer({}, undefined, {
      principalForSignedUrl: (userId, tokenId) => {
        seen.push([userId, tokenId]);
        return userId === 2 ? { userId, userName: 'alice', isAdmin: false, tokenId } : undefined;
      },
    });
    try {
      const url = (await urls(other, await upload(other, '1.2.7.11'))).downloadUrl;
      expect(seen).toEqual([]); // GraphQL itself does not go through it
      expect(await answer(url)).toEqual({ status: 403, code: 'INVALID_SIGNATURE' }); // user 1 refused by this lookup
      // Passes the signature check and acts as user 2, who does not own user 1's file: 404.
      const asUser2 = signUrl(other, url, { userId: 2, tokenId: 'tok_x' });
      expect((await answer(asUser2)).status).toBe(404);
      expect(seen).toEqual([
        [1, null],
        [2, 'tok_x'],
      ]);
      // Asked again for every request of the same URL (whether the token still authenticates can change).
      expect((await answer(asUser2)).status).toBe(404);
      expect(await answer(url)).toEqual({ status: 403, code: 'INVALID_SIGNATURE' });
      expect(seen).toHaveLength(4);
      // A forged URL never reaches the lookup.
      await answer(edit(url, (u) => u.searchParams.set('u', '2')));
      expect(seen).toHaveLength(4);
    } finally {
      await other.stop();
    }
  });
});

describe('expiry and the signing key', () => {
  it('SIGNED_URL_TTL_SECONDS=1: the URL works, then answers 403 URL_EXPIRED once past exp', async () => {
    const server = await startTestServer({ SIGNED_URL_TTL_SECONDS: '1' });
    try {
      const u = await urls(server, await upload(server, '1.2.7.20'));
      const exp = Number(new URL(u.pngUrl).searchParams.get('exp'));
      expect(exp * 1000 - Date.now()).toBeLessThanOrEqual(2000);
      const first = await fetch(u.pngUrl);
      if (Date.now() < exp * 1000 - 100) {
        expect(first.status).toBe(200);
        const maxAge = Number(/max-age=(\d+)/.exec(first.headers.get('cache-control') ?? '')?.[1]);
        expect(maxAge).toBeLessThanOrEqual(2);
      }
      await first.arrayBuffer();
      await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 50));
      for (const url of [u.pngUrl, u.downloadUrl, u.bulk, u.seriesZip, u.studyZip]) {
        expect(await answer(url), url).toEqual({ status: 403, code: 'URL_EXPIRED' });
      }
      // A fresh query gives a working URL again.
      const fresh = await server.gql('query ($id: ID!) { dicomFile(id: $id) { downloadUrl } }', { id: u.id });
      expect((await answer(fresh.body.data.dicomFile.downloadUrl)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('URLs stay valid after a restart on the same DATA_DIR (key kept in url-signing.key, mode 0600)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dicomql-signed-'));
    try {
      let server = await startTestServer({}, dataDir);
      const u = await urls(server, await upload(server, '1.2.7.30'));
      expect((await answer(u.downloadUrl)).status).toBe(200);
      await server.stop();
      expect(statSync(join(dataDir, URL_SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);

      server = await startTestServer({}, dataDir);
      const moved = (url: string) => url.replace(/^http:\/\/[^/]+/, server.url); // the new server listens on another port
      try {
        for (const url of [u.pngUrl, u.downloadUrl, u.bulk, u.seriesZip]) expect((await answer(moved(url))).status, url).toBe(200);
      } finally {
        await server.stop();
      }

      // Another secret (several instances must share one): every URL signed with the file's key is refused.
      server = await startTestServer({ URL_SIGNING_SECRET: 'another-secret-of-at-least-32-characters' }, dataDir);
      try {
        for (const url of [u.pngUrl, u.downloadUrl, u.bulk, u.seriesZip]) expect(await answer(moved(url)), url).toEqual({ status: 403, code: 'INVALID_SIGNATURE' });
        const own = await urls(server, u.id);
        expect((await answer(own.downloadUrl)).status).toBe(200);
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('behind PUBLIC_URL with a path prefix the proxy strips, the URL verifies on the route path', async () => {
    const server = await startTestServer({ PUBLIC_URL: 'https://pacs.example.org/dicomql/' });
    try {
      const u = await urls(server, await upload(server, '1.2.7.40'));
      expect(u.pngUrl.startsWith('https://pacs.example.org/dicomql/files/')).toBe(true);
      const asProxied = (url: string) => url.replace('https://pacs.example.org/dicomql', server.url);
      for (const url of [u.pngUrl, u.downloadUrl, u.bulk, u.studyZip]) expect((await answer(asProxied(url))).status, url).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
