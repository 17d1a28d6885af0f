/**
 * Cross-user isolation over real HTTP, in token mode with two real users (tokens made as
 * `npm run token -- create` makes them): every query, route and mutation Bob can aim at Alice's
 * files answers exactly as for ids that never existed (null, NotFoundError, 404 — never 403),
 * no count includes her rows, her events never reach him, and the same bytes from both give two
 * records over one blob.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticImage } from '../helpers/fixtures.js';
import { subscribe } from '../helpers/event-stream.js';
import { startTestServer, type TestServer, UPLOAD_MUTATION } from '../helpers/server.js';
import { signUrl } from '../helpers/signed-url.js';
import { bearer, createUserToken, gqlWith, type UserToken } from '../helpers/tokens.js';

const PREFLIGHT = { 'apollo-require-preflight': 'true' };

const FILE_FIELDS = `id sha256 pngUrl downloadUrl dicomJson
  patient { id } study { id zipUrl } series { id zipUrl }`;

/** Every kind of global id the API hands out, for ids that never existed. */
const NEVER = {
  file: Buffer.from('DicomFile:00000000-0000-4000-8000-000000000000').toString('base64'),
  patient: Buffer.from('Patient:999999').toString('base64'),
  study: Buffer.from('Study:999999').toString('base64'),
  series: Buffer.from('Series:999999').toString('base64'),
};

interface StoredFile {
  id: string;
  sha256: string;
  pngUrl: string;
  downloadUrl: string;
  dicomJson: Record<string, { vr: string; BulkDataURI?: string }>;
  patient: { id: string };
  study: { id: string; zipUrl: string };
  series: { id: string; zipUrl: string };
}

let dataDir: string;
let server: TestServer;
let alice: UserToken;
let bob: UserToken;
let admin: UserToken;

const as = (user: UserToken, query: string, variables?: Record<string, unknown>) => gqlWith(server.url, bearer(user.token), query, variables);

async function upload(user: UserToken, bytes: Buffer, name: string): Promise<{ duplicate: boolean; id: string; sha256: string }> {
  const res = await server.upload({ name, bytes }, UPLOAD_MUTATION, { ...PREFLIGHT, ...bearer(user.token) });
  expect(res.status).toBe(200);
  expect(res.body.data.uploadDicom.__typename).toBe('UploadDicomSuccess');
  const { duplicate, file } = res.body.data.uploadDicom;
  return { duplicate, id: file.id, sha256: file.sha256 };
}

async function stored(user: UserToken, id: string): Promise<StoredFile> {
  const res = await as(user, `query ($id: ID!) { dicomFile(id: $id) { ${FILE_FIELDS} } }`, { id });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.dicomFile;
}

/** Status and body text of a GET without headers (as an <img> or a download link). */
async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text() };
}

const localIdOf = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;

// Alice's own study and a file both users upload byte for byte.
const aliceOnly = syntheticImage({ sopInstanceUid: '1.2.826.0.1.3680043.10.1.1', patientName: 'ALICE^PRIVATE' });
const shared = syntheticImage({ sopInstanceUid: '1.2.826.0.1.3680043.10.1.2', patientName: 'SHARED^CASE', rows: 4, columns: 4 });
let aliceFile: StoredFile;
let aliceShared: { duplicate: boolean; id: string; sha256: string };
let bobShared: { duplicate: boolean; id: string; sha256: string };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'dicomql-isolation-'));
  alice = createUserToken(dataDir, 'alice');
  bob = createUserToken(dataDir, 'bob');
  admin = createUserToken(dataDir, 'ops', { admin: true });
  server = await startTestServer({ AUTH: 'token' }, dataDir);
  const mine = await upload(alice, aliceOnly, 'alice.dcm');
  aliceFile = await stored(alice, mine.id);
  aliceShared = await upload(alice, shared, 'shared.dcm');
  bobShared = await upload(bob, shared, 'shared.dcm');
});
afterAll(async () => {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the same bytes from two users', () => {
  it('are two records (neither a duplicate) over one blob', () => {
    expect(aliceShared.duplicate).toBe(false);
    expect(bobShared.duplicate).toBe(false);
    expect(bobShared.id).not.toBe(aliceShared.id);
    expect(bobShared.sha256).toBe(aliceShared.sha256);
    const blobs: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else blobs.push(entry.name);
      }
    };
    walk(join(dataDir, 'blobs'));
    expect(blobs.sort()).toEqual([aliceFile.sha256, aliceShared.sha256].sort());
  });
});

describe('queries: Alice’s rows do not exist for Bob', () => {
  it('dicomFile, node and nodes answer null for her file, patient, study and series', async () => {
    const ids = [aliceFile.id, aliceFile.patient.id, aliceFile.study.id, aliceFile.series.id];
    const never = [NEVER.file, NEVER.patient, NEVER.study, NEVER.series];
    const q = `query ($ids: [ID!]!, $file: ID!) { dicomFile(id: $file) { id } node(id: $file) { id } nodes(ids: $ids) { id } }`;
    const hers = await as(bob, q, { ids, file: aliceFile.id });
    const missing = await as(bob, q, { ids: never, file: NEVER.file });
    expect(hers.body).toEqual({ data: { dicomFile: null, node: null, nodes: [null, null, null, null] } });
    expect(hers.body).toEqual(missing.body);
    // Alice sees them all.
    const own = await as(alice, q, { ids, file: aliceFile.id });
    expect(own.body.data.nodes.map((n: { id: string } | null) => n?.id)).toEqual(ids);
  });

  it('listings, filters and counts hold Bob’s rows only', async () => {
    const q = `query {
      patients { totalCount edges { node { patientName } } }
      studies { totalCount } series { totalCount }
      dicomFiles { totalCount edges { node { id } } }
      byName: patients(filter: { patientName: "ALICE*" }) { totalCount }
      byUid: dicomFiles(filter: { sopInstanceUid: "1.2.826.0.1.3680043.10.1.1" }) { totalCount }
    }`;
    const b = (await as(bob, q)).body.data;
    expect(b.patients).toEqual({ totalCount: 1, edges: [{ node: { patientName: 'SHARED^CASE' } }] });
    expect([b.studies.totalCount, b.series.totalCount, b.dicomFiles.totalCount]).toEqual([1, 1, 1]);
    expect(b.dicomFiles.edges).toEqual([{ node: { id: bobShared.id } }]);
    expect([b.byName.totalCount, b.byUid.totalCount]).toEqual([0, 0]);
    // Alice's two files carry the fixture's one PatientID: one patient (with two names), two files.
    const a = (await as(alice, q)).body.data;
    expect([a.patients.totalCount, a.dicomFiles.totalCount, a.byName.totalCount, a.byUid.totalCount]).toEqual([1, 2, 1, 1]);
  });

  it('a cursor from Alice’s listing pages through Bob’s rows only', async () => {
    const page = await as(alice, `{ dicomFiles(first: 1) { pageInfo { endCursor } } }`);
    const cursor = page.body.data.dicomFiles.pageInfo.endCursor;
    const res = await as(bob, `query ($after: String) { dicomFiles(first: 10, after: $after) { edges { node { id } } } }`, { after: cursor });
    for (const edge of res.body.data?.dicomFiles.edges ?? []) expect(edge.node.id).toBe(bobShared.id);
  });
});

describe('mutations: Bob cannot touch Alice’s rows', () => {
  it('the four deletes answer NotFoundError exactly as for ids that never existed, and delete nothing', async () => {
    const cases: [string, string, string][] = [
      ['deleteDicomFile', aliceFile.id, NEVER.file],
      ['deleteSeries', aliceFile.series.id, NEVER.series],
      ['deleteStudy', aliceFile.study.id, NEVER.study],
      ['deletePatient', aliceFile.patient.id, NEVER.patient],
    ];
    for (const [mutation, hers, never] of cases) {
      const q = `mutation ($id: ID!) { ${mutation}(id: $id) { __typename ... on Error { code message } } }`;
      const a = await as(bob, q, { id: hers });
      const b = await as(bob, q, { id: never });
      expect(a.body.data[mutation].__typename, mutation).toBe('NotFoundError');
      expect(JSON.stringify(a.body).replaceAll(hers, 'ID')).toBe(JSON.stringify(b.body).replaceAll(never, 'ID'));
    }
    expect((await stored(alice, aliceFile.id)).id).toBe(aliceFile.id);
  });

  it('revoking Alice’s token answers NotFoundError, and her token keeps working', async () => {
    const q = `mutation ($id: ID!) { revokeApiToken(id: $id) { __typename } }`;
    expect((await as(bob, q, { id: alice.tokenId })).body.data.revokeApiToken.__typename).toBe('NotFoundError');
    expect((await as(bob, q, { id: 'neverExisted0000' })).body.data.revokeApiToken.__typename).toBe('NotFoundError');
    expect((await as(alice, `{ viewer { name } }`)).body.data.viewer.name).toBe('alice');
    const listed = (await as(bob, `{ apiTokens { id } }`)).body.data.apiTokens.map((t: { id: string }) => t.id);
    expect(listed).toEqual([bob.tokenId]);
  });

  it('the audit trail is for admins: FORBIDDEN for Bob, Alice’s upload visible to the admin', async () => {
    const q = `{ auditEvents(first: 50) { edges { node { userName action fileId } } } }`;
    const denied = await as(bob, q);
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(denied.body.data ?? null).toBeNull();
    const events = (await as(admin, q)).body.data.auditEvents.edges.map((e: { node: unknown }) => e.node);
    expect(events).toContainEqual({ userName: 'alice', action: 'UPLOAD', fileId: aliceFile.id });
    expect(events).toContainEqual({ userName: 'bob', action: 'UPLOAD', fileId: bobShared.id });
  });
});

describe('routes: signed URLs open their owner’s files only', () => {
  it('Alice’s image, download, bulk data and ZIP URLs work without headers', async () => {
    const bulk = Object.values(aliceFile.dicomJson).find((e) => e.BulkDataURI)?.BulkDataURI;
    expect(bulk).toBeDefined();
    for (const url of [aliceFile.pngUrl, aliceFile.downloadUrl, aliceFile.study.zipUrl, aliceFile.series.zipUrl, bulk!]) {
      expect((await get(url)).status, url).toBe(200);
    }
  });

  it('a URL validly signed for Bob but naming Alice’s file answers 404, like a file that never existed', async () => {
    const asBob = { userId: bob.userId, tokenId: bob.tokenId };
    const fileId = localIdOf(aliceFile.id);
    const paths = (id: string) => [`/files/${id}/frames/1.png`, `/files/${id}/download`, `/files/${id}/bulkdata/7FE00010`];
    const missing = paths('00000000-0000-4000-8000-000000000000');
    for (const [k, path] of paths(fileId).entries()) {
      const hers = await get(signUrl(server, path, asBob));
      const never = await get(signUrl(server, missing[k]!, asBob));
      expect(hers.status, path).toBe(404);
      expect(hers.text.replaceAll(fileId, 'ID')).toBe(never.text.replaceAll('00000000-0000-4000-8000-000000000000', 'ID'));
    }
    for (const path of [`/studies/${localIdOf(aliceFile.study.id)}.zip`, `/series/${localIdOf(aliceFile.series.id)}.zip`]) {
      expect((await get(signUrl(server, path, asBob))).status, path).toBe(404);
    }
  });

  it('Alice’s URL re-pointed at Bob (u, k) or at another token is refused (403): the signature covers them', async () => {
    for (const [name, value] of [
      ['u', String(bob.userId)],
      ['k', bob.tokenId],
    ] as const) {
      const url = new URL(aliceFile.downloadUrl);
      url.searchParams.set(name, value);
      const res = await get(url.href);
      expect(res.status, name).toBe(403);
      expect(JSON.parse(res.text).error.code).toBe('INVALID_SIGNATURE');
    }
  });

  it('a URL signed in local mode (no token) opens nothing in token mode', async () => {
    const res = await get(signUrl(server, new URL(aliceFile.downloadUrl).pathname, { userId: alice.userId, tokenId: null }));
    expect(res.status).toBe(403);
  });
});

describe('subscriptions and deletes', () => {
  it('Bob’s stream carries his own uploads and deletes only', async () => {
    const added = await subscribe(server, `subscription { dicomFileAdded { id } }`, {}, bearer(bob.token));
    const deleted = await subscribe(server, `subscription { dicomFileDeleted { id } }`, {}, bearer(bob.token));
    try {
      // Alice's upload and delete come first; if they leaked, they would be the first events.
      const hers = await upload(alice, syntheticImage({ sopInstanceUid: '1.2.826.0.1.3680043.10.1.3' }), 'alice2.dcm');
      const del = await as(alice, `mutation ($id: ID!) { deleteDicomFile(id: $id) { __typename } }`, { id: hers.id });
      expect(del.body.data.deleteDicomFile.__typename).toBe('DeleteResult');
      const his = await upload(bob, syntheticImage({ sopInstanceUid: '1.2.826.0.1.3680043.10.1.4' }), 'bob2.dcm');
      const [first] = await added.take(1);
      expect(first.data.dicomFileAdded.id).toBe(his.id);
      await as(bob, `mutation ($id: ID!) { deleteDicomFile(id: $id) { __typename } }`, { id: his.id });
      const [gone] = await deleted.take(1);
      expect(gone.data.dicomFileDeleted.id).toBe(his.id);
    } finally {
      added.close();
      deleted.close();
    }
  });

  it('Alice deleting her copy of the shared bytes leaves Bob’s copy readable (the blob stays)', async () => {
    const del = await as(alice, `mutation ($id: ID!) { deleteDicomFile(id: $id) { __typename } }`, { id: aliceShared.id });
    expect(del.body.data.deleteDicomFile.__typename).toBe('DeleteResult');
    const his = await stored(bob, bobShared.id);
    const res = await fetch(his.downloadUrl);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(shared)).toBe(true);
  });
});
