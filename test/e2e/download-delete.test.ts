/**
 * Downloads and deletes over real HTTP: downloadUrl gives the uploaded bytes (sha256) with the
 * original name in Content-Disposition, ETag, ranges; series and study ZIPs are streamed with
 * sanitized entry names; deletes keep the catalog consistent, remove blobs only once nothing
 * references them, and every route and cache forgets deleted files.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { syntheticImage } from '../helpers/fixtures.js';
import { sha256, uploadFiles } from '../helpers/multipart.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUrl } from '../helpers/signed-url.js';

const STUDY = '1.2.3.600';

function blobNames(dataDir: string): string[] {
  const walk = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [d.name])) : [];
  return walk(join(dataDir, 'blobs'));
}

/** A CT-like image of a series of a study. */
function instance(o: { sop: string; series: string; seriesNumber?: number; seriesDescription?: string; instanceNumber?: number; study?: string; patientId?: string }) {
  return syntheticImage({
    sopInstanceUid: o.sop,
    extra: [
      { tag: '0020000D', vr: 'UI', value: o.study ?? STUDY },
      { tag: '0020000E', vr: 'UI', value: o.series },
      ...(o.seriesNumber !== undefined ? [{ tag: '00200011', vr: 'IS', value: String(o.seriesNumber) }] : []),
      ...(o.seriesDescription !== undefined ? [{ tag: '0008103E', vr: 'LO', value: o.seriesDescription }] : []),
      ...(o.instanceNumber !== undefined ? [{ tag: '00200013', vr: 'IS', value: String(o.instanceNumber) }] : []),
    ],
    ...(o.patientId ? {} : {}),
  });
}

/** The entries of a ZIP (name → bytes), read with yauzl. */
async function unzip(bytes: Buffer): Promise<Map<string, Buffer>> {
  const zip = await yauzl.fromBufferPromise(bytes, { decodeStrings: true });
  const out = new Map<string, Buffer>();
  for await (const entry of zip.eachEntry()) {
    const stream = await zip.openReadStreamPromise(entry);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    out.set(entry.fileName, Buffer.concat(chunks));
  }
  zip.close();
  return out;
}

const FILE_FIELDS = 'id sha256 filename downloadUrl pngUrl';

describe('downloads', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('downloadUrl serves the uploaded bytes with the original name, ETag and ranges', async () => {
    const bytes = instance({ sop: '1.2.3.601.1', series: '1.2.3.601' });
    const name = "O'Brien Résumé (1%).dcm";
    const res = await uploadFiles(server, [{ name: `folder/${name}`, bytes }]);
    const file = res.body.data.uploadDicoms[0].file;
    const q = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { ${FILE_FIELDS} } }`, { id: file.id });
    const { downloadUrl } = q.body.data.dicomFile;
    expect(downloadUrl).toMatch(new RegExp(`^${server.url}/files/[0-9a-f-]{36}/download\\?u=1&exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));

    const got = await fetch(downloadUrl);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/dicom');
    expect(got.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect(got.headers.get('cache-control')).toBe('private, no-cache');
    const disposition = got.headers.get('content-disposition')!;
    expect(disposition).toMatch(/^attachment; filename="[\x20-\x7e]+"; filename\*=UTF-8''/);
    expect(disposition).not.toContain('folder');
    const star = /filename\*=UTF-8''(.+)$/.exec(disposition)![1]!;
    expect(decodeURIComponent(star)).toBe(name);
    expect(/filename="([^"]*)"/.exec(disposition)![1]).toBe("O'Brien Resume (1_).dcm");
    const body = Buffer.from(await got.arrayBuffer());
    expect(sha256(body)).toBe(sha256(bytes));

    const notModified = await fetch(downloadUrl, { headers: { 'if-none-match': `"${sha256(bytes)}"` } });
    expect(notModified.status).toBe(304);

    const part = await fetch(downloadUrl, { headers: { range: 'bytes=128-131' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 128-131/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).toString('latin1')).toBe('DICM');
    const tail = await fetch(downloadUrl, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(Buffer.from(bytes.subarray(bytes.length - 10)));
    const stale = await fetch(downloadUrl, { headers: { range: 'bytes=0-3', 'if-range': '"other"' } });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
    const outside = await fetch(downloadUrl, { headers: { range: `bytes=${bytes.length}-` } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    await outside.arrayBuffer();
    const head = await fetch(downloadUrl, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
  });

  it('answers 404 JSON for unknown ids on every download route', async () => {
    for (const path of ['/files/00000000-0000-0000-0000-000000000000/download', '/files/nope/bulkdata/7FE00010', '/series/999999.zip', '/studies/999999.zip']) {
      const res = await fetch(signUrl(server, path));
      expect(res.status, path).toBe(404);
      expect((await res.json()).error.code, path).toBe('NOT_FOUND');
    }
  });
});

const Q_FILE = `query ($id: ID!) { dicomFile(id: $id) { id sha256 isCurrentVersion pngUrl downloadUrl dicomJson
  series { id zipUrl numberOfInstances } study { id zipUrl numberOfSeries numberOfInstances } patient { id numberOfStudies numberOfInstances } } }`;

describe('series and study ZIPs, and deletes', () => {
  let server: TestServer;
  let consistency: () => string[];
  let closeDb: () => void;
  const uploaded = new Map<string, { id: string; bytes: Buffer }>();

  const upload = async (key: string, bytes: Buffer, name = `${key}.dcm`) => {
    const res = await uploadFiles(server, [{ name, bytes }]);
    expect(res.body.data.uploadDicoms[0].__typename, JSON.stringify(res.body)).toBe('UploadDicomSuccess');
    uploaded.set(key, { id: res.body.data.uploadDicoms[0].file.id, bytes });
  };
  const file = async (key: string) => (await server.gql(Q_FILE, { id: uploaded.get(key)!.id })).body.data.dicomFile;
  const del = async (field: string, id: string) =>
    (
      await server.gql(
        `mutation ($id: ID!) { r: ${field}(id: $id) { __typename ... on DeleteResult { deletedFiles deletedIds deletedSeriesIds deletedStudyIds deletedPatientIds } ... on Error { code message } } }`,
        { id },
      )
    ).body.data.r;

  beforeAll(async () => {
    server = await startTestServer();
    const { openDatabase } = await import('../../src/storage/db.js');
    const { DicomFileRepository } = await import('../../src/storage/dicom-files.js');
    const db = openDatabase(server.dataDir);
    consistency = () => new DicomFileRepository(db.db).catalog.checkConsistency();
    closeDb = db.close;
    await upload('a1', instance({ sop: '1.2.3.602.1', series: '1.2.3.602', seriesNumber: 2, seriesDescription: 'AX T1/../x', instanceNumber: 1 }));
    await upload('a2', instance({ sop: '1.2.3.602.2', series: '1.2.3.602', seriesNumber: 2, seriesDescription: 'AX T1/../x', instanceNumber: 2 }));
    // a new version of a2: same SOP Instance UID, other bytes
    const v2 = syntheticImage({
      sopInstanceUid: '1.2.3.602.2',
      window: { center: 1, width: 2 },
      extra: [
        { tag: '0020000D', vr: 'UI', value: STUDY },
        { tag: '0020000E', vr: 'UI', value: '1.2.3.602' },
        { tag: '00200011', vr: 'IS', value: '2' },
        { tag: '0008103E', vr: 'LO', value: 'AX T1/../x' },
        { tag: '00200013', vr: 'IS', value: '2' },
      ],
    });
    await upload('a2v2', v2);
    await upload('b1', instance({ sop: '1.2.3.603.1', series: '1.2.3.603', seriesNumber: 3, seriesDescription: 'Cor', instanceNumber: 1 }));
    await upload('s2', instance({ sop: '1.2.3.604.1', series: '1.2.3.604', study: '1.2.3.699', seriesNumber: 1, instanceNumber: 1 }));
  });
  afterAll(async () => {
    closeDb();
    await server.stop();
  });

  it('streams a series ZIP of the current versions with sanitized entry names', async () => {
    const a1 = await file('a1');
    expect(a1.series.zipUrl).toMatch(new RegExp(`^${server.url}/series/\\d+\\.zip\\?u=1&exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    const res = await fetch(a1.series.zipUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="2_AX T1_\._x\.zip"/);
    const body = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
    const entries = await unzip(body);
    expect([...entries.keys()]).toEqual(['2_AX T1_._x/0001_1.2.3.602.1.dcm', '2_AX T1_._x/0002_1.2.3.602.2.dcm']);
    expect(sha256(entries.get('2_AX T1_._x/0001_1.2.3.602.1.dcm')!)).toBe(sha256(uploaded.get('a1')!.bytes));
    expect(sha256(entries.get('2_AX T1_._x/0002_1.2.3.602.2.dcm')!)).toBe(sha256(uploaded.get('a2v2')!.bytes)); // the current version
  });

  it('streams a study ZIP with one folder per series', async () => {
    const { study } = await file('b1');
    const res = await fetch(study.zipUrl);
    const body = Buffer.from(await res.arrayBuffer());
    const entries = await unzip(body);
    expect([...entries.keys()].sort()).toEqual(['2_AX T1_._x/0001_1.2.3.602.1.dcm', '2_AX T1_._x/0002_1.2.3.602.2.dcm', '3_Cor/0001_1.2.3.603.1.dcm']);
    expect(sha256(entries.get('3_Cor/0001_1.2.3.603.1.dcm')!)).toBe(sha256(uploaded.get('b1')!.bytes));
    const head = await fetch(study.zipUrl, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(body.length);
  });

  it('deleteDicomFile removes one version: the older one becomes current, its blob stays, every route forgets the deleted one', async () => {
    const v2 = await file('a2v2');
    const bulk = v2.dicomJson['7FE00010'].BulkDataURI as string;
    // Rendered and cached; every route has looked the file up (its facts are in memory now).
    const etags = new Map<string, string>();
    for (const url of [v2.pngUrl, v2.downloadUrl, bulk]) {
      const r = await fetch(url);
      expect(r.status, url).toBe(200);
      await r.arrayBuffer();
      etags.set(url, r.headers.get('etag')!);
      const again = await fetch(url, { headers: { 'if-none-match': r.headers.get('etag')! } });
      expect(again.status, url).toBe(304);
    }
    const cachedBefore = server.app.renderStats().cache.entries;
    const blobsBefore = blobNames(server.dataDir);
    expect(blobsBefore).toHaveLength(5);

    const result = await del('deleteDicomFile', v2.id);
    expect(result).toEqual({ __typename: 'DeleteResult', deletedFiles: 1, deletedIds: [v2.id], deletedSeriesIds: [], deletedStudyIds: [], deletedPatientIds: [] });
    expect(consistency()).toEqual([]);
    expect(blobNames(server.dataDir).sort()).toEqual(blobsBefore.filter((b) => b !== v2.sha256).sort());
    expect(server.app.renderStats().cache.entries).toBe(cachedBefore - 1);

    expect((await server.gql(Q_FILE, { id: v2.id })).body.data.dicomFile).toBeNull();
    for (const url of [v2.pngUrl, v2.downloadUrl, bulk]) {
      const r = await fetch(url);
      expect(r.status, url).toBe(404);
      await r.arrayBuffer();
      // A browser revalidating its copy is told the file is gone, not 304.
      const revalidated = await fetch(url, { headers: { 'if-none-match': etags.get(url)! } });
      expect(revalidated.status, url).toBe(404);
      await revalidated.arrayBuffer();
    }
    const a2 = await file('a2');
    expect(a2.isCurrentVersion).toBe(true);
    expect(a2.series.numberOfInstances).toBe(2);
    expect(sha256(Buffer.from(await (await fetch(a2.downloadUrl)).arrayBuffer()))).toBe(sha256(uploaded.get('a2')!.bytes));

    expect(await del('deleteDicomFile', v2.id)).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('deleteSeries, deleteStudy and deletePatient keep the catalog consistent and remove the blobs', async () => {
    const b1 = await file('b1');
    const a1 = await file('a1');
    const s2 = await file('s2');
    expect(await del('deleteSeries', a1.id)).toMatchObject({ __typename: 'NotFoundError' }); // a DicomFile id is not a Series id
    expect(await del('deleteSeries', 'garbage')).toMatchObject({ __typename: 'NotFoundError' });

    expect(await del('deleteSeries', b1.series.id)).toEqual({
      __typename: 'DeleteResult',
      deletedFiles: 1,
      deletedIds: [b1.id],
      deletedSeriesIds: [b1.series.id],
      deletedStudyIds: [],
      deletedPatientIds: [],
    });
    expect(consistency()).toEqual([]);
    expect((await file('a1')).study).toMatchObject({ numberOfSeries: 1, numberOfInstances: 2 });
    expect((await fetch(b1.series.zipUrl)).status).toBe(404);

    const study = await del('deleteStudy', a1.study.id);
    expect(study).toMatchObject({ deletedFiles: 2, deletedStudyIds: [a1.study.id], deletedPatientIds: [] });
    expect(study.deletedIds.sort()).toEqual([a1.id, uploaded.get('a2')!.id].sort());
    expect(consistency()).toEqual([]);
    expect((await file('s2')).patient).toMatchObject({ numberOfStudies: 1, numberOfInstances: 1 });
    expect(blobNames(server.dataDir)).toEqual([s2.sha256]);

    const patient = await del('deletePatient', s2.patient.id);
    expect(patient).toMatchObject({ deletedFiles: 1, deletedIds: [s2.id], deletedStudyIds: [s2.study.id], deletedSeriesIds: [s2.series.id], deletedPatientIds: [s2.patient.id] });
    expect(consistency()).toEqual([]);
    expect(blobNames(server.dataDir)).toEqual([]);
    const left = await server.gql('{ patients { totalCount } studies { totalCount } series { totalCount } dicomFiles { totalCount } }');
    expect(left.body.data).toEqual({ patients: { totalCount: 0 }, studies: { totalCount: 0 }, series: { totalCount: 0 }, dicomFiles: { totalCount: 0 } });

    // the same bytes can be stored again afterwards
    const again = await uploadFiles(server, [{ name: 'again.dcm', bytes: uploaded.get('s2')!.bytes }]);
    expect(again.body.data.uploadDicoms[0]).toMatchObject({ __typename: 'UploadDicomSuccess', duplicate: false });
    expect(blobNames(server.dataDir)).toEqual([s2.sha256]);
    expect(consistency()).toEqual([]);
  });
});
