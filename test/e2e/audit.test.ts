/**
 * The audit trail over real HTTP, in local mode (every request acts as the admin "local"): which
 * requests record which events (once per request, action and file; nothing for failures), the
 * request id they carry, and the admin's `auditEvents` connection (filters, paging, cursors).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticImage } from '../helpers/fixtures.js';
import { UPLOAD_MANY } from '../helpers/multipart.js';
import { startTestServer, type TestServer, UPLOAD_MUTATION } from '../helpers/server.js';
import { signUrl } from '../helpers/signed-url.js';

interface AuditEvent {
  at: string;
  userName: string;
  action: string;
  fileId: string;
  requestId: string | null;
  tokenId: string | null;
}

const EVENTS = `query Events($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    totalCount
    edges { cursor node { at userName action fileId requestId tokenId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

/** A GraphQL request with our own x-request-id; checks it is echoed. */
async function gql(query: string, variables: Record<string, unknown>, requestId: string) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ query, variables }),
  });
  expect(res.headers.get('x-request-id')).toBe(requestId);
  return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function uploadMany(files: { name: string; bytes: Uint8Array }[], requestId: string) {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD_MANY, variables: { files: files.map(() => null) } }));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  files.forEach((f, i) => form.append(String(i), new Blob([new Uint8Array(f.bytes)]), f.name));
  const res = await fetch(`${server.url}/graphql`, { method: 'POST', body: form, headers: { 'apollo-require-preflight': 'true', 'x-request-id': requestId } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { uploadDicoms: { file: { id: string } }[] } };
  return body.data.uploadDicoms.map((r) => r.file.id);
}

async function fetchWithId(url: string, requestId: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers: { 'x-request-id': requestId, ...headers } });
  await res.arrayBuffer();
  expect(res.headers.get('x-request-id')).toBe(requestId);
  return res;
}

/** The events matching `filter` (one page of up to 500). */
async function events(filter: Record<string, unknown> = {}): Promise<AuditEvent[]> {
  const body = await server.gql(EVENTS, { first: 500, filter });
  expect(body.body.errors).toBeUndefined();
  return body.body.data.auditEvents.edges.map((e: { node: AuditEvent }) => e.node);
}

const ofRequest = async (requestId: string) => (await events()).filter((e) => e.requestId === requestId);
const brief = (list: AuditEvent[]) => list.map((e) => `${e.action}:${e.fileId}`).sort();

function image(sop: string, series = '1.2.3.900.1', study = '1.2.3.900') {
  return syntheticImage({
    sopInstanceUid: sop,
    rows: 4,
    columns: 4,
    extra: [
      { tag: '0020000D', vr: 'UI', value: study },
      { tag: '0020000E', vr: 'UI', value: series },
    ],
  });
}

describe('recording', () => {
  let fileId: string;
  let zipIds: string[] = [];
  const bytes = image('1.2.3.900.1.1');

  it('an upload records UPLOAD by "local" with the file id and the request id; a duplicate upload too', async () => {
    const res = await server.upload({ name: 'a.dcm', bytes }, UPLOAD_MUTATION, { 'apollo-require-preflight': 'true', 'x-request-id': 'audit-upload-1' });
    fileId = res.body.data.uploadDicom.file.id;
    expect(await ofRequest('audit-upload-1')).toEqual([
      { at: expect.any(String), userName: 'local', action: 'UPLOAD', fileId, requestId: 'audit-upload-1', tokenId: null },
    ]);
    const again = await server.upload({ name: 'a-again.dcm', bytes }, UPLOAD_MUTATION, { 'apollo-require-preflight': 'true', 'x-request-id': 'audit-upload-2' });
    expect(again.body.data.uploadDicom.duplicate).toBe(true);
    expect(brief(await ofRequest('audit-upload-2'))).toEqual([`UPLOAD:${fileId}`]);
  });

  it('a query reading many attributes and the DICOM JSON of one file records exactly one READ', async () => {
    const body = await gql(
      `query ($id: ID!) { dicomFile(id: $id) {
        a: attribute(tag: "PatientID") { value } b: attribute(tag: "Rows") { value } c: attribute(tag: "(0028,0011)") { value }
        d: attribute(tag: "SOPInstanceUID") { value } attributes(tags: ["Modality", "StudyInstanceUID", "SeriesInstanceUID"]) { tag }
        all: attributes { tag } dicomJson
      } }`,
      { id: fileId },
      'audit-read-1',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.dicomFile.b.value).toEqual([4]);
    expect(await ofRequest('audit-read-1')).toEqual([
      { at: expect.any(String), userName: 'local', action: 'READ', fileId, requestId: 'audit-read-1', tokenId: null },
    ]);
  });

  it('indexed fields and listings are not header reads: nothing is recorded', async () => {
    const body = await gql(
      `query ($id: ID!) { dicomFile(id: $id) { id filename sopInstanceUid patientName rows columns modality } dicomFiles(first: 10) { edges { node { id patientName } } } }`,
      { id: fileId },
      'audit-indexed-1',
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.dicomFile.rows).toBe(4);
    expect(await ofRequest('audit-indexed-1')).toEqual([]);
  });

  it('a PNG served records RENDER, and so does a 304 revalidation', async () => {
    const body = await gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl } }`, { id: fileId }, 'audit-pngurl');
    const pngUrl: string = body.data.dicomFile.pngUrl;
    expect(await ofRequest('audit-pngurl')).toEqual([]); // building the URL reads nothing
    const first = await fetchWithId(pngUrl, 'audit-render-1');
    expect(first.status).toBe(200);
    expect(brief(await ofRequest('audit-render-1'))).toEqual([`RENDER:${fileId}`]);
    const revalidated = await fetchWithId(pngUrl, 'audit-render-2', { 'if-none-match': first.headers.get('etag')! });
    expect(revalidated.status).toBe(304);
    expect(brief(await ofRequest('audit-render-2'))).toEqual([`RENDER:${fileId}`]);
    const head = await fetch(pngUrl, { method: 'HEAD', headers: { 'x-request-id': 'audit-render-head' } });
    expect(head.status).toBe(200);
    expect(await ofRequest('audit-render-head')).toEqual([]); // no image sent
  });

  it('downloadUrl records DOWNLOAD', async () => {
    const body = await gql(`query ($id: ID!) { dicomFile(id: $id) { downloadUrl } }`, { id: fileId }, 'audit-dlurl');
    const res = await fetchWithId(body.data.dicomFile.downloadUrl, 'audit-download-1');
    expect(res.status).toBe(200);
    expect(brief(await ofRequest('audit-download-1'))).toEqual([`DOWNLOAD:${fileId}`]);
    // Without a client id the server's generated one (echoed in x-request-id) is recorded.
    const plain = await fetch(body.data.dicomFile.downloadUrl);
    await plain.arrayBuffer();
    const generated = plain.headers.get('x-request-id')!;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(brief(await ofRequest(generated))).toEqual([`DOWNLOAD:${fileId}`]);
  });

  it('a study ZIP records one DOWNLOAD per file in it', async () => {
    const ids = await uploadMany(
      [
        { name: 'z1.dcm', bytes: image('1.2.3.901.1.1', '1.2.3.901.1', '1.2.3.901') },
        { name: 'z2.dcm', bytes: image('1.2.3.901.1.2', '1.2.3.901.1', '1.2.3.901') },
        { name: 'z3.dcm', bytes: image('1.2.3.901.2.1', '1.2.3.901.2', '1.2.3.901') },
      ],
      'audit-upload-many',
    );
    expect(brief(await ofRequest('audit-upload-many'))).toEqual(ids.map((id) => `UPLOAD:${id}`).sort());
    const body = await gql(`query ($id: ID!) { dicomFile(id: $id) { study { zipUrl } } }`, { id: ids[0] }, 'audit-zipurl');
    const res = await fetchWithId(body.data.dicomFile.study.zipUrl, 'audit-zip-1');
    expect(res.status).toBe(200);
    expect(brief(await ofRequest('audit-zip-1'))).toEqual(ids.map((id) => `DOWNLOAD:${id}`).sort());
    zipIds = ids;
  });

  it('bulk data served records DOWNLOAD (the dicomJson that names it is a READ)', async () => {
    const id = zipIds[1]!;
    const body = await gql(`query ($id: ID!) { dicomFile(id: $id) { dicomJson } }`, { id }, 'audit-json-1');
    expect(brief(await ofRequest('audit-json-1'))).toEqual([`READ:${id}`]);
    const uri: string = body.data.dicomFile.dicomJson['7FE00010'].BulkDataURI;
    const res = await fetchWithId(uri, 'audit-bulk-1');
    expect(res.status).toBe(200);
    expect(brief(await ofRequest('audit-bulk-1'))).toEqual([`DOWNLOAD:${id}`]);
  });

  it('deleteStudy records a DELETE for every file it removed', async () => {
    const body = await gql(`query ($id: ID!) { dicomFile(id: $id) { study { id } } }`, { id: zipIds[0] }, 'audit-study-id');
    const del = await gql(`mutation ($id: ID!) { deleteStudy(id: $id) { ... on DeleteResult { deletedIds } } }`, { id: body.data.dicomFile.study.id }, 'audit-delete-study');
    expect([...del.data.deleteStudy.deletedIds].sort()).toEqual([...zipIds].sort());
    expect(brief(await ofRequest('audit-delete-study'))).toEqual(zipIds.map((id) => `DELETE:${id}`).sort());
  });

  it('failed requests (404s) record nothing', async () => {
    const before = (await events()).length;
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await fetchWithId(signUrl(server, `${server.url}/files/${missing}/download`), 'audit-404-1')).status).toBe(404);
    expect((await fetchWithId(signUrl(server, `${server.url}/files/${missing}/frames/1.png`), 'audit-404-2')).status).toBe(404);
    expect((await fetchWithId(signUrl(server, `${server.url}/studies/999999.zip`), 'audit-404-3')).status).toBe(404);
    const gone = Buffer.from(`DicomFile:${missing}`).toString('base64');
    const body = await gql(`query ($id: ID!) { dicomFile(id: $id) { attribute(tag: "PatientID") { value } } }`, { id: gone }, 'audit-404-4');
    expect(body.data.dicomFile).toBeNull();
    const del = await gql(`mutation ($id: ID!) { deleteDicomFile(id: $id) { __typename } }`, { id: gone }, 'audit-404-5');
    expect(del.data.deleteDicomFile.__typename).toBe('NotFoundError');
    expect((await events()).length).toBe(before);
  });

  it('deleteDicomFile records DELETE after the commit', async () => {
    const body = await gql(`mutation ($id: ID!) { deleteDicomFile(id: $id) { __typename ... on DeleteResult { deletedIds } } }`, { id: fileId }, 'audit-delete-1');
    expect(body.data.deleteDicomFile.deletedIds).toEqual([fileId]);
    expect(await ofRequest('audit-delete-1')).toEqual([
      { at: expect.any(String), userName: 'local', action: 'DELETE', fileId, requestId: 'audit-delete-1', tokenId: null },
    ]);
    // The trail of a deleted file stays queryable by its id.
    expect((await events({ fileId })).map((e) => e.action)).toEqual(['DELETE', 'DOWNLOAD', 'DOWNLOAD', 'RENDER', 'RENDER', 'READ', 'UPLOAD', 'UPLOAD']);
  });
});

describe('auditEvents', () => {
  it('filters by user name, action, file and time range', async () => {
    const all = await events();
    expect(all.length).toBeGreaterThan(10);
    // Newest first.
    const times = all.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(await events({ userName: 'local' })).toEqual(all);
    expect(await events({ userName: 'nobody' })).toEqual([]);
    const downloads = await events({ action: 'DOWNLOAD' });
    expect(downloads.length).toBe(6); // 2 downloads, 3 ZIP entries, bulk data
    expect(downloads.every((e) => e.action === 'DOWNLOAD')).toBe(true);
    expect(downloads).toEqual(all.filter((e) => e.action === 'DOWNLOAD'));
    const target = all.find((e) => e.requestId === 'audit-zip-1')!;
    expect(await events({ fileId: target.fileId, action: 'UPLOAD' })).toEqual(all.filter((e) => e.fileId === target.fileId && e.action === 'UPLOAD'));
    // Half-open range: since ≤ at < until.
    const pivot = all[Math.floor(all.length / 2)]!.at;
    const since = await events({ since: pivot });
    const until = await events({ until: pivot });
    expect(since.length + until.length).toBe(all.length);
    expect(since.every((e) => Date.parse(e.at) >= Date.parse(pivot))).toBe(true);
    expect(until.every((e) => Date.parse(e.at) < Date.parse(pivot))).toBe(true);
  });

  it('pages with cursors to the same list, and rejects a bad cursor and a non-file id', async () => {
    const all = await events();
    const seen: AuditEvent[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const body: { body: { data?: any } } = await server.gql(EVENTS, { first: 3, after });
      const conn: { totalCount: number; edges: { node: AuditEvent }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = body.body.data.auditEvents;
      expect(conn.totalCount).toBe(all.length);
      seen.push(...conn.edges.map((e) => e.node));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
    const bad = await server.gql(EVENTS, { first: 3, after: 'bm90IGEgY3Vyc29y' });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('INVALID_CURSOR');
    const notFile = await server.gql(EVENTS, { filter: { fileId: Buffer.from('Study:1').toString('base64') } });
    expect(notFile.body.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');
  });
});

describe('shutdown', () => {
  it('close() writes the events still in memory before the database closes', async () => {
    // A flush interval far longer than the test: only close() can have written the event.
    const other = await startTestServer({}, undefined, { auditFlushIntervalMs: 600_000 });
    const res = await other.upload({ name: 'x.dcm', bytes: image('1.2.3.902.1.1', '1.2.3.902.1', '1.2.3.902') }, UPLOAD_MUTATION, {
      'apollo-require-preflight': 'true',
      'x-request-id': 'audit-shutdown',
    });
    const id = Buffer.from(res.body.data.uploadDicom.file.id, 'base64').toString('utf8').replace(/^DicomFile:/, '');
    await other.stop({ keepData: true });
    const db = new Database(join(other.dataDir, 'dicomql.sqlite'), { readonly: true });
    try {
      expect(db.prepare('SELECT user_name, action, file_id, request_id FROM audit_events').all()).toEqual([
        { user_name: 'local', action: 'UPLOAD', file_id: id, request_id: 'audit-shutdown' },
      ]);
    } finally {
      db.close();
      rmSync(other.dataDir, { recursive: true, force: true });
    }
  });
});
