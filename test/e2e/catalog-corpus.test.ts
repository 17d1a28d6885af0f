/**
 * The catalog built from the shared corpus over real HTTP: every file uploaded in manifest order
 * to one server, then the hierarchy the API reports is compared with the one derived here from
 * the manifest's attributes under the documented policy (patient = PatientID, else an unknown
 * patient per study; study = patient + StudyInstanceUID; series = study + SeriesInstanceUID;
 * instance = series + SOPInstanceUID, newest upload current; identical bytes stored once).
 * The corpus has the cases the policy is for: the NEMA samples reuse one study, series and SOP
 * Instance UID across four patients, CT1 exists in nine encodings (versions of one instance),
 * files without PatientID or without any UID, and patients seen with other names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusOrSkip, type ManifestEntry } from '../helpers/corpus.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const corpus = corpusOrSkip('e2e catalog corpus');

function value(f: ManifestEntry, tag: string): string {
  const el = f.attributes[tag];
  const v = el?.Value?.[0];
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') {
    const pn = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
    return pn.Alphabetic || pn.Ideographic || pn.Phonetic || '';
  }
  return String(v).trim();
}

interface ExpectedSeries {
  instances: Set<string>;
  modality: string;
}
interface ExpectedStudy {
  patientKey: string;
  studyUid: string;
  series: Map<string, ExpectedSeries>;
}

/**
 * The hierarchy the policy gives for the manifest's files, uploaded in manifest order. The
 * manifest lists no Issuer of Patient ID, so `issuers` (by sha256) comes from the API's
 * attribute(tag:) of each stored file, which the corpus attribute suites check on 14 other tags.
 */
function expectedCatalog(files: readonly ManifestEntry[], issuers: ReadonlyMap<string, string>) {
  const seen = new Set<string>();
  const studies = new Map<string, ExpectedStudy>();
  const names = new Map<string, Set<string>>();
  let stored = 0;
  for (const f of files) {
    if (seen.has(f.sha256)) continue; // identical bytes: stored once
    seen.add(f.sha256);
    stored++;
    const pid = value(f, '00100020');
    const studyUid = value(f, '0020000D');
    const seriesUid = value(f, '0020000E');
    const sop = value(f, '00080018');
    const patientKey = pid ? `id:${pid}|${issuers.get(f.sha256) ?? ''}` : `unknown:${studyUid}`;
    const name = value(f, '00100010');
    if (name) names.set(patientKey, (names.get(patientKey) ?? new Set()).add(name));
    const studyKey = `${patientKey}|${studyUid}`;
    const study = studies.get(studyKey) ?? { patientKey, studyUid, series: new Map() };
    studies.set(studyKey, study);
    const series = study.series.get(seriesUid) ?? { instances: new Set<string>(), modality: '' };
    study.series.set(seriesUid, series);
    series.instances.add(sop ? `sop:${sop}` : `file:${f.sha256}`);
    series.modality = value(f, '00080060') || series.modality; // newest non-empty
  }
  return { studies, names, stored };
}

describe.skipIf(!corpus)('catalog of the corpus', () => {
  let server: TestServer;
  const files = corpus?.manifest.files ?? [];
  const issuers = new Map<string, string>();
  let expected: ReturnType<typeof expectedCatalog>;

  beforeAll(async () => {
    server = await startTestServer();
    for (const f of files) {
      const res = await server.upload({ name: f.path, bytes: corpus!.read(f.path) });
      const result = res.body.data?.uploadDicom;
      expect(result?.__typename, `${f.path}: ${JSON.stringify(res.body)}`).toBe('UploadDicomSuccess');
      const issuer = await server.gql('query ($id: ID!) { dicomFile(id: $id) { attribute(tag: "IssuerOfPatientID") { value } } }', { id: result.file.id });
      const v = issuer.body.data.dicomFile.attribute?.value?.[0];
      if (typeof v === 'string' && v.trim()) issuers.set(f.sha256, v.trim());
    }
    expected = expectedCatalog(files, issuers);
  });
  afterAll(() => server?.stop());

  it('has the studies, series and instance counts the manifest gives', async () => {
    const res = await server.gql(`{
      studies(first: 500) { totalCount edges { node {
        studyInstanceUid numberOfSeries numberOfInstances modalitiesInStudy
        patient { patientId isUnknown issuerOfPatientId }
        series(first: 500) { totalCount edges { node { seriesInstanceUid modality numberOfInstances instances(first: 500) { totalCount edges { node { isCurrentVersion } } } } } }
      } } } }`);
    expect(res.body.errors).toBeUndefined();
    const studies = res.body.data.studies;
    expect(studies.totalCount).toBe(expected.studies.size);
    expect(studies.edges).toHaveLength(expected.studies.size);

    const actual = new Map<string, any>();
    for (const { node } of studies.edges) {
      const patientKey = node.patient.isUnknown ? `unknown:${node.studyInstanceUid ?? ''}` : `id:${node.patient.patientId}|${node.patient.issuerOfPatientId ?? ''}`;
      const key = `${patientKey}|${node.studyInstanceUid ?? ''}`;
      expect(actual.has(key), `study ${key} listed twice`).toBe(false);
      actual.set(key, node);
    }
    for (const [key, want] of expected.studies) {
      const got = actual.get(key);
      expect(got, `study ${key}`).toBeDefined();
      const instances = [...want.series.values()].reduce((n, s) => n + s.instances.size, 0);
      const modalities = [...new Set([...want.series.values()].map((s) => s.modality).filter(Boolean))].sort();
      expect([got.numberOfSeries, got.numberOfInstances, got.modalitiesInStudy], key).toEqual([want.series.size, instances, modalities]);
      expect(got.series.totalCount).toBe(want.series.size);
      for (const { node: s } of got.series.edges) {
        const ws = want.series.get(s.seriesInstanceUid ?? '');
        expect(ws, `${key} series ${s.seriesInstanceUid}`).toBeDefined();
        expect([s.numberOfInstances, s.instances.totalCount, s.instances.edges.length, s.modality ?? ''], `${key} series ${s.seriesInstanceUid}`).toEqual([
          ws!.instances.size,
          ws!.instances.size,
          ws!.instances.size,
          ws!.modality,
        ]);
        expect(s.instances.edges.every((e: any) => e.node.isCurrentVersion)).toBe(true);
      }
    }
  });

  it('keeps every stored file reachable, current versions counted once', async () => {
    const res = await server.gql(`{
      current: dicomFiles { totalCount }
      all: dicomFiles(filter: { includeAllVersions: true }) { totalCount }
      patients(first: 500) { totalCount edges { node { patientId issuerOfPatientId isUnknown studies { edges { node { studyInstanceUid } } } patientName otherPatientNames hasConflictingNames numberOfInstances } } }
    }`);
    expect(res.body.errors).toBeUndefined();
    const { current, all, patients } = res.body.data;
    const instances = [...expected.studies.values()].reduce((n, st) => n + [...st.series.values()].reduce((m, s) => m + s.instances.size, 0), 0);
    expect(current.totalCount).toBe(instances);
    expect(all.totalCount).toBe(expected.stored);
    expect(instances).toBeLessThan(expected.stored); // the corpus has versions

    const patientKeys = new Set([...expected.studies.values()].map((s) => s.patientKey));
    expect(patients.totalCount).toBe(patientKeys.size);
    for (const { node: p } of patients.edges) {
      const key = p.isUnknown ? `unknown:${p.studies.edges[0].node.studyInstanceUid ?? ''}` : `id:${p.patientId}|${p.issuerOfPatientId ?? ''}`;
      // Trailing '^' delimiters are not significant (PS3.5 6.2.1); the manifest has them removed.
      const names = new Set([...(expected.names.get(key) ?? [])].map((n) => n.replace(/[\s^]+$/, '')));
      expect(p.hasConflictingNames, key).toBe(names.size > 1);
      expect(new Set([p.patientName, ...p.otherPatientNames].filter((n) => n !== null)), key).toEqual(names);
    }
    expect(patients.edges.some((e: any) => e.node.isUnknown)).toBe(true);
  });

  it('makes the newest upload of CT1 current and keeps the others as versions', async () => {
    const sop = '1.3.6.1.4.1.5962.1.1.1.1.1.20040826185059.5457';
    const uploads = files.filter((f) => value(f, '00080018') === sop && value(f, '00100020') === '1CT1');
    const distinct = new Set(uploads.map((f) => f.sha256));
    expect(distinct.size).toBeGreaterThan(1);
    const res = await server.gql(`query ($sop: String) {
      dicomFiles(filter: { sopInstanceUid: $sop, patientId: "1CT1", includeAllVersions: true }, orderBy: { field: UPLOADED_AT, direction: DESC }) {
        totalCount edges { node { filename isCurrentVersion versions { filename } } }
      } }`, { sop });
    expect(res.body.errors).toBeUndefined();
    const list = res.body.data.dicomFiles.edges.map((e: any) => e.node);
    expect(res.body.data.dicomFiles.totalCount).toBe(distinct.size);
    expect(list.map((f: any) => f.isCurrentVersion)).toEqual([true, ...Array(distinct.size - 1).fill(false)]);
    // The newest stored version is the last upload whose bytes were new (a re-upload of stored bytes changes nothing).
    const firstUploads = uploads.filter((f, i) => uploads.findIndex((g) => g.sha256 === f.sha256) === i);
    const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);
    expect(list.map((f: any) => basename(f.filename))).toEqual(firstUploads.map((f) => basename(f.path)).reverse());
    expect(list[0].versions.map((v: any) => v.filename)).toEqual(list.map((f: any) => f.filename));
  });
});
