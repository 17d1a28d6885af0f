/**
 * Catalog listing latency at scale: `npm run bench:catalog [-- instances]` (default 1,000,000).
 *
 * 1. Fills a fresh temp database (the real migrations) with synthetic instances in a few thousand
 *    studies: rows are generated with their catalog counters and bulk-inserted into the same
 *    tables (what ingest would have produced, minus the per-file transactions), 0.5 % of the
 *    instances with a replaced older version, 1 % of the patients with a second name, a few
 *    unknown patients. The maintained counters are then checked against the rows
 *    (CatalogMaintenance.checkConsistency).
 * 2. Runs typical listings through the real GraphQL schema in-process (graphql-js `execute`,
 *    resolvers → repository → SQLite), each many times with varying arguments, and prints
 *    p50/p95 per query, plus the SQLite query plan of every statement they ran.
 * 3. Writes the figures to .bench/catalog.json.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { getTableConfig, type SQLiteTable } from 'drizzle-orm/sqlite-core';
import { execute, parse } from 'graphql';
import type { Context } from '../src/graphql/context.js';
import { schema } from '../src/graphql/schema.js';
import { openDatabase } from '../src/storage/db.js';
import { DicomFileRepository } from '../src/storage/dicom-files.js';
import { LOCAL_PRINCIPAL } from '../src/auth/principal.js';
import { dicomFiles, LOCAL_USER_ID, patientNames, patients, series, studies } from '../src/storage/schema.js';
import { recordStatements } from '../test/helpers/sql-recorder.js';

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);

// ── deterministic pseudo-random data ─────────────────────────────────────────────────────────
let seed = 0x9e3779b9;
function rand(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x100000000;
}
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const SURNAMES = 'SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ LOPEZ GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ THOMPSON WHITE HARRIS SANCHEZ CLARK RAMIREZ LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL FLORES GREEN ADAMS NELSON BAKER HALL RIVERA CAMPBELL MITCHELL CARTER ROBERTS MULLER SCHMIDT SCHNEIDER FISCHER WEBER MEYER WAGNER BECKER SCHULZ HOFFMANN DUPONT DURAND LEROY MOREAU SIMON LAURENT LEFEBVRE MICHEL ROSSI RUSSO FERRARI ESPOSITO BIANCHI ROMANO COLOMBO RICCI MARINO GRECO'.split(' ');
const GIVEN = 'JAMES MARY ROBERT PATRICIA JOHN JENNIFER MICHAEL LINDA DAVID ELIZABETH WILLIAM BARBARA RICHARD SUSAN JOSEPH JESSICA THOMAS SARAH CHARLES KAREN ANNA PETER LUCAS EMMA NOAH MIA ELLA LEO HUGO CHLOE'.split(' ');
const STUDY_MODALITIES = [
  ['CT', 35],
  ['MR', 25],
  ['CR', 10],
  ['US', 10],
  ['PT', 5],
  ['DX', 5],
  ['NM', 4],
  ['XA', 3],
  ['MG', 3],
] as const;
const SOP_CLASS: Record<string, string> = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  CR: '1.2.840.10008.5.1.4.1.1.1',
  US: '1.2.840.10008.5.1.4.1.1.6.1',
  PT: '1.2.840.10008.5.1.4.1.1.128',
  DX: '1.2.840.10008.5.1.4.1.1.1.1',
  NM: '1.2.840.10008.5.1.4.1.1.20',
  XA: '1.2.840.10008.5.1.4.1.1.12.1',
  MG: '1.2.840.10008.5.1.4.1.1.1.2',
  PR: '1.2.840.10008.5.1.4.1.1.11.1',
  SR: '1.2.840.10008.5.1.4.1.1.88.22',
};
function studyModality(): string {
  let r = rand() * 100;
  for (const [m, w] of STUDY_MODALITIES) if ((r -= w) < 0) return m;
  return 'CT';
}

/** INSERT … VALUES (@key, …) over a drizzle table, keyed by its TypeScript column keys. */
function inserter(db: ReturnType<typeof openDatabase>['db'], table: SQLiteTable) {
  const config = getTableConfig(table);
  const keys = Object.entries(table as unknown as Record<string, { name?: string }>).filter(([, c]) => config.columns.includes(c as never));
  const sqlText = `INSERT INTO "${config.name}" (${keys.map(([, c]) => `"${c.name}"`).join(', ')}) VALUES (${keys.map(([k]) => `@${k}`).join(', ')})`;
  const stmt = db.$client.prepare(sqlText);
  return (row: Record<string, unknown>) => {
    const values: Record<string, unknown> = {};
    for (const [k] of keys) {
      const v = row[k];
      values[k] = v instanceof Date ? v.getTime() : typeof v === 'boolean' ? (v ? 1 : 0) : (v ?? null);
    }
    return stmt.run(values);
  };
}

// ── fill ─────────────────────────────────────────────────────────────────────────────────────
const dataDir = mkdtempSync(join(tmpdir(), 'dicomql-bench-catalog-'));
const database = openDatabase(dataDir);
const { db } = database;
db.$client.pragma('cache_size = -262144');
const repo = new DicomFileRepository(db);
/** Every row is the local user's (one owner's catalog of 10⁶ instances; listings seek by owner). */
const OWNER = LOCAL_USER_ID;
const owned = repo.forOwner(OWNER);

const insertPatient = inserter(db, patients);
const insertName = inserter(db, patientNames);
const insertStudy = inserter(db, studies);
const insertSeries = inserter(db, series);
const insertFile = inserter(db, dicomFiles);

const fillStart = performance.now();
let clock = Date.UTC(2024, 0, 1);
let instances = 0;
let rows = 0;
let patientCount = 0;
let studyCount = 0;
let seriesCount = 0;
const seriesIds: number[] = [];
const studyIds: number[] = [];
const root = '1.2.826.0.1.3680043.8.498';

db.$client.exec('BEGIN');
while (instances < TOTAL) {
  const pid = ++patientCount;
  const unknown = rand() < 0.005;
  const name = `${pick(SURNAMES)}^${pick(GIVEN)}`;
  const otherName = rand() < 0.01 ? `${pick(SURNAMES)}^${pick(GIVEN)}` : undefined;
  const patientIdText = unknown ? '' : `PID${String(pid).padStart(7, '0')}`;
  const birth = `${int(1930, 2020)}${String(int(1, 12)).padStart(2, '0')}${String(int(1, 28)).padStart(2, '0')}`;
  const sex = pick(['M', 'F', 'O']);
  const patient = { id: pid, ownerRef: OWNER, patientId: patientIdText, issuer: '', unknownScope: '', patientName: name, patientNameSort: name, birthDate: birth, sex, studyCount: 0, instanceCount: 0, firstUploadedAt: clock, lastUploadedAt: clock };
  const names = new Map<string, number>();
  const patientStudies: Record<string, unknown>[] = [];
  const patientSeries: Record<string, unknown>[] = [];
  const patientFiles: Record<string, unknown>[] = [];
  let newestName = name;
  const nStudies = unknown ? 1 : int(1, 3);
  for (let s = 0; s < nStudies && instances < TOTAL; s++) {
    const stId = ++studyCount;
    studyIds.push(stId);
    const studyUid = `${root}.${stId}`;
    if (unknown) patient.unknownScope = studyUid;
    const primary = studyModality();
    const date = `${int(2005, 2024)}${String(int(1, 12)).padStart(2, '0')}${String(int(1, 28)).padStart(2, '0')}`;
    const time = `${String(int(7, 19)).padStart(2, '0')}${String(int(0, 59)).padStart(2, '0')}${String(int(0, 59)).padStart(2, '0')}`;
    const accession = `ACC${String(stId).padStart(8, '0')}`;
    const description = `${primary} ${pick(['HEAD', 'CHEST', 'ABDOMEN', 'PELVIS', 'SPINE', 'KNEE', 'BRAIN'])}`;
    const study = {
      id: stId,
      ownerRef: OWNER,
      patientRef: pid,
      studyInstanceUid: studyUid,
      studyDate: date,
      studyTime: time,
      studyDescription: description,
      accessionNumber: accession,
      referringPhysicianName: `${pick(SURNAMES)}^${pick(GIVEN)}`,
      modalities: '',
      seriesCount: 0,
      instanceCount: 0,
      firstUploadedAt: clock,
      lastUploadedAt: clock,
    };
    const modalities = new Set<string>();
    const nSeries = int(2, 14);
    for (let k = 0; k < nSeries && instances < TOTAL; k++) {
      const seId = ++seriesCount;
      seriesIds.push(seId);
      const modality = k === nSeries - 1 && rand() < 0.3 ? pick(['PR', 'SR']) : primary;
      modalities.add(modality);
      const seriesUid = `${studyUid}.${k + 1}`;
      const se = {
        ownerRef: OWNER,
        id: seId,
        studyRef: stId,
        seriesInstanceUid: seriesUid,
        modality,
        seriesNumber: k + 1,
        seriesDescription: `${modality} series ${k + 1}`,
        bodyPartExamined: description.split(' ')[1],
        instanceCount: 0,
        firstUploadedAt: clock,
        lastUploadedAt: clock,
      };
      const nInst = Math.min(TOTAL - instances, modality === 'PR' || modality === 'SR' ? int(1, 3) : int(1, 50));
      for (let i = 1; i <= nInst; i++) {
        const versions = rand() < 0.005 ? 2 : 1;
        const sop = `${seriesUid}.${i}`;
        for (let v = 1; v <= versions; v++) {
          clock += int(1, 20);
          const fileName = otherName && rand() < 0.2 ? otherName : name;
          names.set(fileName, (names.get(fileName) ?? 0) + 1);
          newestName = fileName;
          patientFiles.push({
            ownerRef: OWNER,
            id: randomUUID(),
            sha256: `${sop}.v${v}`.padEnd(64, '0'),
            filename: `IM${i}.dcm`,
            byteSize: 500_000,
            uploadedAt: clock,
            transferSyntaxUid: '1.2.840.10008.1.2.1',
            sopClassUid: SOP_CLASS[modality],
            sopInstanceUid: sop,
            patientId: patientIdText || null,
            patientName: fileName,
            patientBirthDate: birth,
            patientSex: sex,
            studyInstanceUid: studyUid,
            studyDate: date,
            studyTime: time,
            studyDescription: description,
            accessionNumber: accession,
            referringPhysicianName: study.referringPhysicianName,
            seriesInstanceUid: seriesUid,
            modality,
            seriesNumber: k + 1,
            seriesDescription: se.seriesDescription,
            bodyPartExamined: se.bodyPartExamined,
            instanceNumber: i,
            contentDate: date,
            rows: 512,
            columns: 512,
            numberOfFrames: 1,
            hasPixelData: true,
            pixelDataVr: 'OW',
            pixelDataLength: 524288,
            pixelDataEncapsulated: false,
            headerEnd: 2000,
            patientRef: pid,
            studyRef: stId,
            seriesRef: seId,
            isCurrent: v === versions,
          });
          rows++;
        }
        instances++;
      }
      se.instanceCount = nInst;
      se.lastUploadedAt = clock;
      study.instanceCount += nInst;
      study.seriesCount++;
      patientSeries.push(se);
    }
    study.modalities = [...modalities].sort().join('\\');
    study.lastUploadedAt = clock;
    patient.studyCount++;
    patient.instanceCount += study.instanceCount;
    patientStudies.push(study);
  }
  // As ingest would have left it: the newest file's name, rows inserted parents first.
  patient.lastUploadedAt = clock;
  patient.patientName = newestName;
  patient.patientNameSort = newestName.toUpperCase();
  insertPatient(patient);
  for (const [n, c] of names) insertName({ patientRef: pid, name: n, nameFolded: n.toUpperCase(), fileCount: c });
  for (const st of patientStudies) insertStudy(st);
  for (const se of patientSeries) insertSeries(se);
  for (const f of patientFiles) insertFile(f);
  if (patientCount % 200 === 0) {
    db.$client.exec('COMMIT');
    db.$client.exec('BEGIN');
    process.stdout.write(`\rfilling: ${instances.toLocaleString('en')} instances`);
  }
}
db.$client.exec('COMMIT');
const fillMs = performance.now() - fillStart;
console.log(
  `\rfilled ${instances.toLocaleString('en')} instances (${rows.toLocaleString('en')} file rows) in ${studyCount} studies, ${seriesCount} series, ${patientCount} patients: ${(fillMs / 1000).toFixed(1)} s`,
);
const checkStart = performance.now();
const problems = repo.catalog.checkConsistency();
console.log(`consistency check: ${problems.length === 0 ? 'ok' : `${problems.length} problems, e.g. ${problems.slice(0, 3).join('; ')}`} (${((performance.now() - checkStart) / 1000).toFixed(1)} s)`);

// ── queries ──────────────────────────────────────────────────────────────────────────────────
/** Every SQL statement run while `fn` runs (for EXPLAIN QUERY PLAN). */
const seen = new Map<string, unknown[]>();
let recording = false;
const client = db.$client;
const stopRecording = recordStatements(client, (sql, args) => {
  if (recording && !seen.has(sql)) seen.set(sql, args);
});

const context = { files: owned, principal: LOCAL_PRINCIPAL, baseUrl: 'http://bench.invalid' } as unknown as Context;
async function run(query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
  const result = await execute({ schema, document: parse(query), variableValues: variables, contextValue: context });
  if (result.errors) throw new Error(`${result.errors[0]!.message}\n${query}`);
  return result.data as Record<string, any>;
}

const STUDY_FIELDS = 'id studyInstanceUid studyDate studyDescription accessionNumber modalitiesInStudy numberOfSeries numberOfInstances patient { id patientId patientName }';
const studyId = () => encodeGlobalID('Study', String(pick(studyIds)));
const seriesId = () => encodeGlobalID('Series', String(pick(seriesIds)));

// Cursor of page 499 (10 studies a page, by date desc) and of page 499 of dicomFiles (100 a page).
async function cursorAt(query: string, pages: number, path: (d: Record<string, any>) => any): Promise<string> {
  let after: string | null = null;
  for (let i = 0; i < pages; i++) after = path(await run(query, { after })).pageInfo.endCursor;
  return after!;
}
const studyPage499 = await cursorAt('query ($after: String) { studies(first: 10, after: $after) { pageInfo { endCursor } } }', 499, (d) => d.studies);
const filePage499 = await cursorAt('query ($after: String) { dicomFiles(first: 100, after: $after) { pageInfo { endCursor } } }', 499, (d) => d.dicomFiles);
const date = () => {
  const from = int(2005, 2023);
  return { from: `${from}0101`, to: `${from + 1}1231` };
};

interface Case {
  name: string;
  query: string;
  variables: () => Record<string, unknown>;
  check?: (d: Record<string, any>) => void;
}
const cases: Case[] = [
  { name: 'studies: first page by date desc (50)', query: `{ studies(first: 50) { edges { node { ${STUDY_FIELDS} } } pageInfo { hasNextPage endCursor } } }`, variables: () => ({}) },
  {
    name: 'studies: page 500 via cursor (10/page)',
    query: `query ($after: String) { studies(first: 10, after: $after) { edges { node { ${STUDY_FIELDS} } } pageInfo { hasNextPage hasPreviousPage } } }`,
    variables: () => ({ after: studyPage499 }),
    check: (d) => {
      if (!d.studies.pageInfo.hasPreviousPage) throw new Error('page 500 has no previous page');
    },
  },
  {
    name: 'studies: last page backwards (last 10)',
    query: `{ studies(last: 10) { edges { node { ${STUDY_FIELDS} } } pageInfo { hasPreviousPage } } }`,
    variables: () => ({}),
  },
  {
    name: 'studies: patientName "SMI*" (prefix)',
    query: `query ($n: String) { studies(first: 50, filter: { patientName: $n }) { totalCount edges { node { ${STUDY_FIELDS} } } } }`,
    variables: () => ({ n: `${pick(SURNAMES).slice(0, 3).toLowerCase()}*` }),
  },
  {
    name: 'studies: patientName "*SON^J*" (infix)',
    query: `query ($n: String) { studies(first: 50, filter: { patientName: $n }) { totalCount edges { node { ${STUDY_FIELDS} } } } }`,
    variables: () => ({ n: `*${pick(SURNAMES).slice(-3)}^${pick(GIVEN).slice(0, 1)}*` }),
  },
  {
    name: 'studies: modality + 2-year date range',
    query: `query ($m: String, $d: DateRange) { studies(first: 50, filter: { modality: $m, studyDate: $d }) { totalCount edges { node { ${STUDY_FIELDS} } } } }`,
    variables: () => ({ m: pick(['CT', 'MR', 'US', 'NM']), d: date() }),
  },
  {
    name: 'studies: accessionNumber',
    query: `query ($a: String) { studies(first: 10, filter: { accessionNumber: $a }) { edges { node { ${STUDY_FIELDS} } } } }`,
    variables: () => ({ a: `ACC${String(pick(studyIds)).padStart(8, '0')}` }),
  },
  { name: 'studies: totalCount (all)', query: '{ studies { totalCount } }', variables: () => ({}) },
  {
    name: 'patients: first page by name (50)',
    query: '{ patients(first: 50) { totalCount edges { node { id patientId patientName hasConflictingNames numberOfStudies numberOfInstances } } } }',
    variables: () => ({}),
  },
  {
    name: 'patients: patientId exact',
    query: 'query ($p: String) { patients(filter: { patientId: $p }) { edges { node { id patientName otherPatientNames studies(first: 10) { edges { node { id studyDate } } } } } } }',
    variables: () => ({ p: `PID${String(int(1, patientCount)).padStart(7, '0')}` }),
  },
  {
    name: 'series of a study (Study.series)',
    query: 'query ($id: ID!) { node(id: $id) { ... on Study { series(first: 100) { totalCount edges { node { id seriesNumber modality seriesDescription numberOfInstances } } } } } }',
    variables: () => ({ id: studyId() }),
  },
  {
    name: 'instances of a series (Series.instances, 100)',
    query:
      'query ($id: ID!) { node(id: $id) { ... on Series { instances(first: 100) { totalCount edges { node { id instanceNumber sopInstanceUid isCurrentVersion } } } } } }',
    variables: () => ({ id: seriesId() }),
  },
  {
    name: 'series: modality filter, newest first (50)',
    query: 'query ($m: String) { series(first: 50, filter: { modality: $m }) { edges { node { id modality numberOfInstances study { studyDate } } } } }',
    variables: () => ({ m: pick(['CT', 'MR', 'PR']) }),
  },
  {
    name: 'dicomFiles: first page, newest first (100)',
    query: '{ dicomFiles(first: 100) { edges { node { id sopInstanceUid uploadedAt } } pageInfo { hasNextPage } } }',
    variables: () => ({}),
  },
  {
    name: 'dicomFiles: page 500 via cursor (100/page)',
    query: 'query ($after: String) { dicomFiles(first: 100, after: $after) { edges { node { id sopInstanceUid uploadedAt } } } }',
    variables: () => ({ after: filePage499 }),
  },
  { name: 'dicomFiles: totalCount (all, 10⁶)', query: '{ dicomFiles { totalCount } }', variables: () => ({}) },
  {
    name: 'dicomFiles: studyInstanceUid + totalCount',
    query: 'query ($u: String) { dicomFiles(first: 100, filter: { studyInstanceUid: $u }) { totalCount edges { node { id } } } }',
    variables: () => ({ u: `${root}.${pick(studyIds)}` }),
  },
  {
    name: 'dicomFiles: sopClassUid (NM), first 100',
    query: 'query ($c: String) { dicomFiles(first: 100, filter: { sopClassUid: $c }) { edges { node { id } } } }',
    variables: () => ({ c: SOP_CLASS.NM }),
  },
  {
    name: 'dicomFiles: modality (MR) totalCount',
    query: 'query ($m: String) { dicomFiles(filter: { modality: $m }) { totalCount } }',
    variables: () => ({ m: 'MR' }),
  },
];

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const results: { name: string; p50: number; p95: number; max: number; iterations: number; plans: { sql: string; plan: string[] }[] }[] = [];
for (const c of cases) {
  for (let i = 0; i < 10; i++) await run(c.query, c.variables()); // warm up
  seen.clear();
  recording = true;
  const sample = await run(c.query, c.variables());
  c.check?.(sample);
  recording = false;
  const plans = [...seen].map(([source, args]) => ({
    sql: source,
    plan: (client.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...(args as never[])) as { detail: string }[]).map((r) => r.detail),
  }));
  const ms: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const variables = c.variables();
    const t = performance.now();
    await run(c.query, variables);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  results.push({ name: c.name, p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), max: ms.at(-1)!, iterations: ITERATIONS, plans });
}

// Deletes at scale (repository level, what the delete mutations run), then the counters again.
stopRecording();
const deleteMs: Record<'file' | 'series' | 'study', number[]> = { file: [], series: [], study: [] };
for (let i = 0; i < 50; i++) {
  const { id } = client.prepare('SELECT id FROM dicom_files LIMIT 1 OFFSET ?').get(int(0, rows - 1000)) as { id: string };
  const t = performance.now();
  owned.catalog.deleteFile(id);
  deleteMs.file.push(performance.now() - t);
}
for (const [kind, ids, del] of [
  ['series', seriesIds, (id: number) => owned.catalog.deleteSeries(id)],
  ['study', studyIds, (id: number) => owned.catalog.deleteStudy(id)],
] as const) {
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    del(pick(ids));
    deleteMs[kind].push(performance.now() - t);
  }
}
const afterDeletes = repo.catalog.checkConsistency();
const deletes = Object.fromEntries(
  Object.entries(deleteMs).map(([k, ms]) => {
    const sorted = [...ms].sort((a, b) => a - b);
    return [k, { p50: percentile(sorted, 0.5), max: sorted.at(-1)! }];
  }),
);

console.log(`\n${'query'.padEnd(48)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)}`);
for (const r of results) console.log(`${r.name.padEnd(48)} ${r.p50.toFixed(2).padStart(8)} ${r.p95.toFixed(2).padStart(8)} ${r.max.toFixed(2).padStart(8)}`);
for (const [k, v] of Object.entries(deletes)) console.log(`${`repository delete: one ${k} (p50, max)`.padEnd(48)} ${v.p50.toFixed(2).padStart(8)} ${v.max.toFixed(2).padStart(17)}`);
console.log(`consistency after deletes: ${afterDeletes.length === 0 ? 'ok' : afterDeletes.slice(0, 3).join('; ')}`);
const slow = results.filter((r) => r.p95 >= 50);
console.log(slow.length === 0 ? '\nevery p95 < 50 ms' : `\np95 ≥ 50 ms: ${slow.map((r) => r.name).join(', ')}`);

console.log('\nquery plans (EXPLAIN QUERY PLAN of every statement each query ran):');
for (const r of results) {
  console.log(`\n■ ${r.name}`);
  for (const p of r.plans) console.log(`  ${p.sql.replace(/\s+/g, ' ').slice(0, 160)}${p.sql.length > 160 ? '…' : ''}\n    ${p.plan.join('\n    ')}`);
}

mkdirSync('.bench', { recursive: true });
writeFileSync(
  '.bench/catalog.json',
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      instances,
      fileRows: rows,
      studies: studyCount,
      series: seriesCount,
      patients: patientCount,
      fillSeconds: fillMs / 1000,
      consistencyProblems: problems.length,
      deletes,
      consistencyProblemsAfterDeletes: afterDeletes.length,
      iterations: ITERATIONS,
      results,
    },
    null,
    2,
  )}\n`,
);
console.log('\nwritten .bench/catalog.json');
database.close();
rmSync(dataDir, { recursive: true, force: true });
