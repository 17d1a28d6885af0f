/**
 * Catalog filters → SQL conditions on one level's table. A filter on a higher level's attribute
 * becomes `ref IN (SELECT id FROM <higher level> WHERE …)`, so every condition is an index
 * lookup on the level that owns the attribute (EXPLAIN QUERY PLAN checks in
 * test/unit/catalog-plan.test.ts and in the bench output).
 *
 * Every function takes the owner (users.id) whose catalog is searched: each level's conditions
 * start with `owner_ref = owner`, and so do the parent subqueries (a foreign row matches nothing).
 * The owner-leading indexes make it the first column of a seek; where a more selective index
 * (a UID, an accession number, one parent's rows) should drive the lookup, the owner test is
 * written `+owner_ref = ?`, which SQLite checks per row instead of seeking by it.
 */
import { type AnyColumn, and, eq, gte, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { DateRange, FileFilter, InstantRange, PatientFilter, SeriesFilter, StudyFilter } from './catalog-query.js';
import { dicomFiles, patientNames, patients, series, studies } from './schema.js';

/**
 * `column = owner`: indexable (an owner-leading index seeks by it), or checked per row only
 * (`+column`), so that another, more selective index drives the lookup.
 */
export function ownedBy(column: AnyColumn, owner: number, indexable = true): SQL {
  return indexable ? eq(column, owner) : sql`+${column} = ${owner}`;
}

/** The case-insensitive form patient names are matched and sorted by. */
export function foldName(name: string): string {
  return name.toUpperCase();
}

/**
 * A DICOM wildcard pattern (PS3.4 C.2.2.2.4: "*" any run of characters, "?" exactly one) as a
 * condition on an upper-cased column. The literal prefix before the first wildcard bounds an
 * index range; GLOB (case-sensitive, so both sides are folded) checks the rest.
 */
export function wildcardCondition(column: AnyColumn, pattern: string): SQL {
  const folded = foldName(pattern);
  if (!/[*?]/.test(folded)) return eq(column, folded);
  const glob = folded.replace(/\[/g, '[[]');
  const prefix = folded.slice(0, folded.search(/[*?]/));
  const conditions: SQL[] = [sql`${column} GLOB ${glob}`];
  if (prefix !== '') {
    conditions.push(gte(column, prefix));
    const upper = prefixUpperBound(prefix);
    if (upper !== undefined) conditions.push(lt(column, upper));
  }
  return and(...conditions) as SQL;
}

/**
 * The smallest string greater than every string starting with `prefix` (its last character
 * incremented), in SQLite's BINARY order (UTF-8 bytes, which is code point order); undefined
 * when the last character cannot be incremented within the BMP without meeting a surrogate.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const chars = [...prefix];
  const lastChar = chars.pop();
  if (lastChar === undefined) return undefined;
  const cp = lastChar.codePointAt(0)!;
  const next = cp + 1;
  if ((next >= 0xd800 && next <= 0xdfff) || next > 0x10ffff) return undefined;
  return chars.join('') + String.fromCodePoint(next);
}

function dateRange(column: AnyColumn, range: DateRange): SQL[] {
  const c: SQL[] = [];
  // '' (no date) is below every date: a range never matches it.
  c.push(range.from ? gte(column, range.from) : sql`${column} > ''`);
  if (range.to) c.push(lte(column, range.to));
  return c;
}

function instantRange(column: AnyColumn, range: InstantRange): SQL[] {
  const c: SQL[] = [];
  if (range.from) c.push(sql`${column} >= ${range.from.getTime()}`);
  if (range.to) c.push(sql`${column} < ${range.to.getTime()}`);
  return c;
}

const present = (v: string | null | undefined): v is string => v !== null && v !== undefined;

/** Conditions on `patients` for the patient-level part of a filter (no uploadedAt). */
function patientIdentity(f: PatientFilter): SQL[] {
  const c: SQL[] = [];
  if (present(f.patientId)) c.push(eq(patients.patientId, f.patientId.trim()));
  if (present(f.issuerOfPatientId)) c.push(eq(patients.issuer, f.issuerOfPatientId.trim()));
  return c;
}

/** `ref IN (patients whose names match)`; ref is patients.id or a patient_ref column. */
function patientNameIn(ref: AnyColumn, pattern: string): SQL {
  return sql`${ref} IN (SELECT ${patientNames.patientRef} FROM ${patientNames} WHERE ${wildcardCondition(patientNames.nameFolded, pattern)})`;
}

/** Conditions on a patient_ref column selecting the owner's patients a filter names. */
function patientRefConditions(owner: number, ref: AnyColumn, f: PatientFilter): SQL[] {
  const c: SQL[] = [];
  const identity = patientIdentity(f);
  if (identity.length > 0) c.push(sql`${ref} IN (SELECT ${patients.id} FROM ${patients} WHERE ${and(ownedBy(patients.ownerRef, owner), ...identity)})`);
  if (present(f.patientName)) c.push(patientNameIn(ref, f.patientName));
  return c;
}

/** Conditions on `studies` for the study-level attributes (and above) of a filter, without uploadedAt or owner. */
function studyAttributes(owner: number, f: StudyFilter, withModality: boolean): SQL[] {
  const c = patientRefConditions(owner, studies.patientRef, f);
  if (present(f.studyInstanceUid)) c.push(eq(studies.studyInstanceUid, f.studyInstanceUid.trim()));
  if (present(f.accessionNumber)) c.push(eq(studies.accessionNumber, f.accessionNumber.trim()));
  if (f.studyDate) c.push(...dateRange(studies.studyDate, f.studyDate));
  if (withModality && present(f.modality)) {
    // A probe per study (series_study_modality_idx), so the study order's index still drives the scan.
    c.push(sql`EXISTS (SELECT 1 FROM ${series} WHERE ${series.studyRef} = ${studies.id} AND ${eq(series.modality, f.modality.trim())})`);
  }
  return c;
}

/**
 * Whether a study-level filter names studies through an index of its own (UID, accession number,
 * the patients it names): that index drives the lookup, not the owner's date order.
 */
function studySelective(f: StudyFilter): boolean {
  return present(f.studyInstanceUid) || present(f.accessionNumber) || present(f.patientId) || present(f.issuerOfPatientId) || present(f.patientName);
}

/** The owner's studies with these attributes: the condition on `studies` of a study subquery. */
function ownedStudies(owner: number, f: StudyFilter, onStudies: SQL[]): SQL {
  return and(ownedBy(studies.ownerRef, owner, !studySelective(f)), ...onStudies) as SQL;
}

/** Conditions on a study_ref column selecting the studies a filter names (study level and above). */
function studyRefConditions(owner: number, ref: AnyColumn, f: StudyFilter): SQL[] {
  const onStudies = studyAttributes(owner, f, false);
  if (onStudies.length === 0) return [];
  // A patient-only filter is answered from the patient_ref column of the level itself.
  return [sql`${ref} IN (SELECT ${studies.id} FROM ${studies} WHERE ${ownedStudies(owner, f, onStudies)})`];
}

export function patientConditions(owner: number, f: PatientFilter): SQL[] {
  const identity = patientIdentity(f);
  const c = [ownedBy(patients.ownerRef, owner), ...identity];
  if (present(f.patientName)) c.push(patientNameIn(patients.id, f.patientName));
  if (f.uploadedAt) c.push(...instantRange(patients.lastUploadedAt, f.uploadedAt));
  return c;
}

/** `scoped`: the caller adds a condition naming one parent (its index drives the lookup then). */
export function studyConditions(owner: number, f: StudyFilter, scoped = false): SQL[] {
  const c = [ownedBy(studies.ownerRef, owner, !scoped && !studySelective(f)), ...studyAttributes(owner, f, true)];
  if (f.uploadedAt) c.push(...instantRange(studies.lastUploadedAt, f.uploadedAt));
  return c;
}

export function seriesConditions(owner: number, f: SeriesFilter, scoped = false): SQL[] {
  const parents = studyRefConditions(owner, series.studyRef, f);
  const c = [ownedBy(series.ownerRef, owner, !scoped && !present(f.seriesInstanceUid) && parents.length === 0), ...parents];
  if (present(f.seriesInstanceUid)) c.push(eq(series.seriesInstanceUid, f.seriesInstanceUid.trim()));
  if (present(f.modality)) c.push(eq(series.modality, f.modality.trim()));
  if (f.uploadedAt) c.push(...instantRange(series.lastUploadedAt, f.uploadedAt));
  return c;
}

/**
 * Ids of the catalog rows (patients, studies or series) matching `conditions`, or undefined when
 * there are more than `limit` of them.
 */
export type ParentLookup = (table: 'patients' | 'studies' | 'series', conditions: SQL[], limit: number) => number[] | undefined;

/**
 * Up to this many matching patients/studies/series are looked up first and named in the file
 * query (`ref IN (1, 2, 3)`), which then reads their files through the ref index and sorts them.
 * More than that, and the file query walks its sort index in order, testing each file against
 * the parent subquery: a broad filter matches densely, so a page fills quickly.
 */
export const PARENT_LOOKUP_LIMIT = 64;

const orderedWalks = new WeakSet<SQL>();
const isOrderedWalk = (condition: SQL) => orderedWalks.has(condition);

/** `ref IN (…)` for a parent filter: resolved ids when few, else an ordered scan filtered by subquery. */
function parentCondition(ref: AnyColumn, table: 'patients' | 'studies' | 'series', conditions: SQL[], lookup: ParentLookup | undefined): SQL {
  const ids = lookup?.(table, conditions, PARENT_LOOKUP_LIMIT);
  if (ids) return ids.length === 0 ? sql`0` : sql`${ref} IN (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`;
  const parent = table === 'patients' ? patients : table === 'studies' ? studies : series;
  // Unary + keeps SQLite from using the ref index (it would read every match, then sort).
  const walk = sql`+${ref} IN (SELECT ${parent.id} FROM ${parent} WHERE ${and(...conditions)})`;
  orderedWalks.add(walk);
  return walk;
}

/**
 * `scoped`: the caller adds `series_ref = ?` (one series' files). The owner condition is
 * indexable unless a parent condition or a SOP Instance UID names the rows through another index.
 */
export function fileConditions(owner: number, f: FileFilter, lookup?: ParentLookup, scoped = false): SQL[] {
  const c: SQL[] = [];
  const parents: SQL[] = [];
  const patientOnly = { patientId: f.patientId, issuerOfPatientId: f.issuerOfPatientId, patientName: f.patientName };
  const studyFilter = { ...patientOnly, studyInstanceUid: f.studyInstanceUid, accessionNumber: f.accessionNumber, studyDate: f.studyDate };
  const studyLevel = studyAttributes(owner, studyFilter, false);
  if (present(f.studyInstanceUid) || present(f.accessionNumber) || f.studyDate) {
    parents.push(parentCondition(dicomFiles.studyRef, 'studies', [ownedStudies(owner, studyFilter, studyLevel)], lookup));
  } else if (studyLevel.length > 0) {
    // Patient filters only: the owner's patients they name.
    const onPatients = [ownedBy(patients.ownerRef, owner), ...patientIdentity(patientOnly)];
    if (present(f.patientName)) onPatients.push(patientNameIn(patients.id, f.patientName));
    parents.push(parentCondition(dicomFiles.patientRef, 'patients', onPatients, lookup));
  }
  if (present(f.seriesInstanceUid)) {
    parents.push(
      parentCondition(dicomFiles.seriesRef, 'series', [ownedBy(series.ownerRef, owner, false), eq(series.seriesInstanceUid, f.seriesInstanceUid.trim())], lookup),
    );
  }
  // Resolved parent ids ("ref IN (1, 2)") drive the lookup through the ref indexes; an ordered
  // walk filtered by a parent subquery ("+ref IN (SELECT …)") seeks by owner instead.
  const namedParents = parents.some((p) => !isOrderedWalk(p));
  c.push(ownedBy(dicomFiles.ownerRef, owner, !scoped && !namedParents && !present(f.sopInstanceUid)));
  if (!f.includeAllVersions) c.push(eq(dicomFiles.isCurrent, true));
  c.push(...parents);
  if (present(f.modality)) c.push(eq(dicomFiles.modality, f.modality.trim()));
  if (present(f.sopClassUid)) c.push(eq(dicomFiles.sopClassUid, f.sopClassUid.trim()));
  if (present(f.sopInstanceUid)) c.push(eq(dicomFiles.sopInstanceUid, f.sopInstanceUid.trim()));
  if (f.uploadedAt) c.push(...instantRange(dicomFiles.uploadedAt, f.uploadedAt));
  return c;
}

/** Whether a file filter selects whole series (so the series counters can count it). */
export function selectsWholeSeries(f: FileFilter): boolean {
  return !f.includeAllVersions && !present(f.modality) && !present(f.sopClassUid) && !present(f.sopInstanceUid) && !f.uploadedAt;
}
