/**
 * The catalog: Patient → Study → Series → DicomFile (instance), indexed at upload time.
 *
 * ── Repository API (for src/graphql/* and the delete mutations) ───────────────────────────────
 *
 *   ctx.files.catalog            the CatalogRepository of ONE owner (the request's user):
 *                                DicomFileRepository.forOwner(userId).catalog
 *
 *   Ownership: every file has an owner (users.id), and so has every patient, study and series:
 *   each owner has a catalog tree of their own (a patient identity is (owner, PatientID, Issuer,
 *   …)). Every read, listing, count, cursor page and delete of a CatalogRepository is restricted
 *   to its owner's rows, in the same statement (`WHERE id = ? AND owner_ref = ?`): another
 *   owner's id behaves exactly like a missing one. Maintenance that spans owners (backfill,
 *   counters, consistency) is CatalogMaintenance, reached only from the root repository.
 *
 *   Placement: OwnerFileRepository.insertOrGetExisting(row) places every new file in its owner's
 *   catalog in the same transaction as its insert.
 *
 *   Reads (undefined: unknown id, or another owner's)
 *     file(id: string) / fileBySha256(sha256): DicomFileRow | undefined
 *     patient(id: number): PatientRow | undefined           Patient/Study/Series ids are integers;
 *     study(id: number): StudyRow | undefined               GraphQL global ids are "Patient:<n>",
 *     series(id: number): SeriesRow | undefined             "Study:<n>", "Series:<n>" (base64, Relay)
 *     patientOfStudy(studyId: number): PatientRow | undefined
 *     otherPatientNames(patient: PatientRow): string[]       every other distinct name seen
 *     patientNameCount(patientId: number): number
 *     versionsOf(file: DicomFileRow): DicomFileRow[]         every stored version, newest first
 *     currentFilesOfSeries(seriesId) / currentFilesOfStudy(studyId): DicomFileRow[]   (zip, dicomJson)
 *     listPatients / listStudies / listSeries / listFiles(filter, order, page): CatalogPage<Row>
 *        keyset pagination with opaque cursors; InvalidCursorError / InvalidArgumentError on bad input
 *
 *   Deletes: one transaction each; blobs are NOT touched. The caller removes
 *   `unreferencedBlobs` after the call returns (the transaction is committed by then) and
 *   publishes `deletedFiles` (e.g. dicomFileDeleted events). undefined: unknown id, nothing done.
 *     deleteFile(fileId: string): CatalogDeleteResult | undefined
 *        deleting the current version of an instance makes the newest remaining version current
 *     deleteSeries(seriesId: number): CatalogDeleteResult | undefined     every version of every file
 *     deleteStudy(studyId: number): CatalogDeleteResult | undefined
 *     deletePatient(patientId: number): CatalogDeleteResult | undefined
 *   Series, studies and patients left without files are removed in the same transaction; counts,
 *   modalities and "newest non-empty" attributes of the survivors are recomputed from the index.
 *
 *   Maintenance (CatalogMaintenance: DicomFileRepository.catalog, the root; all owners)
 *     backfillCatalog(files.catalog, blobs, onUnreadable?)  (catalog-backfill.ts) indexes rows
 *        stored before the catalog existed (an upgraded install): createApp calls it once after
 *        opening the database (awaited, or in the background: placement is order-independent).
 *        It uses uncataloguedFiles(limit) and placeExisting(id, attributes) (each file goes to
 *        its own owner's tree).
 *     checkConsistency(): string[]   derived vs maintained counters (tests); [] when consistent.
 *     repairCounters()                recomputes them all from the rows (startup check, repair.ts).
 *     transaction(fn)                 one BEGIN IMMEDIATE transaction (savepoint when nested).
 *
 * ── Identity and policies (README "Catalog") ──────────────────────────────────────────────────
 *
 * - Patient = (owner, PatientID, IssuerOfPatientID). Every distinct Patient's Name seen under
 *   it is kept (patient_names); `patientName` is the newest, `otherPatientNames` the rest,
 *   `hasConflictingNames` says there is more than one. Files without PatientID go to an
 *   "unknown patient" of their own per Study Instance UID (never merged with a known patient).
 * - Study = (patient, StudyInstanceUID); Series = (study, SeriesInstanceUID): the same UID under
 *   two patients gives two studies (as Orthanc keys instances by Patient/Study/Series/SOP UIDs).
 *   Files without the UID go to one study ('' UID) per patient, one series ('' UID) per study.
 * - Instance = (series, SOPInstanceUID). Identical bytes are stored once per owner (one row per
 *   (owner, sha256); the content-addressed blob is shared by all owners). Different bytes
 *   with the same SOPInstanceUID are versions: the newest upload is current; counts and
 *   `instances` list current versions; every version keeps its id. A file without
 *   SOPInstanceUID is an instance of its own.
 * - Attributes of a patient/study/series are the newest non-empty value among its stored files.
 * - Counters are changed only here, in the transaction that changes the rows: incremented on
 *   insert, recomputed from the indexes for whatever a delete touched.
 */
import type Database from 'better-sqlite3';
import { type AnyColumn, and, asc, count, desc, eq, getTableColumns, inArray, isNotNull, type SQL, sql } from 'drizzle-orm';
import { fileConditions, foldName, ownedBy, patientConditions, selectsWholeSeries, seriesConditions, studyConditions } from './catalog-filters.js';
import {
  type CatalogPage,
  FILE_ORDERINGS,
  type FileFilter,
  type FileOrder,
  keysetPage,
  PATIENT_ORDERINGS,
  type PageArgs,
  type PatientFilter,
  type PatientOrder,
  SERIES_ORDERINGS,
  type SeriesFilter,
  type SeriesOrder,
  STUDY_ORDERINGS,
  type StudyFilter,
  type StudyOrder,
} from './catalog-query.js';
import type { DataVersions } from './data-versions.js';
import { prepareInsert, prepareUpdateById } from './row-statements.js';
import type { Db } from './db.js';
import {
  type DicomFileRow,
  dicomFiles,
  type NewDicomFileRow,
  type PatientRow,
  patientNames,
  patients,
  type SeriesRow,
  series,
  type StudyRow,
  studies,
} from './schema.js';

export type { CatalogPage, FileFilter, FileOrder, PageArgs, PatientFilter, PatientOrder, SeriesFilter, SeriesOrder, StudyFilter, StudyOrder };

/** What a delete tells of each removed file (enough for dicomFileDeleted events). */
export interface DeletedFileRow {
  readonly id: string;
  /** The user the file belonged to (subscriptions deliver the event to that user only). */
  readonly ownerRef: number;
  readonly sha256: string;
  readonly filename: string;
  readonly sopInstanceUid: string | null;
  readonly seriesInstanceUid: string | null;
  readonly studyInstanceUid: string | null;
}

export interface CatalogDeleteResult {
  /** Every dicom_files row removed (all versions in scope). */
  readonly deletedFiles: readonly DeletedFileRow[];
  /** SHA-256 of blobs no row of ANY owner references any more: the caller removes them after the call. */
  readonly unreferencedBlobs: readonly string[];
  /** Catalog rows removed because nothing was left under them. */
  readonly deletedSeriesIds: readonly number[];
  readonly deletedStudyIds: readonly number[];
  readonly deletedPatientIds: readonly number[];
}

/** Where a new file goes, decided before its row is inserted. */
interface Placement {
  patientRef: number;
  studyRef: number;
  seriesRef: number;
}

/**
 * The per-request file lookup (every attribute query, image, download, bulk data request),
 * prepared once per database: building it with the query builder and re-preparing it per call
 * cost ≈ 20 % of an attribute query's CPU. Still `WHERE id = ? AND owner_ref = ?`.
 */
const prepareFileById = (db: Db) =>
  db
    .select()
    .from(dicomFiles)
    .where(and(eq(dicomFiles.id, sql.placeholder('id')), eq(dicomFiles.ownerRef, sql.placeholder('owner'))))
    .prepare();

function fileByIdStatement(db: Db): ReturnType<typeof prepareFileById> {
  let statement = fileByIdStatements.get(db);
  if (!statement) {
    statement = prepareFileById(db);
    fileByIdStatements.set(db, statement);
  }
  return statement;
}

const fileByIdStatements = new WeakMap<Db, ReturnType<typeof prepareFileById>>();

/** "" for absent, trimmed otherwise: the key form of a text identifier. */
function key(value: string | null | undefined): string {
  return value?.trim() ?? '';
}

const MODALITY_SEPARATOR = '\\';

/**
 * Every statement an upload runs (dedupe lookup, placement lookups, parent inserts and updates,
 * name and counter increments, version switch, the file insert), prepared once per connection:
 * building drizzle's SQL and SQLite's prepare per upload was ~80 % of an insert's CPU. The
 * lookups are drizzle prepared selects (their rows are mapped by drizzle); inserts and updates
 * are better-sqlite3 statements with drizzle's value mapping (row-statements.ts), so the rows
 * returned are the ones `.returning()` returned.
 */
function uploadStatements(db: Db) {
  const p = sql.placeholder;
  const sqlite = db.$client;
  return {
    fileBySha256: db
      .select()
      .from(dicomFiles)
      .where(and(eq(dicomFiles.ownerRef, p('owner')), eq(dicomFiles.sha256, p('sha256'))))
      .prepare(),
    patientByKey: db
      .select()
      .from(patients)
      .where(and(eq(patients.ownerRef, p('owner')), eq(patients.patientId, p('patientId')), eq(patients.issuer, p('issuer')), eq(patients.unknownScope, p('unknownScope'))))
      .prepare(),
    studyByKey: db
      .select()
      .from(studies)
      .where(and(eq(studies.patientRef, p('patientRef')), eq(studies.studyInstanceUid, p('uid'))))
      .prepare(),
    seriesByKey: db
      .select()
      .from(series)
      .where(and(eq(series.studyRef, p('studyRef')), eq(series.seriesInstanceUid, p('uid'))))
      .prepare(),
    /** dicom_files_series_sop_current_idx: a seek, whatever the size of the series. */
    currentVersion: db
      .select({ id: dicomFiles.id, uploadedAt: dicomFiles.uploadedAt })
      .from(dicomFiles)
      .where(and(eq(dicomFiles.seriesRef, p('seriesRef')), eq(dicomFiles.sopInstanceUid, p('sopUid')), eq(dicomFiles.isCurrent, true)))
      .prepare(),
    insertPatient: prepareInsert(sqlite, patients, [
      'ownerRef',
      'patientId',
      'issuer',
      'unknownScope',
      'patientName',
      'patientNameSort',
      'birthDate',
      'sex',
      'firstUploadedAt',
      'lastUploadedAt',
    ]),
    updatePatient: prepareUpdateById(sqlite, patients, ['patientName', 'patientNameSort', 'birthDate', 'sex', 'lastUploadedAt']),
    touchPatient: prepareUpdateById(sqlite, patients, ['lastUploadedAt']),
    countPatientName: sqlite.prepare<[number, string, string]>(
      'INSERT INTO patient_names (patient_ref, name, name_folded, file_count) VALUES (?, ?, ?, 1) ON CONFLICT (patient_ref, name) DO UPDATE SET file_count = file_count + 1',
    ),
    insertStudy: prepareInsert(sqlite, studies, [
      'ownerRef',
      'patientRef',
      'studyInstanceUid',
      'studyDate',
      'studyTime',
      'studyDescription',
      'accessionNumber',
      'referringPhysicianName',
      'firstUploadedAt',
      'lastUploadedAt',
    ]),
    updateStudy: prepareUpdateById(sqlite, studies, ['studyDate', 'studyTime', 'studyDescription', 'accessionNumber', 'referringPhysicianName', 'lastUploadedAt']),
    touchStudy: prepareUpdateById(sqlite, studies, ['lastUploadedAt']),
    countStudyInPatient: sqlite.prepare<[number]>('UPDATE patients SET study_count = study_count + 1 WHERE id = ?'),
    insertSeries: prepareInsert(sqlite, series, [
      'ownerRef',
      'studyRef',
      'seriesInstanceUid',
      'modality',
      'seriesNumber',
      'seriesDescription',
      'bodyPartExamined',
      'firstUploadedAt',
      'lastUploadedAt',
    ]),
    updateSeries: prepareUpdateById(sqlite, series, ['modality', 'seriesNumber', 'seriesDescription', 'bodyPartExamined', 'lastUploadedAt']),
    touchSeries: prepareUpdateById(sqlite, series, ['lastUploadedAt']),
    countSeriesInStudy: sqlite.prepare<[number]>('UPDATE studies SET series_count = series_count + 1 WHERE id = ?'),
    /** series_study_modality_idx: the study's series only. */
    modalitiesOfStudy: sqlite.prepare<[number], string>('SELECT DISTINCT modality FROM series WHERE study_ref = ? AND modality IS NOT NULL ORDER BY modality').pluck(),
    setModalities: sqlite.prepare<[string, number]>('UPDATE studies SET modalities = ? WHERE id = ?'),
    notCurrent: sqlite.prepare<[string]>('UPDATE dicom_files SET is_current = 0 WHERE id = ?'),
    countInstanceInSeries: sqlite.prepare<[number]>('UPDATE series SET instance_count = instance_count + 1 WHERE id = ?'),
    countInstanceInStudy: sqlite.prepare<[number]>('UPDATE studies SET instance_count = instance_count + 1 WHERE id = ?'),
    countInstanceInPatient: sqlite.prepare<[number]>('UPDATE patients SET instance_count = instance_count + 1 WHERE id = ?'),
    insertFile: prepareInsert(sqlite, dicomFiles, Object.keys(getTableColumns(dicomFiles)) as (keyof NewDicomFileRow & string)[]),
  };
}

const preparedByDb = new WeakMap<Db, ReturnType<typeof uploadStatements>>();

/** uploadStatements(db), prepared on first use per connection. */
function preparedFor(db: Db): ReturnType<typeof uploadStatements> {
  let statements = preparedByDb.get(db);
  if (!statements) {
    statements = uploadStatements(db);
    preparedByDb.set(db, statements);
  }
  return statements;
}

const sameValue = (a: unknown, b: unknown) => a === b || (a instanceof Date && b instanceof Date && a.getTime() === b.getTime());

/**
 * Writes a parent's new `values` where they differ from its row `current`: all of them when an
 * attribute changed, else only lastUploadedAt (the common case, one more file of the same series:
 * rewriting unchanged columns would move their index entries for nothing), else nothing.
 */
function writeChanges<V extends { lastUploadedAt: Date }>(
  id: number,
  current: { [K in keyof V]: unknown },
  update: (id: number, values: V) => void,
  touch: (id: number, values: { lastUploadedAt: Date }) => void,
  values: V,
): void {
  for (const k in values) {
    if (k !== 'lastUploadedAt' && !sameValue(values[k], current[k])) {
      update(id, values);
      return;
    }
  }
  if (!sameValue(values.lastUploadedAt, current.lastUploadedAt)) touch(id, values);
}

/** One better-sqlite3 transaction function per connection that runs its argument (making one per call cost more than the statements of a small insert). */
function runInTransaction(sqlite: Db['$client']): Database.Transaction<(fn: () => unknown) => unknown> {
  let run = transactionRunners.get(sqlite);
  if (!run) {
    run = sqlite.transaction((fn: () => unknown) => fn());
    transactionRunners.set(sqlite, run);
  }
  return run;
}

const transactionRunners = new WeakMap<Db['$client'], Database.Transaction<(fn: () => unknown) => unknown>>();

/**
 * Placement and recomputation, shared by the owner-scoped repository and the maintenance API.
 * Ids given to these helpers are trusted: the scoped callers looked them up in their owner's rows.
 */
abstract class CatalogBase {
  constructor(protected readonly db: Db) {}

  /** The upload path's prepared statements (shared by every repository of this connection). */
  protected get prepared(): ReturnType<typeof uploadStatements> {
    return preparedFor(this.db);
  }

  /** Runs `fn` in one transaction (BEGIN IMMEDIATE; a savepoint when already inside one). */
  transaction<T>(fn: () => T): T {
    return runInTransaction(this.db.$client).immediate(fn) as T;
  }

  protected seriesById(id: number): SeriesRow | undefined {
    return this.db.select().from(series).where(eq(series.id, id)).get();
  }

  protected studyById(id: number): StudyRow | undefined {
    return this.db.select().from(studies).where(eq(studies.id, id)).get();
  }

  // ── placement ────────────────────────────────────────────────────────────────────────────

  /**
   * Finds or creates the patient, study and series of a file about to be inserted (or, for the
   * backfill, just catalogued) in `owner`'s tree, updates their attributes and counters, and settles which version
   * of the instance is current. Must run inside a transaction.
   *
   * `newest`: the file is the newest upload (ingest), so its non-empty values win and it becomes
   * current whatever the clock says. Otherwise (backfill) upload times decide: the file only
   * fills gaps of parents that have newer files, and only replaces an older current version;
   * `exact` is then false when a parent had newer files, and the caller recomputes the parents.
   */
  protected place(row: NewDicomFileRow & { uploadedAt: Date }, owner: number, newest: boolean): Placement & { isCurrent: boolean; exact: boolean } {
    const at = row.uploadedAt;
    const patientId = key(row.patientId);
    const studyUid = key(row.studyInstanceUid);
    const seriesUid = key(row.seriesInstanceUid);
    const issuer = patientId === '' ? '' : key(row.issuerOfPatientId);
    const unknownScope = patientId === '' ? studyUid : '';
    let exact = true;
    /** The value a parent keeps: the file's when it is the newer one (and has one), else the parent's. */
    const merge = <T>(wins: boolean, mine: T | null | undefined, theirs: T | null): T | null =>
      wins ? (mine ?? theirs) : (theirs ?? mine ?? null);
    const latest = (a: Date, b: Date) => (a > b ? a : b);

    // Patient
    const prepared = this.prepared;
    let patient = prepared.patientByKey.get({ owner, patientId, issuer, unknownScope });
    if (!patient) {
      patient = prepared.insertPatient({
        ownerRef: owner,
        patientId,
        issuer,
        unknownScope,
        patientName: row.patientName ?? null,
        patientNameSort: foldName(row.patientName ?? ''),
        birthDate: row.patientBirthDate ?? null,
        sex: row.patientSex ?? null,
        firstUploadedAt: at,
        lastUploadedAt: at,
      });
    } else {
      const wins = newest || at >= patient.lastUploadedAt;
      exact &&= wins;
      const patientName = merge(wins, row.patientName, patient.patientName);
      writeChanges(patient.id, patient, prepared.updatePatient, prepared.touchPatient, {
        patientName,
        patientNameSort: foldName(patientName ?? ''),
        birthDate: merge(wins, row.patientBirthDate, patient.birthDate),
        sex: merge(wins, row.patientSex, patient.sex),
        lastUploadedAt: latest(at, patient.lastUploadedAt),
      });
    }
    if (row.patientName) prepared.countPatientName.run(patient.id, row.patientName, foldName(row.patientName));

    // Study
    let study = prepared.studyByKey.get({ patientRef: patient.id, uid: studyUid });
    if (!study) {
      study = prepared.insertStudy({
        ownerRef: owner,
        patientRef: patient.id,
        studyInstanceUid: studyUid,
        studyDate: row.studyDate ?? '',
        studyTime: row.studyTime ?? '',
        studyDescription: row.studyDescription ?? null,
        accessionNumber: row.accessionNumber ?? null,
        referringPhysicianName: row.referringPhysicianName ?? null,
        firstUploadedAt: at,
        lastUploadedAt: at,
      });
      prepared.countStudyInPatient.run(patient.id);
    } else {
      const wins = newest || at >= study.lastUploadedAt;
      exact &&= wins;
      writeChanges(study.id, study, prepared.updateStudy, prepared.touchStudy, {
        studyDate: merge(wins, row.studyDate || null, study.studyDate || null) ?? '',
        studyTime: merge(wins, row.studyTime || null, study.studyTime || null) ?? '',
        studyDescription: merge(wins, row.studyDescription, study.studyDescription),
        accessionNumber: merge(wins, row.accessionNumber, study.accessionNumber),
        referringPhysicianName: merge(wins, row.referringPhysicianName, study.referringPhysicianName),
        lastUploadedAt: latest(at, study.lastUploadedAt),
      });
    }

    // Series
    let seriesRow = prepared.seriesByKey.get({ studyRef: study.id, uid: seriesUid });
    let modalitiesChanged = false;
    if (!seriesRow) {
      seriesRow = prepared.insertSeries({
        ownerRef: owner,
        studyRef: study.id,
        seriesInstanceUid: seriesUid,
        modality: row.modality ?? null,
        seriesNumber: row.seriesNumber ?? null,
        seriesDescription: row.seriesDescription ?? null,
        bodyPartExamined: row.bodyPartExamined ?? null,
        firstUploadedAt: at,
        lastUploadedAt: at,
      });
      prepared.countSeriesInStudy.run(study.id);
      modalitiesChanged = seriesRow.modality !== null;
    } else {
      const wins = newest || at >= seriesRow.lastUploadedAt;
      exact &&= wins;
      const modality = merge(wins, row.modality, seriesRow.modality);
      modalitiesChanged = modality !== seriesRow.modality;
      writeChanges(seriesRow.id, seriesRow, prepared.updateSeries, prepared.touchSeries, {
        modality,
        seriesNumber: merge(wins, row.seriesNumber, seriesRow.seriesNumber),
        seriesDescription: merge(wins, row.seriesDescription, seriesRow.seriesDescription),
        bodyPartExamined: merge(wins, row.bodyPartExamined, seriesRow.bodyPartExamined),
        lastUploadedAt: latest(at, seriesRow.lastUploadedAt),
      });
    }
    if (modalitiesChanged) this.refreshModalities(study.id);

    // Instance version: a newer file replaces the current version of the same SOP Instance UID.
    const sopUid = row.sopInstanceUid ?? null;
    const current = sopUid ? prepared.currentVersion.get({ sopUid, seriesRef: seriesRow.id }) : undefined;
    const isCurrent =
      !current || newest || current.uploadedAt < at || (current.uploadedAt.getTime() === at.getTime() && current.id < (row.id ?? ''));
    if (current && isCurrent) prepared.notCurrent.run(current.id);
    if (!current) {
      prepared.countInstanceInSeries.run(seriesRow.id);
      prepared.countInstanceInStudy.run(study.id);
      prepared.countInstanceInPatient.run(patient.id);
    }
    return { patientRef: patient.id, studyRef: study.id, seriesRef: seriesRow.id, isCurrent, exact };
  }

  /** Rewrites a study's modalities from its series (sorted, distinct). */
  protected refreshModalities(studyId: number): void {
    const prepared = this.prepared;
    prepared.setModalities.run(prepared.modalitiesOfStudy.all(studyId).join(MODALITY_SEPARATOR), studyId);
  }

  /**
   * Deletes the file rows matching `where` and repairs the catalog above them. `promote`: the
   * scope may leave other versions of a deleted current instance behind (single-file delete),
   * so the newest of them becomes current. `touched` names catalog rows that must be revisited
   * even if no file row pointed at them (an empty series or study left behind by an old bug).
   */
  protected deleteRows(
    where: SQL,
    promote: boolean,
    touched: { seriesIds?: number[]; studyIds?: number[]; patientIds?: number[] } = {},
  ): CatalogDeleteResult {
    const removed = this.db
      .delete(dicomFiles)
      .where(where)
      .returning({
        id: dicomFiles.id,
        ownerRef: dicomFiles.ownerRef,
        sha256: dicomFiles.sha256,
        patientName: dicomFiles.patientName,
        patientRef: dicomFiles.patientRef,
        studyRef: dicomFiles.studyRef,
        seriesRef: dicomFiles.seriesRef,
        sopInstanceUid: dicomFiles.sopInstanceUid,
        isCurrent: dicomFiles.isCurrent,
        filename: dicomFiles.filename,
        seriesInstanceUid: dicomFiles.seriesInstanceUid,
        studyInstanceUid: dicomFiles.studyInstanceUid,
      })
      .all();

    const seriesIds = new Set(touched.seriesIds);
    const studyIds = new Set(touched.studyIds);
    const patientIds = new Set(touched.patientIds);
    const names = new Map<string, number>(); // "patientRef\0name" → files removed
    for (const r of removed) {
      if (r.seriesRef !== null) seriesIds.add(r.seriesRef);
      if (r.studyRef !== null) studyIds.add(r.studyRef);
      if (r.patientRef !== null) patientIds.add(r.patientRef);
      if (r.patientRef !== null && r.patientName) {
        const k = `${r.patientRef}\u0000${r.patientName}`;
        names.set(k, (names.get(k) ?? 0) + 1);
      }
      if (promote && r.isCurrent && r.sopInstanceUid && r.seriesRef !== null) this.promoteNewestVersion(r.seriesRef, r.sopInstanceUid);
    }
    for (const [k, n] of names) {
      const [ref, name] = k.split('\u0000') as [string, string];
      const thisName = and(eq(patientNames.patientRef, Number(ref)), eq(patientNames.name, name));
      this.db.update(patientNames).set({ fileCount: sql`${patientNames.fileCount} - ${n}` }).where(thisName).run();
      this.db.delete(patientNames).where(and(thisName, sql`${patientNames.fileCount} <= 0`)).run();
    }

    // Every series of a study being removed, even one no deleted file pointed at.
    if (touched.studyIds?.length) {
      for (const s of this.db.select({ id: series.id }).from(series).where(inArray(series.studyRef, touched.studyIds)).all()) seriesIds.add(s.id);
    }
    const deletedSeriesIds: number[] = [];
    for (const id of seriesIds) {
      const row = this.seriesById(id);
      if (!row) continue;
      studyIds.add(row.studyRef);
      if (this.refreshSeries(id)) continue;
      this.db.delete(series).where(eq(series.id, id)).run();
      deletedSeriesIds.push(id);
    }
    const deletedStudyIds: number[] = [];
    for (const id of studyIds) {
      const row = this.studyById(id);
      if (!row) continue;
      patientIds.add(row.patientRef);
      if (this.refreshStudy(id)) continue;
      this.db.delete(series).where(eq(series.studyRef, id)).run();
      this.db.delete(studies).where(eq(studies.id, id)).run();
      deletedStudyIds.push(id);
    }
    const deletedPatientIds: number[] = [];
    for (const id of patientIds) {
      if (this.refreshPatient(id)) continue;
      this.db.delete(patientNames).where(eq(patientNames.patientRef, id)).run();
      this.db.delete(patients).where(eq(patients.id, id)).run();
      deletedPatientIds.push(id);
    }

    const shas = [...new Set(removed.map((r) => r.sha256))];
    const stillUsed = new Set(
      shas.length === 0
        ? []
        : this.db
            .select({ sha256: dicomFiles.sha256 })
            .from(dicomFiles)
            .where(inArray(dicomFiles.sha256, shas))
            .all()
            .map((r) => r.sha256),
    );
    return {
      deletedFiles: removed.map((r) => ({
        id: r.id,
        ownerRef: r.ownerRef,
        sha256: r.sha256,
        filename: r.filename,
        sopInstanceUid: r.sopInstanceUid,
        seriesInstanceUid: r.seriesInstanceUid,
        studyInstanceUid: r.studyInstanceUid,
      })),
      unreferencedBlobs: shas.filter((s) => !stillUsed.has(s)),
      deletedSeriesIds,
      deletedStudyIds,
      deletedPatientIds,
    };
  }

  /** After the current version of an instance is deleted, its newest remaining version becomes current. */
  protected promoteNewestVersion(seriesRef: number, sopInstanceUid: string): void {
    const sameInstance = and(eq(dicomFiles.seriesRef, seriesRef), eq(dicomFiles.sopInstanceUid, sopInstanceUid));
    const current = this.db.select({ id: dicomFiles.id }).from(dicomFiles).where(and(sameInstance, eq(dicomFiles.isCurrent, true))).get();
    if (current) return;
    const newest = this.db
      .select({ id: dicomFiles.id })
      .from(dicomFiles)
      .where(sameInstance)
      .orderBy(desc(dicomFiles.uploadedAt), desc(dicomFiles.id))
      .limit(1)
      .get();
    if (newest) this.db.update(dicomFiles).set({ isCurrent: true }).where(eq(dicomFiles.id, newest.id)).run();
  }

  /** The newest non-null value of `column` among the files matching `where`. */
  protected newest<T>(column: AnyColumn, where: SQL): T | null {
    const row = this.db
      .select({ v: sql<T>`${column}` })
      .from(dicomFiles)
      .where(and(where, isNotNull(column)))
      .orderBy(desc(dicomFiles.uploadedAt), desc(dicomFiles.id))
      .limit(1)
      .get();
    return row ? row.v : null;
  }

  /** The latest upload time among the files matching `where` (an index seek with a ref index). */
  protected lastUpload(where: SQL): Date | null {
    const v = this.db.select({ v: sql<number | null>`max(${dicomFiles.uploadedAt})` }).from(dicomFiles).where(where).get()?.v;
    return v === null || v === undefined ? null : new Date(v);
  }

  /** Recomputes a series from its files; false when it has none left. */
  protected refreshSeries(id: number): boolean {
    const scope = eq(dicomFiles.seriesRef, id);
    // The newest upload: one seek in dicom_files_series_uploaded_idx (none: no files left). The
    // current count reads the series' entries of dicom_files_series_current_number_idx, index only.
    const last = this.lastUpload(scope);
    if (last === null) return false;
    const current = this.db.select({ n: count() }).from(dicomFiles).where(and(scope, eq(dicomFiles.isCurrent, true))).get()?.n ?? 0;
    const before = this.seriesById(id);
    const modality = this.newest<string>(dicomFiles.modality, scope);
    this.db
      .update(series)
      .set({
        instanceCount: current,
        lastUploadedAt: last,
        modality,
        seriesNumber: this.newest<number>(dicomFiles.seriesNumber, scope),
        seriesDescription: this.newest<string>(dicomFiles.seriesDescription, scope),
        bodyPartExamined: this.newest<string>(dicomFiles.bodyPartExamined, scope),
      })
      .where(eq(series.id, id))
      .run();
    if (before && before.modality !== modality) this.refreshModalities(before.studyRef);
    return true;
  }

  /** Recomputes a study from its series and files; false when it has no series left. */
  protected refreshStudy(id: number): boolean {
    const stats = this.db
      .select({ series: count(), instances: sql<number>`coalesce(sum(${series.instanceCount}), 0)` })
      .from(series)
      .where(eq(series.studyRef, id))
      .get();
    if (!stats || stats.series === 0) return false;
    const scope = eq(dicomFiles.studyRef, id);
    const last = this.lastUpload(scope);
    this.db
      .update(studies)
      .set({
        seriesCount: stats.series,
        instanceCount: stats.instances,
        ...(last ? { lastUploadedAt: last } : {}),
        studyDate: this.newest<string>(dicomFiles.studyDate, scope) ?? '',
        studyTime: this.newest<string>(dicomFiles.studyTime, scope) ?? '',
        studyDescription: this.newest<string>(dicomFiles.studyDescription, scope),
        accessionNumber: this.newest<string>(dicomFiles.accessionNumber, scope),
        referringPhysicianName: this.newest<string>(dicomFiles.referringPhysicianName, scope),
      })
      .where(eq(studies.id, id))
      .run();
    this.refreshModalities(id);
    return true;
  }

  /** Recomputes a patient from its studies and files; false when it has no study left. */
  protected refreshPatient(id: number): boolean {
    const stats = this.db
      .select({ studies: count(), instances: sql<number>`coalesce(sum(${studies.instanceCount}), 0)` })
      .from(studies)
      .where(eq(studies.patientRef, id))
      .get();
    if (!stats || stats.studies === 0) return false;
    const scope = eq(dicomFiles.patientRef, id);
    const last = this.lastUpload(scope);
    const patientName = this.newest<string>(dicomFiles.patientName, scope);
    this.db
      .update(patients)
      .set({
        studyCount: stats.studies,
        instanceCount: stats.instances,
        ...(last ? { lastUploadedAt: last } : {}),
        patientName,
        patientNameSort: foldName(patientName ?? ''),
        birthDate: this.newest<string>(dicomFiles.patientBirthDate, scope),
        sex: this.newest<string>(dicomFiles.patientSex, scope),
      })
      .where(eq(patients.id, id))
      .run();
    return true;
  }
}

/**
 * One owner's catalog: every read, listing, count, cursor page and delete sees only rows whose
 * owner_ref is `owner`, and every file it inserts is `owner`'s. Another owner's id takes the same
 * path as a missing one (the owner is part of the statement's WHERE, never a second query).
 * Cheap to make (one per request): DicomFileRepository.forOwner(userId).catalog.
 */
export class CatalogRepository extends CatalogBase {
  constructor(
    db: Db,
    /** users.id whose rows this repository sees. */
    readonly owner: number,
    /** Called with the ids of the file rows every delete removed, once it returns (caches forget them). */
    private readonly onFilesDeleted: (ids: readonly string[]) => void = () => {},
    /** Bumped after each committed insert or delete of the owner's files (answer caches). */
    private readonly versions?: DataVersions,
  ) {
    super(db);
  }

  /** `result` of a committed write: bumps the owner's data version when `changed`. */
  private written<T>(result: T, changed: boolean): T {
    if (changed) this.versions?.bump(this.owner);
    return result;
  }

  // ── placement ────────────────────────────────────────────────────────────────────────────

  /**
   * Inserts a new file row as the owner's and places it in the owner's catalog (one
   * transaction). Returns the stored row, or the owner's existing one when the owner already
   * stored the same bytes (nothing changes then). Another owner's copy of the bytes is not a
   * duplicate: each owner gets a row of their own (the blob is shared).
   */
  insertFile(row: Omit<NewDicomFileRow, 'ownerRef'>): { file: DicomFileRow; duplicate: boolean } {
    const result = this.transaction(() => {
      const existing = this.fileBySha256(row.sha256);
      if (existing) return { file: existing, duplicate: true };
      const uploadedAt = row.uploadedAt ?? new Date();
      const { patientRef, studyRef, seriesRef } = this.place({ ...row, ownerRef: this.owner, uploadedAt }, this.owner, true);
      const file = this.prepared.insertFile({ ...row, ownerRef: this.owner, uploadedAt, patientRef, studyRef, seriesRef, isCurrent: true });
      return { file, duplicate: false };
    });
    return this.written(result, !result.duplicate);
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────

  /** The owner's file with this id (dicom_files primary key + owner check). */
  file(id: string): DicomFileRow | undefined {
    return fileByIdStatement(this.db).get({ id, owner: this.owner });
  }

  /** The owner's copy of these bytes (dicom_files_owner_sha256_unique). */
  fileBySha256(sha256: string): DicomFileRow | undefined {
    return this.prepared.fileBySha256.get({ owner: this.owner, sha256 });
  }

  patient(id: number): PatientRow | undefined {
    return this.db.select().from(patients).where(and(eq(patients.id, id), eq(patients.ownerRef, this.owner))).get();
  }

  study(id: number): StudyRow | undefined {
    return this.db.select().from(studies).where(and(eq(studies.id, id), eq(studies.ownerRef, this.owner))).get();
  }

  series(id: number): SeriesRow | undefined {
    return this.db.select().from(series).where(and(eq(series.id, id), eq(series.ownerRef, this.owner))).get();
  }

  patientOfStudy(studyId: number): PatientRow | undefined {
    const study = this.study(studyId);
    return study ? this.patient(study.patientRef) : undefined;
  }

  /** Every distinct name the patient's files carry except `patientName`, sorted ([] for another owner's patient). */
  otherPatientNames(patient: PatientRow): string[] {
    return this.db
      .select({ name: patientNames.name })
      .from(patientNames)
      .where(and(eq(patientNames.patientRef, patient.id), this.ownsPatient(patientNames.patientRef)))
      .orderBy(asc(patientNames.name))
      .all()
      .map((r) => r.name)
      .filter((name) => name !== patient.patientName);
  }

  patientNameCount(patientId: number): number {
    return (
      this.db
        .select({ n: count() })
        .from(patientNames)
        .where(and(eq(patientNames.patientRef, patientId), this.ownsPatient(patientNames.patientRef)))
        .get()?.n ?? 0
    );
  }

  /** `ref` names one of the owner's patients (a primary-key probe). */
  private ownsPatient(ref: AnyColumn): SQL {
    return sql`${ref} IN (SELECT ${patients.id} FROM ${patients} WHERE ${patients.id} = ${ref} AND ${patients.ownerRef} = ${this.owner})`;
  }

  /** Every stored version of the file's instance (itself included), newest first; the owner's only. */
  versionsOf(file: DicomFileRow): DicomFileRow[] {
    if (file.ownerRef !== this.owner) return [];
    if (!file.sopInstanceUid || file.seriesRef === null) return [file];
    return this.db
      .select()
      .from(dicomFiles)
      .where(and(eq(dicomFiles.sopInstanceUid, file.sopInstanceUid), eq(dicomFiles.seriesRef, file.seriesRef), ownedBy(dicomFiles.ownerRef, this.owner, false)))
      .orderBy(desc(dicomFiles.uploadedAt), desc(dicomFiles.id))
      .all();
  }

  /** Current versions of a series' instances, by Instance Number ([] for another owner's series). */
  currentFilesOfSeries(seriesId: number): DicomFileRow[] {
    return this.db
      .select()
      .from(dicomFiles)
      .where(and(eq(dicomFiles.seriesRef, seriesId), eq(dicomFiles.isCurrent, true), ownedBy(dicomFiles.ownerRef, this.owner, false)))
      .orderBy(asc(dicomFiles.instanceNumber), asc(dicomFiles.id))
      .all();
  }

  /** Current versions of a study's instances, series by series ([] for another owner's study). */
  currentFilesOfStudy(studyId: number): DicomFileRow[] {
    const seriesIds = this.db
      .select({ id: series.id })
      .from(series)
      .where(and(eq(series.studyRef, studyId), ownedBy(series.ownerRef, this.owner, false)))
      .orderBy(asc(series.seriesNumber), asc(series.id))
      .all();
    return seriesIds.flatMap((s) => this.currentFilesOfSeries(s.id));
  }

  listPatients(filter: PatientFilter, order: PatientOrder, page: PageArgs): CatalogPage<PatientRow> {
    const conditions = patientConditions(this.owner, filter);
    return keysetPage(this.db, patients, conditions, PATIENT_ORDERINGS[order.field], order.direction, page, () => this.countRows(patients, conditions));
  }

  /** Studies matching `filter`; with `patientId`, that patient's only. */
  listStudies(filter: StudyFilter, order: StudyOrder, page: PageArgs, scope?: { patientId: number }): CatalogPage<StudyRow> {
    const conditions = studyConditions(this.owner, filter, scope !== undefined);
    if (scope) conditions.push(eq(studies.patientRef, scope.patientId));
    // Owner + patient only: the patient's counter (the owner's patient, else 0).
    const total = () => (scope && conditions.length === 2 ? (this.patient(scope.patientId)?.studyCount ?? 0) : this.countRows(studies, conditions));
    return keysetPage(this.db, studies, conditions, STUDY_ORDERINGS[order.field], order.direction, page, total);
  }

  /** Series matching `filter`; with `studyId`, that study's only. */
  listSeries(filter: SeriesFilter, order: SeriesOrder, page: PageArgs, scope?: { studyId: number }): CatalogPage<SeriesRow> {
    const conditions = seriesConditions(this.owner, filter, scope !== undefined);
    if (scope) conditions.push(eq(series.studyRef, scope.studyId));
    const total = () => (scope && conditions.length === 2 ? (this.study(scope.studyId)?.seriesCount ?? 0) : this.countRows(series, conditions));
    return keysetPage(this.db, series, conditions, SERIES_ORDERINGS[order.field], order.direction, page, total);
  }

  /** Files matching `filter` (current versions unless includeAllVersions); with `seriesId`, that series' only. */
  listFiles(filter: FileFilter, order: FileOrder, page: PageArgs, scope?: { seriesId: number }): CatalogPage<DicomFileRow> {
    const conditions = fileConditions(this.owner, filter, (table, where, limit) => this.parentIds(table, where, limit), scope !== undefined);
    if (scope) conditions.push(eq(dicomFiles.seriesRef, scope.seriesId));
    return keysetPage(this.db, dicomFiles, conditions, FILE_ORDERINGS[order.field], order.direction, page, () => this.countFiles(filter, conditions, scope));
  }

  /** Ids of the rows of `table` matching `where` (which names the owner); undefined when more than `limit`. */
  private parentIds(table: 'patients' | 'studies' | 'series', where: SQL[], limit: number): number[] | undefined {
    const t = table === 'patients' ? patients : table === 'studies' ? studies : series;
    const ids = this.db
      .select({ id: t.id })
      .from(t)
      .where(and(...where))
      .limit(limit + 1)
      .all()
      .map((r) => r.id);
    return ids.length > limit ? undefined : ids;
  }

  private countRows(table: typeof studies | typeof series | typeof dicomFiles | typeof patients, conditions: SQL[]): number {
    return this.db.select({ n: count() }).from(table).where(and(...conditions)).get()?.n ?? 0;
  }

  /**
   * The owner's current instances matching the filter. Counting 10⁶ index entries takes tens of
   * milliseconds, so a filter that selects whole series is answered from the series counters.
   */
  private countFiles(filter: FileFilter, conditions: SQL[], scope?: { seriesId: number }): number {
    if (!selectsWholeSeries(filter)) return this.countRows(dicomFiles, conditions);
    const series_ = seriesConditions(this.owner, { ...filter, modality: null, uploadedAt: null });
    const seriesLevel = series_.length > 1; // more than the owner condition
    if (scope) {
      // Owner, is_current and series_ref only: the series' counter (the owner's series, else 0).
      return !seriesLevel && conditions.length === 3 ? (this.series(scope.seriesId)?.instanceCount ?? 0) : this.countRows(dicomFiles, conditions);
    }
    if (!seriesLevel) {
      return (
        this.db
          .select({ n: sql<number>`coalesce(sum(${patients.instanceCount}), 0)` })
          .from(patients)
          .where(eq(patients.ownerRef, this.owner))
          .get()?.n ?? 0
      );
    }
    return this.db.select({ n: sql<number>`coalesce(sum(${series.instanceCount}), 0)` }).from(series).where(and(...series_)).get()?.n ?? 0;
  }

  // ── deletes ──────────────────────────────────────────────────────────────────────────────

  deleteFile(fileId: string): CatalogDeleteResult | undefined {
    const result = this.transaction(() => {
      if (!this.file(fileId)) return undefined;
      return this.deleteRows(and(eq(dicomFiles.id, fileId), eq(dicomFiles.ownerRef, this.owner)) as SQL, true);
    });
    return this.written(this.deleted(result), result !== undefined);
  }

  deleteSeries(seriesId: number): CatalogDeleteResult | undefined {
    const result = this.transaction(() => {
      if (!this.series(seriesId)) return undefined;
      return this.deleteRows(this.ownFiles(eq(dicomFiles.seriesRef, seriesId)), false, { seriesIds: [seriesId] });
    });
    return this.written(this.deleted(result), result !== undefined);
  }

  deleteStudy(studyId: number): CatalogDeleteResult | undefined {
    const result = this.transaction(() => {
      const study = this.study(studyId);
      if (!study) return undefined;
      return this.deleteRows(this.ownFiles(eq(dicomFiles.studyRef, studyId)), false, { studyIds: [studyId], patientIds: [study.patientRef] });
    });
    return this.written(this.deleted(result), result !== undefined);
  }

  deletePatient(patientId: number): CatalogDeleteResult | undefined {
    const result = this.transaction(() => {
      if (!this.patient(patientId)) return undefined;
      return this.deleteRows(this.ownFiles(eq(dicomFiles.patientRef, patientId)), false, { patientIds: [patientId] });
    });
    return this.written(this.deleted(result), result !== undefined);
  }

  /** Every delete's result passes here: the deleted ids leave the caches that key on them. */
  private deleted(result: CatalogDeleteResult | undefined): CatalogDeleteResult | undefined {
    if (result && result.deletedFiles.length > 0) this.onFilesDeleted(result.deletedFiles.map((f) => f.id));
    return result;
  }

  /** `where` on the owner's files only (the ref index drives it; the owner is checked per row). */
  private ownFiles(where: SQL): SQL {
    return and(where, ownedBy(dicomFiles.ownerRef, this.owner, false)) as SQL;
  }
}

/**
 * Maintenance across owners (the root repository's `catalog`): the backfill of files stored
 * before the catalog existed (each placed in its own owner's tree), the startup check's counter
 * repair and the consistency check. Never handed to request handlers.
 */
export class CatalogMaintenance extends CatalogBase {
  constructor(
    db: Db,
    /** Bumped after committed changes of catalogued data (answer caches). */
    private readonly versions?: DataVersions,
  ) {
    super(db);
  }

  /**
   * Places a row that is already stored but not yet in the catalog (the backfill after an
   * upgrade), with its attributes updated from `attributes` (a fresh summary of its header).
   * Upload times decide which version is current and which values the parents keep, so rows may
   * be placed in any order, even while new uploads arrive.
   */
  placeExisting(fileId: string, attributes: Partial<NewDicomFileRow>): void {
    const owner = this.transaction(() => {
      const row = this.db.select().from(dicomFiles).where(eq(dicomFiles.id, fileId)).get();
      if (!row || row.seriesRef !== null) return undefined;
      const merged = { ...row, ...attributes, id: row.id, sha256: row.sha256, uploadedAt: row.uploadedAt };
      const { patientRef, studyRef, seriesRef, isCurrent, exact } = this.place(merged, row.ownerRef, false);
      this.db
        .update(dicomFiles)
        .set({ ...attributes, id: row.id, sha256: row.sha256, uploadedAt: row.uploadedAt, patientRef, studyRef, seriesRef, isCurrent })
        .where(eq(dicomFiles.id, fileId))
        .run();
      if (!exact) {
        // A parent already had newer files: recompute its values from all of them.
        this.refreshSeries(seriesRef);
        this.refreshStudy(studyRef);
        this.refreshPatient(patientRef);
      }
      return row.ownerRef;
    });
    if (owner !== undefined) this.versions?.bump(owner);
  }

  /** Rows stored before the catalog existed (no series yet), oldest first. */
  uncataloguedFiles(limit: number): DicomFileRow[] {
    return this.db
      .select()
      .from(dicomFiles)
      .where(sql`${dicomFiles.seriesRef} IS NULL`)
      .orderBy(asc(dicomFiles.uploadedAt), asc(dicomFiles.id))
      .limit(limit)
      .all();
  }


  // ── consistency ──────────────────────────────────────────────────────────────────────────

  /**
   * Recomputes every maintained counter and derived attribute from the rows (series, then
   * studies, then patients; patient name counts). The startup check (repair.ts) calls it only
   * when checkConsistency() reports problems: a full pass, one transaction.
   */
  repairCounters(): void {
    this.transaction(() => {
      for (const { id } of this.db.select({ id: series.id }).from(series).all()) this.refreshSeries(id);
      for (const { id } of this.db.select({ id: studies.id }).from(studies).all()) this.refreshStudy(id);
      for (const { id } of this.db.select({ id: patients.id }).from(patients).all()) this.refreshPatient(id);
      this.db.run(sql`UPDATE patient_names SET file_count = (SELECT count(*) FROM dicom_files f
        WHERE f.patient_ref = patient_names.patient_ref AND f.patient_name = patient_names.name)`);
      this.db.run(sql`DELETE FROM patient_names WHERE file_count = 0`);
    });
    this.versions?.bumpAll();
  }

  /**
   * Compares every maintained counter with what the rows say and checks the version invariant
   * (one current version per instance). Returns the discrepancies; [] when consistent.
   */
  checkConsistency(): string[] {
    const problems: string[] = [];
    const q = (text: string) => this.db.all<Record<string, unknown>>(sql.raw(text));
    // Aggregates joined to the counters (one pass over each index), not per-row subqueries.
    for (const r of q(`SELECT s.id, s.instance_count AS kept, coalesce(c.n, 0) AS real FROM series s
        LEFT JOIN (SELECT series_ref, count(*) AS n FROM dicom_files WHERE is_current = 1 GROUP BY series_ref) c ON c.series_ref = s.id
        WHERE s.instance_count <> coalesce(c.n, 0)`)) {
      problems.push(`series ${r.id}: instance_count ${r.kept}, current files ${r.real}`);
    }
    for (const r of q(`SELECT t.id, t.series_count AS ks, t.instance_count AS ki, t.modalities AS km,
        coalesce(s.n, 0) AS rs, coalesce(s.i, 0) AS ri, coalesce(m.list, '') AS rm FROM studies t
        LEFT JOIN (SELECT study_ref, count(*) AS n, sum(instance_count) AS i FROM series GROUP BY study_ref) s ON s.study_ref = t.id
        LEFT JOIN (SELECT study_ref, group_concat(modality, '\\' ORDER BY modality) AS list FROM
          (SELECT DISTINCT study_ref, modality FROM series WHERE modality IS NOT NULL) GROUP BY study_ref) m ON m.study_ref = t.id
        WHERE t.series_count <> coalesce(s.n, 0) OR t.instance_count <> coalesce(s.i, 0) OR t.modalities <> coalesce(m.list, '')`)) {
      problems.push(`study ${r.id}: kept ${r.ks}/${r.ki}/${r.km}, real ${r.rs}/${r.ri}/${r.rm}`);
    }
    for (const r of q(`SELECT p.id, p.study_count AS ks, p.instance_count AS ki, coalesce(t.n, 0) AS rs, coalesce(t.i, 0) AS ri FROM patients p
        LEFT JOIN (SELECT patient_ref, count(*) AS n, sum(instance_count) AS i FROM studies GROUP BY patient_ref) t ON t.patient_ref = p.id
        WHERE p.study_count <> coalesce(t.n, 0) OR p.instance_count <> coalesce(t.i, 0)`)) {
      problems.push(`patient ${r.id}: kept ${r.ks}/${r.ki}, real ${r.rs}/${r.ri}`);
    }
    for (const r of q(`SELECT coalesce(n.patient_ref, f.patient_ref) AS patient, coalesce(n.name, f.patient_name) AS name,
        coalesce(n.file_count, 0) AS kept, coalesce(f.c, 0) AS real
        FROM patient_names n FULL JOIN (SELECT patient_ref, patient_name, count(*) AS c FROM dicom_files
          WHERE patient_ref IS NOT NULL AND patient_name IS NOT NULL GROUP BY patient_ref, patient_name) f
          ON f.patient_ref = n.patient_ref AND f.patient_name = n.name
        WHERE coalesce(n.file_count, 0) <> coalesce(f.c, 0)`)) {
      problems.push(`patient ${r.patient} name ${String(r.name)}: kept ${r.kept}, real ${r.real}`);
    }
    for (const r of q(`SELECT series_ref, sop_instance_uid, sum(is_current) AS cur FROM dicom_files
        WHERE sop_instance_uid IS NOT NULL AND series_ref IS NOT NULL GROUP BY series_ref, sop_instance_uid HAVING cur <> 1`)) {
      problems.push(`instance ${String(r.sop_instance_uid)} in series ${r.series_ref}: ${r.cur} current versions`);
    }
    for (const r of q(`SELECT id FROM dicom_files WHERE series_ref IS NOT NULL AND sop_instance_uid IS NULL AND is_current = 0`)) {
      problems.push(`file ${r.id} without SOP Instance UID is not current`);
    }
    for (const r of q(`SELECT f.id FROM dicom_files f JOIN series s ON s.id = f.series_ref JOIN studies t ON t.id = s.study_ref
        WHERE f.study_ref <> t.id OR f.patient_ref <> t.patient_ref OR f.owner_ref <> s.owner_ref OR s.owner_ref <> t.owner_ref`)) {
      problems.push(`file ${r.id}: refs or owner disagree with its series`);
    }
    // Each owner's tree holds only that owner's rows.
    for (const r of q(`SELECT t.id FROM studies t JOIN patients p ON p.id = t.patient_ref WHERE t.owner_ref <> p.owner_ref`)) {
      problems.push(`study ${r.id}: owner disagrees with its patient`);
    }
    for (const r of q(`SELECT id FROM series s WHERE NOT EXISTS (SELECT 1 FROM dicom_files f WHERE f.series_ref = s.id)`)) {
      problems.push(`series ${r.id} has no files`);
    }
    for (const r of q(`SELECT id FROM studies t WHERE NOT EXISTS (SELECT 1 FROM series s WHERE s.study_ref = t.id)`)) {
      problems.push(`study ${r.id} has no series`);
    }
    for (const r of q(`SELECT id FROM patients p WHERE NOT EXISTS (SELECT 1 FROM studies t WHERE t.patient_ref = p.id)`)) {
      problems.push(`patient ${r.id} has no studies`);
    }
    return problems;
  }
}
