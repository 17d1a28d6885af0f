/**
 * The catalog over real HTTP with synthetic files: hierarchy and counts, every filter, the
 * pagination edges (to the end and back, empty pages, bad cursors), the version policy, and
 * Relay node lookups of patients, studies and series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatalogFileOptions, catalogFile } from '../helpers/catalog-files.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SR = '1.2.840.10008.5.1.4.1.1.88.22';

let server: TestServer;
const ids = new Map<string, string>();

async function upload(name: string, o: CatalogFileOptions): Promise<string> {
  const res = await server.upload({ name, bytes: catalogFile(o) });
  const result = res.body.data?.uploadDicom;
  expect(result?.__typename, JSON.stringify(res.body)).toBe('UploadDicomSuccess');
  expect(result.duplicate).toBe(false);
  ids.set(name, result.file.id);
  return result.file.id as string;
}

async function ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await server.gql<T>(query, variables);
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data as T;
}

async function errorCode(query: string, variables?: Record<string, unknown>): Promise<string | undefined> {
  const res = await server.gql(query, variables);
  expect(res.body.errors?.length, JSON.stringify(res.body)).toBeGreaterThan(0);
  expect(res.body.errors![0]!.message).not.toBe('Unexpected error.');
  return res.body.errors![0]!.extensions?.code;
}

let beforeLastUpload = '';

beforeAll(async () => {
  server = await startTestServer();
  const a1 = { patientId: 'PAT-A', patientName: 'Smith^Anna', birthDate: '19700102', sex: 'F', studyUid: '1.1', studyDate: '20230115', studyTime: '101500', accessionNumber: 'ACC-1', studyDescription: 'CT CHEST' };
  for (let i = 1; i <= 3; i++) await upload(`a-ct-${i}`, { ...a1, seriesUid: '1.1.1', seriesNumber: 1, modality: 'CT', sopUid: `1.1.1.${i}`, instanceNumber: i, contentDate: '20230115' });
  await upload('a-pr', { ...a1, seriesUid: '1.1.2', seriesNumber: 2, modality: 'PR', sopUid: '1.1.2.1', sopClassUid: '1.2.840.10008.5.1.4.1.1.11.1' });
  const a2 = { patientId: 'PAT-A', patientName: 'SMITH^ANNA^^MRS', studyUid: '1.2', studyDate: '20240301', accessionNumber: 'ACC-2', seriesUid: '1.2.1', modality: 'MR' };
  await upload('a-mr-1', { ...a2, sopUid: '1.2.1.1', instanceNumber: 1, revision: 'v1' });
  await upload('a-mr-2', { ...a2, sopUid: '1.2.1.2', instanceNumber: 2 });
  const b = { patientId: 'PAT-B', issuer: 'HOSP', patientName: 'Jones^Bob', studyUid: '2.1', studyDate: '20220610', accessionNumber: 'ACC-3' };
  await upload('b-ct-1', { ...b, seriesUid: '2.1.1', seriesNumber: 1, modality: 'CT', sopUid: '2.1.1.1', instanceNumber: 1 });
  await upload('b-ct-2', { ...b, seriesUid: '2.1.1', seriesNumber: 1, modality: 'CT', sopUid: '2.1.1.2', instanceNumber: 2 });
  await upload('b-sr', { ...b, seriesUid: '2.1.2', seriesNumber: 2, modality: 'SR', sopUid: '2.1.2.1', sopClassUid: SR });
  await upload('anon', { patientId: null, patientName: 'Anon', studyUid: '3.1', seriesUid: '3.1.1', modality: 'OT', sopUid: '3.1.1.1' });
  await new Promise((r) => setTimeout(r, 5));
  beforeLastUpload = new Date().toISOString();
  await upload('a-mr-1-v2', { ...a2, sopUid: '1.2.1.1', instanceNumber: 1, revision: 'v2' });
});
afterAll(() => server.stop());

describe('hierarchy', () => {
  it('groups patients → studies → series → instances with consistent counts', async () => {
    const data = await ok(`{
      patients(orderBy: { field: PATIENT_ID, direction: ASC }) {
        totalCount
        edges { node {
          patientId issuerOfPatientId isUnknown patientName otherPatientNames hasConflictingNames birthDate birthDateIso sex
          numberOfStudies numberOfInstances
          studies { totalCount edges { node {
            studyInstanceUid studyDate studyDateIso studyTime accessionNumber studyDescription modalitiesInStudy numberOfSeries numberOfInstances
            series { totalCount edges { node {
              seriesInstanceUid modality seriesNumber numberOfInstances
              instances { totalCount edges { node { sopInstanceUid instanceNumber isCurrentVersion } } }
            } } }
          } } }
        } }
      } }`);
    const patients = data.patients.edges.map((e: any) => e.node);
    expect(data.patients.totalCount).toBe(3);
    expect(patients.map((p: any) => [p.patientId, p.issuerOfPatientId, p.isUnknown, p.numberOfStudies, p.numberOfInstances])).toEqual([
      [null, null, true, 1, 1],
      ['PAT-A', null, false, 2, 6],
      ['PAT-B', 'HOSP', false, 1, 3],
    ]);
    const a = patients[1];
    expect(a).toMatchObject({
      patientName: 'SMITH^ANNA^^MRS',
      otherPatientNames: ['Smith^Anna'],
      hasConflictingNames: true,
      birthDate: '19700102',
      birthDateIso: '1970-01-02',
      sex: 'F',
    });
    expect(patients[2]).toMatchObject({ hasConflictingNames: false, otherPatientNames: [] });
    const [mr, ct] = a.studies.edges.map((e: any) => e.node);
    expect(a.studies.totalCount).toBe(2);
    expect(mr).toMatchObject({ studyInstanceUid: '1.2', studyDate: '20240301', studyDateIso: '2024-03-01', modalitiesInStudy: ['MR'], numberOfSeries: 1, numberOfInstances: 2 });
    expect(ct).toMatchObject({
      studyInstanceUid: '1.1',
      studyTime: '101500',
      accessionNumber: 'ACC-1',
      studyDescription: 'CT CHEST',
      modalitiesInStudy: ['CT', 'PR'],
      numberOfSeries: 2,
      numberOfInstances: 4,
    });
    const series = ct.series.edges.map((e: any) => e.node);
    expect(series.map((s: any) => [s.seriesInstanceUid, s.modality, s.seriesNumber, s.numberOfInstances, s.instances.totalCount])).toEqual([
      ['1.1.1', 'CT', 1, 3, 3],
      ['1.1.2', 'PR', 2, 1, 1],
    ]);
    expect(series[0].instances.edges.map((e: any) => e.node.instanceNumber)).toEqual([1, 2, 3]);
    // Counts agree with the listed rows at every level.
    for (const p of patients) {
      const studies = p.studies.edges.map((e: any) => e.node);
      expect(p.numberOfInstances).toBe(studies.reduce((n: number, s: any) => n + s.numberOfInstances, 0));
      for (const s of studies) {
        expect(s.numberOfSeries).toBe(s.series.edges.length);
        expect(s.numberOfInstances).toBe(s.series.edges.reduce((n: number, e: any) => n + e.node.instances.edges.length, 0));
      }
    }
  });

  it('links a file to its series, study and patient, and resolves them by node id', async () => {
    const data = await ok(`query ($id: ID!) { dicomFile(id: $id) {
      instanceNumber contentDate contentDateIso
      series { id seriesInstanceUid study { id studyInstanceUid patient { id patientId } } patient { patientId } }
      study { studyInstanceUid } patient { patientName }
    } }`, { id: ids.get('a-ct-2') });
    const f = data.dicomFile;
    expect(f).toMatchObject({ instanceNumber: 2, contentDate: '20230115', contentDateIso: '2023-01-15', study: { studyInstanceUid: '1.1' }, patient: { patientName: 'SMITH^ANNA^^MRS' } });
    expect(f.series.patient.patientId).toBe('PAT-A');
    const nodes = await ok(`query ($p: ID!, $s: ID!, $r: ID!) {
      p: node(id: $p) { __typename ... on Patient { patientId } }
      s: node(id: $s) { __typename ... on Study { studyInstanceUid } }
      r: node(id: $r) { __typename ... on Series { seriesInstanceUid } }
      missing: node(id: "U3R1ZHk6OTk5OQ==") { id }
      garbage: node(id: "U3R1ZHk6YWJj") { id }
    }`, { p: f.series.study.patient.id, s: f.series.study.id, r: f.series.id });
    expect(nodes).toEqual({
      p: { __typename: 'Patient', patientId: 'PAT-A' },
      s: { __typename: 'Study', studyInstanceUid: '1.1' },
      r: { __typename: 'Series', seriesInstanceUid: '1.1.1' },
      missing: null,
      garbage: null,
    });
  });
});

describe('filters', () => {
  const studyUids = async (filter: Record<string, unknown>) => {
    const data = await ok('query ($f: StudyFilter) { studies(filter: $f) { totalCount edges { node { studyInstanceUid } } } }', { f: filter });
    const uids = data.studies.edges.map((e: any) => e.node.studyInstanceUid);
    expect(data.studies.totalCount).toBe(uids.length);
    return uids;
  };

  it('filters studies by each attribute (default order: study date, newest first)', async () => {
    expect(await studyUids({})).toEqual(['1.2', '1.1', '2.1', '3.1']);
    expect(await studyUids({ patientId: 'PAT-A' })).toEqual(['1.2', '1.1']);
    expect(await studyUids({ patientId: 'PAT-B', issuerOfPatientId: 'HOSP' })).toEqual(['2.1']);
    expect(await studyUids({ patientId: 'PAT-B', issuerOfPatientId: 'OTHER' })).toEqual([]);
    expect(await studyUids({ patientName: 'smith*' })).toEqual(['1.2', '1.1']);
    expect(await studyUids({ patientName: 'SMITH^ANNA' })).toEqual(['1.2', '1.1']); // any name the patient had
    expect(await studyUids({ patientName: '*^b?b' })).toEqual(['2.1']);
    expect(await studyUids({ patientName: 'J?nes*' })).toEqual(['2.1']);
    expect(await studyUids({ patientName: 'Jone' })).toEqual([]);
    expect(await studyUids({ patientName: '[*' })).toEqual([]);
    expect(await studyUids({ modality: 'PR' })).toEqual(['1.1']);
    expect(await studyUids({ modality: 'CT' })).toEqual(['1.1', '2.1']);
    expect(await studyUids({ studyDate: { from: '20230101' } })).toEqual(['1.2', '1.1']);
    expect(await studyUids({ studyDate: { from: '2022-06-10', to: '2023-01-15' } })).toEqual(['1.1', '2.1']);
    expect(await studyUids({ studyDate: { to: '20221231' } })).toEqual(['2.1']);
    expect(await studyUids({ modality: 'CT', studyDate: { from: '20230101', to: '20231231' } })).toEqual(['1.1']);
    expect(await studyUids({ accessionNumber: 'ACC-3' })).toEqual(['2.1']);
    expect(await studyUids({ studyInstanceUid: '1.1' })).toEqual(['1.1']);
    expect(await studyUids({ studyInstanceUid: '9.9' })).toEqual([]);
    expect(await studyUids({ uploadedAt: { from: beforeLastUpload } })).toEqual(['1.2']);
    expect(await studyUids({ uploadedAt: { to: beforeLastUpload } })).toEqual(['1.1', '2.1', '3.1']);
  });

  it('rejects malformed dates with INVALID_ARGUMENT', async () => {
    for (const from of ['2023-13-01', '20230230', '2023/01/01', 'yesterday']) {
      expect(await errorCode('query ($f: StudyFilter) { studies(filter: $f) { totalCount } }', { f: { studyDate: { from } } })).toBe('INVALID_ARGUMENT');
    }
  });

  it('filters series and files', async () => {
    const series = await ok(`{
      ct: series(filter: { modality: "CT" }, orderBy: { field: SERIES_NUMBER, direction: ASC }) { totalCount edges { node { seriesInstanceUid } } }
      one: series(filter: { seriesInstanceUid: "2.1.2" }) { totalCount edges { node { modality study { accessionNumber } } } }
      ofPatient: series(filter: { patientName: "jones*" }) { totalCount }
    }`);
    expect(series.ct.totalCount).toBe(2);
    expect(series.one.edges[0].node).toEqual({ modality: 'SR', study: { accessionNumber: 'ACC-3' } });
    expect(series.ofPatient.totalCount).toBe(2);

    const files = await ok(`query ($since: DateTime) {
      all: dicomFiles { totalCount }
      withVersions: dicomFiles(filter: { includeAllVersions: true }) { totalCount }
      sr: dicomFiles(filter: { sopClassUid: "${SR}" }) { totalCount edges { node { sopInstanceUid } } }
      pr: dicomFiles(filter: { modality: "PR" }) { totalCount }
      jones: dicomFiles(filter: { patientName: "JONES^*" }) { totalCount edges { node { sopInstanceUid } } }
      acc: dicomFiles(filter: { accessionNumber: "ACC-1" }, orderBy: { field: INSTANCE_NUMBER, direction: DESC }) { totalCount edges { node { instanceNumber } } }
      study: dicomFiles(filter: { studyInstanceUid: "1.2", seriesInstanceUid: "1.2.1" }) { totalCount }
      dated: dicomFiles(filter: { studyDate: { from: "20240101" } }) { totalCount }
      recent: dicomFiles(filter: { uploadedAt: { from: $since } }) { totalCount edges { node { sopInstanceUid isCurrentVersion } } }
      sop: dicomFiles(filter: { sopInstanceUid: "1.2.1.1", includeAllVersions: true }) { totalCount }
      none: dicomFiles(filter: { patientId: "nobody" }) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
    }`, { since: beforeLastUpload });
    expect(files.all.totalCount).toBe(10);
    expect(files.withVersions.totalCount).toBe(11);
    expect(files.sr.edges.map((e: any) => e.node.sopInstanceUid)).toEqual(['2.1.2.1']);
    expect(files.pr.totalCount).toBe(1);
    expect(files.jones.totalCount).toBe(3);
    expect(files.acc.edges.map((e: any) => e.node.instanceNumber)).toEqual([3, 2, 1, null]);
    expect(files.study.totalCount).toBe(2);
    expect(files.dated.totalCount).toBe(2);
    expect(files.recent.edges).toEqual([{ node: { sopInstanceUid: '1.2.1.1', isCurrentVersion: true } }]);
    expect(files.sop.totalCount).toBe(2);
    expect(files.none).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null } });
  });
});

describe('pagination', () => {
  const PAGE = `query ($first: Int, $after: String, $last: Int, $before: String, $order: StudyOrder) {
    studies(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
      totalCount edges { cursor node { studyInstanceUid } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } }`;

  it('walks first/after to the end and last/before back to the start', async () => {
    const forward: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { studies }: { studies: any } = await ok(PAGE, { first: 1, after });
      pages++;
      expect(studies.totalCount).toBe(4);
      expect(studies.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(studies.pageInfo.startCursor).toBe(studies.edges[0].cursor);
      forward.push(...studies.edges.map((e: any) => e.node.studyInstanceUid));
      if (!studies.pageInfo.hasNextPage) break;
      after = studies.pageInfo.endCursor;
    }
    expect(pages).toBe(4);
    expect(forward).toEqual(['1.2', '1.1', '2.1', '3.1']);

    const end = await ok(PAGE, { first: 3, after: (await ok(PAGE, { first: 4 })).studies.pageInfo.endCursor });
    expect(end.studies.edges).toEqual([]);
    expect(end.studies.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const backward: string[] = [];
    let before: string | null = null;
    for (;;) {
      const { studies }: { studies: any } = await ok(PAGE, { last: 3, before });
      expect(studies.pageInfo.hasNextPage).toBe(before !== null);
      backward.unshift(...studies.edges.map((e: any) => e.node.studyInstanceUid));
      if (!studies.pageInfo.hasPreviousPage) break;
      before = studies.pageInfo.startCursor;
    }
    expect(backward).toEqual(forward);

    const asc = await ok(PAGE, { first: 10, order: { field: 'STUDY_DATE', direction: 'ASC' } });
    expect(asc.studies.edges.map((e: any) => e.node.studyInstanceUid)).toEqual(['3.1', '2.1', '1.1', '1.2']); // undated first ascending
  });

  it('pages nested connections', async () => {
    const { studies } = await ok('{ studies(filter: { studyInstanceUid: "1.1" }) { edges { node { series(first: 1) { edges { cursor node { seriesInstanceUid instances(first: 2) { edges { node { instanceNumber } } pageInfo { hasNextPage endCursor } } } } pageInfo { hasNextPage endCursor } } } } } }');
    const study = studies.edges[0].node;
    expect(study.series.pageInfo.hasNextPage).toBe(true);
    const first = study.series.edges[0].node;
    expect(first.instances.edges.map((e: any) => e.node.instanceNumber)).toEqual([1, 2]);
    const next = await ok('query ($s: StudyFilter, $a: String, $i: String) { studies(filter: $s) { edges { node { series(first: 1, after: $a) { edges { node { seriesInstanceUid } } pageInfo { hasNextPage } } } } } ser: series(filter: { seriesInstanceUid: "1.1.1" }) { edges { node { instances(after: $i) { edges { node { instanceNumber } } pageInfo { hasNextPage hasPreviousPage } } } } } }', {
      s: { studyInstanceUid: '1.1' },
      a: study.series.pageInfo.endCursor,
      i: first.instances.pageInfo.endCursor,
    });
    expect(next.studies.edges[0].node.series).toEqual({ edges: [{ node: { seriesInstanceUid: '1.1.2' } }], pageInfo: { hasNextPage: false } });
    expect(next.ser.edges[0].node.instances).toEqual({ edges: [{ node: { instanceNumber: 3 } }], pageInfo: { hasNextPage: false, hasPreviousPage: true } });
  });

  it('answers a bad cursor or page size with a clear error code', async () => {
    const { studies } = await ok(PAGE, { first: 1 });
    const cursor = studies.pageInfo.endCursor;
    expect(await errorCode(PAGE, { first: 1, after: 'garbage' })).toBe('INVALID_CURSOR');
    expect(await errorCode(PAGE, { last: 1, before: 'eyJ4IjoxfQ' })).toBe('INVALID_CURSOR');
    expect(await errorCode(PAGE, { first: 1, after: cursor, order: { field: 'LAST_UPLOADED_AT', direction: 'DESC' } })).toBe('INVALID_CURSOR');
    expect(await errorCode('query ($a: String) { patients(after: $a) { totalCount } }', { a: cursor })).toBe('INVALID_CURSOR');
    expect(await errorCode(PAGE, { first: 501 })).toBe('INVALID_ARGUMENT');
    expect(await errorCode(PAGE, { first: -1 })).toBe('INVALID_ARGUMENT');
    expect(await errorCode(PAGE, { first: 1, last: 1 })).toBe('INVALID_ARGUMENT');
    const res = await server.gql(PAGE, { first: 1, after: 'garbage' });
    expect(res.body.errors![0]!.message).toMatch(/Invalid cursor/);
    expect(res.body.errors![0]!.message).not.toMatch(/at .*\.ts/);
  });
});

describe('versions', () => {
  it('keeps both versions of an instance, the newest current', async () => {
    const v1 = ids.get('a-mr-1');
    const v2 = ids.get('a-mr-1-v2');
    const q = `query ($v1: ID!, $v2: ID!) {
      old: dicomFile(id: $v1) { id isCurrentVersion versions { id isCurrentVersion } }
      new: dicomFile(id: $v2) { id isCurrentVersion versions { id } series { numberOfInstances instances { edges { node { id } } } } }
      node(id: $v1) { ... on DicomFile { isCurrentVersion } }
    }`;
    const data = await ok(q, { v1, v2 });
    expect(data.old.isCurrentVersion).toBe(false);
    expect(data.new.isCurrentVersion).toBe(true);
    expect(data.node).toEqual({ isCurrentVersion: false });
    expect(data.old.versions).toEqual([
      { id: v2, isCurrentVersion: true },
      { id: v1, isCurrentVersion: false },
    ]);
    expect(data.new.versions.map((v: any) => v.id)).toEqual([v2, v1]);
    expect(data.new.series.numberOfInstances).toBe(2);
    const listed = data.new.series.instances.edges.map((e: any) => e.node.id);
    expect(listed).toContain(v2);
    expect(listed).not.toContain(v1);
  });

  it('answers a re-upload of identical bytes with the existing file', async () => {
    const res = await server.upload({ name: 'again', bytes: catalogFile({ patientId: 'PAT-B', issuer: 'HOSP', patientName: 'Jones^Bob', studyUid: '2.1', studyDate: '20220610', accessionNumber: 'ACC-3', seriesUid: '2.1.2', seriesNumber: 2, modality: 'SR', sopUid: '2.1.2.1', sopClassUid: SR }) });
    expect(res.body.data.uploadDicom).toMatchObject({ duplicate: true, file: { id: ids.get('b-sr') } });
    expect((await ok('{ dicomFiles { totalCount } }')).dicomFiles.totalCount).toBe(10);
  });
});
