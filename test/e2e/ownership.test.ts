/**
 * Ownership over real HTTP, before authentication exists: the server acts as the local user
 * (owner 1); another user's data (owner 2) is written beside it through the storage layer — the
 * same bytes, so one shared blob. Every route and GraphQL field answers for owner 2's ids exactly
 * as for ids that never existed (404 / null / NotFoundError), and nothing of owner 2 is counted.
 */
import { existsSync } from 'node:fs';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository } from '../../src/storage/dicom-files.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import type { DicomFileRow } from '../../src/storage/schema.js';
import { syntheticImage } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUrl } from '../helpers/signed-url.js';

let server: TestServer;
let mine: { id: string; pngUrl: string; downloadUrl: string; series: { id: string; zipUrl: string }; study: { id: string; zipUrl: string } };
let theirs: DicomFileRow;
const localId = (gid: string) => Buffer.from(gid, 'base64').toString('utf8').split(':')[1]!;

beforeAll(async () => {
  server = await startTestServer();
  const bytes = syntheticImage({ sopInstanceUid: '1.2.3.777.1', patientName: 'MINE^ONLY' });
  const uploaded = await server.upload({ name: 'mine.dcm', bytes });
  const id = uploaded.body.data.uploadDicom.file.id as string;
  const res = await server.gql(
    `query ($id: ID!) { dicomFile(id: $id) { id pngUrl downloadUrl series { id zipUrl } study { id zipUrl } } }`,
    { id },
  );
  mine = res.body.data.dicomFile;
  // Owner 2 stores the same bytes (through storage: there is no way to authenticate as them yet).
  const database = openDatabase(server.dataDir);
  try {
    database.db.$client.prepare("INSERT INTO users (id, name, created_at) VALUES (2, 'other', 0)").run();
    const root = new DicomFileRepository(database.db);
    const row = root.forOwner(1).findById(localId(id))!;
    const { id: _id, ownerRef: _owner, patientRef: _p, studyRef: _s, seriesRef: _r, isCurrent: _c, ...copy } = row;
    theirs = root.forOwner(2).insertOrGetExisting({ ...copy, id: 'other-user-file', uploadedAt: new Date() }).file;
    expect(theirs).toMatchObject({ ownerRef: 2, sha256: row.sha256 });
  } finally {
    database.close();
  }
});
afterAll(() => server.stop());

/** Status and JSON body of a GET. */
async function get(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url.startsWith('http') ? url : `${server.url}${url}`);
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text.length };
}

describe('routes: another user’s file is a missing file', () => {
  it('download, PNG, bulk data and ZIP answer 404 as for an id that never existed', async () => {
    expect((await get(mine.downloadUrl)).status).toBe(200);
    expect((await get(mine.pngUrl)).status).toBe(200);
    const myId = localId(mine.id);
    // Signed as the API would sign them for the caller: the route, not the signature, must refuse.
    const swap = (url: string, id: string) => signUrl(server, url.replace(myId, id));
    for (const url of [mine.downloadUrl, mine.pngUrl, `${server.url}/files/${myId}/bulkdata/7FE00010`]) {
      const foreign = await get(swap(url, theirs.id));
      const missing = await get(swap(url, 'never-existed'));
      expect(foreign.status, url).toBe(404);
      expect(missing.status).toBe(404);
      expect(JSON.stringify(foreign.body).replace(theirs.id, 'ID')).toBe(JSON.stringify(missing.body).replace('never-existed', 'ID'));
    }
    expect((await get(signUrl(server, `/series/${theirs.seriesRef}.zip`))).status).toBe(404);
    expect((await get(signUrl(server, `/studies/${theirs.studyRef}.zip`))).status).toBe(404);
    expect((await get(mine.series.zipUrl)).status).toBe(200);
  });
});

describe('GraphQL: another user’s nodes are null, their rows uncounted, their deletes not found', () => {
  it('node, nodes, dicomFile and the catalog roots see the caller’s rows only', async () => {
    const ids = {
      file: encodeGlobalID('DicomFile', theirs.id),
      series: encodeGlobalID('Series', String(theirs.seriesRef)),
      study: encodeGlobalID('Study', String(theirs.studyRef)),
      patient: encodeGlobalID('Patient', String(theirs.patientRef)),
    };
    const res = await server.gql(
      `query ($file: ID!, $series: ID!, $study: ID!, $patient: ID!) {
        dicomFile(id: $file) { id }
        f: node(id: $file) { id } s: node(id: $series) { id } t: node(id: $study) { id } p: node(id: $patient) { id }
        nodes(ids: [$file, $series, $study, $patient]) { id }
        dicomFiles(filter: { includeAllVersions: true }) { totalCount edges { node { id } } }
        bySop: dicomFiles(filter: { sopInstanceUid: "1.2.3.777.1", includeAllVersions: true }) { totalCount }
        patients { totalCount edges { node { id numberOfInstances } } }
        studies { totalCount } series { totalCount }
      }`,
      ids,
    );
    expect(res.body.errors).toBeUndefined();
    const d = res.body.data;
    expect([d.dicomFile, d.f, d.s, d.t, d.p]).toEqual([null, null, null, null, null]);
    expect(d.nodes).toEqual([null, null, null, null]);
    expect(d.dicomFiles).toEqual({ totalCount: 1, edges: [{ node: { id: mine.id } }] });
    expect(d.bySop.totalCount).toBe(1);
    expect(d.patients.totalCount).toBe(1);
    expect(d.patients.edges[0].node.numberOfInstances).toBe(1);
    expect([d.studies.totalCount, d.series.totalCount]).toEqual([1, 1]);
  });

  it('deletes of another user’s ids are NotFoundError like unknown ids, and their blob stays', async () => {
    const del = async (field: string, id: string) =>
      (await server.gql(`mutation ($id: ID!) { ${field}(id: $id) { __typename ... on Error { code } } }`, { id })).body.data[field];
    for (const [field, typename, foreign, unknown] of [
      ['deleteDicomFile', 'DicomFile', theirs.id, 'never-existed'],
      ['deleteSeries', 'Series', String(theirs.seriesRef), '999999'],
      ['deleteStudy', 'Study', String(theirs.studyRef), '999999'],
      ['deletePatient', 'Patient', String(theirs.patientRef), '999999'],
    ] as const) {
      const a = await del(field, encodeGlobalID(typename, foreign));
      expect(a).toEqual(await del(field, encodeGlobalID(typename, unknown)));
      expect(a.__typename).toBe('NotFoundError');
    }
    // Deleting my copy keeps the blob: owner 2's row still names it.
    const mineGone = await server.gql(`mutation ($id: ID!) { deletePatient(id: $id) { __typename ... on DeleteResult { deletedFiles } } }`, {
      id: (await server.gql(`{ patients { edges { node { id } } } }`)).body.data.patients.edges[0].node.id,
    });
    expect(mineGone.body.data.deletePatient).toEqual({ __typename: 'DeleteResult', deletedFiles: 1 });
    expect(existsSync(new LocalBlobStore(server.dataDir).blobPath(theirs.sha256))).toBe(true);
    const database = openDatabase(server.dataDir);
    try {
      const root = new DicomFileRepository(database.db);
      expect(root.forOwner(2).findById(theirs.id)).toMatchObject({ isCurrent: true });
      expect(root.forOwner(2).catalog.patient(theirs.patientRef!)).toMatchObject({ instanceCount: 1 });
      expect(root.catalog.checkConsistency()).toEqual([]);
    } finally {
      database.close();
    }
    expect((await get(mine.downloadUrl)).status).toBe(404);
  });
});
