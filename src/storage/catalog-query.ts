/**
 * Keyset (seek) pagination over the catalog tables. A cursor is the position of a row in an
 * ordering: the values of the sort key and the row id (which makes every key unique), so a page
 * is `WHERE (key, id) > (cursor) ORDER BY key, id LIMIT n` — an index range scan that costs the
 * same on page 1 and page 5000 (OFFSET would read and skip every earlier row).
 *
 * Cursors are opaque to clients: base64url of JSON `[ordering, ...key values, id]`. The ordering
 * name is checked on the way back in, so a cursor from another connection or orderBy field is an
 * INVALID_CURSOR error rather than a silently wrong page. The direction is not part of it: a
 * position means the same thing read forwards or backwards.
 */
import { type AnyColumn, and, asc, desc, or, type SQL, sql } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import { InvalidArgumentError, InvalidCursorError } from '../errors.js';
import type { Db } from './db.js';
import { dicomFiles, patients, series, studies } from './schema.js';

export type SortDirection = 'ASC' | 'DESC';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface CatalogEdge<T> {
  readonly cursor: string;
  readonly node: T;
}

export interface CatalogPage<T> {
  readonly edges: readonly CatalogEdge<T>[];
  readonly hasNextPage: boolean;
  readonly hasPreviousPage: boolean;
  /** Rows matching the filter (all pages); computed on first call. */
  totalCount(): number;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 500;

/** Inclusive range of DA dates, "YYYYMMDD". */
export interface DateRange {
  from?: string | null;
  to?: string | null;
}

/** Half-open range of instants: from ≤ t < to. */
export interface InstantRange {
  from?: Date | null;
  to?: Date | null;
}

export interface PatientFilter {
  /** Exact PatientID (0010,0020). */
  patientId?: string | null;
  issuerOfPatientId?: string | null;
  /** DICOM wildcard (* any run, ? one character), case-insensitive, against every name the patient has. */
  patientName?: string | null;
  /** Patients: lastUploadedAt in range; studies and series likewise their own; files: uploadedAt. */
  uploadedAt?: InstantRange | null;
}

export interface StudyFilter extends PatientFilter {
  /** Studies: having a series of this modality; series: their modality; files: their own (0008,0060). */
  modality?: string | null;
  studyDate?: DateRange | null;
  accessionNumber?: string | null;
  studyInstanceUid?: string | null;
}

export interface SeriesFilter extends StudyFilter {
  seriesInstanceUid?: string | null;
}

export interface FileFilter extends SeriesFilter {
  sopClassUid?: string | null;
  sopInstanceUid?: string | null;
  /** Also list versions that a newer upload of the same instance replaced (default: current only). */
  includeAllVersions?: boolean | null;
}

interface SortPart {
  /** Key of the value in a selected row. */
  readonly key: string;
  readonly column: AnyColumn;
  readonly kind: 'text' | 'int' | 'time';
}

/** An ordering: sort-key columns, then the id. Only a single-column key may be nullable. */
export interface Ordering {
  readonly name: string;
  readonly parts: readonly SortPart[];
  readonly nullable: boolean;
  readonly id: SortPart;
}

const part = (key: string, column: AnyColumn, kind: SortPart['kind']): SortPart => ({ key, column, kind });
const patientId = part('id', patients.id, 'int');
const studyId = part('id', studies.id, 'int');
const seriesId = part('id', series.id, 'int');
const fileId = part('id', dicomFiles.id, 'text');

export const PATIENT_ORDERINGS = {
  PATIENT_NAME: { name: 'Patient.name', parts: [part('patientNameSort', patients.patientNameSort, 'text')], nullable: false, id: patientId },
  PATIENT_ID: {
    name: 'Patient.patientId',
    parts: [part('patientId', patients.patientId, 'text'), part('issuer', patients.issuer, 'text'), part('unknownScope', patients.unknownScope, 'text')],
    nullable: false,
    id: patientId,
  },
  LAST_UPLOADED_AT: { name: 'Patient.lastUploadedAt', parts: [part('lastUploadedAt', patients.lastUploadedAt, 'time')], nullable: false, id: patientId },
} as const satisfies Record<string, Ordering>;

export const STUDY_ORDERINGS = {
  STUDY_DATE: {
    name: 'Study.date',
    parts: [part('studyDate', studies.studyDate, 'text'), part('studyTime', studies.studyTime, 'text')],
    nullable: false,
    id: studyId,
  },
  LAST_UPLOADED_AT: { name: 'Study.lastUploadedAt', parts: [part('lastUploadedAt', studies.lastUploadedAt, 'time')], nullable: false, id: studyId },
} as const satisfies Record<string, Ordering>;

export const SERIES_ORDERINGS = {
  SERIES_NUMBER: { name: 'Series.number', parts: [part('seriesNumber', series.seriesNumber, 'int')], nullable: true, id: seriesId },
  LAST_UPLOADED_AT: { name: 'Series.lastUploadedAt', parts: [part('lastUploadedAt', series.lastUploadedAt, 'time')], nullable: false, id: seriesId },
} as const satisfies Record<string, Ordering>;

export const FILE_ORDERINGS = {
  INSTANCE_NUMBER: { name: 'DicomFile.instanceNumber', parts: [part('instanceNumber', dicomFiles.instanceNumber, 'int')], nullable: true, id: fileId },
  UPLOADED_AT: { name: 'DicomFile.uploadedAt', parts: [part('uploadedAt', dicomFiles.uploadedAt, 'time')], nullable: false, id: fileId },
} as const satisfies Record<string, Ordering>;

export interface Order<F extends string> {
  readonly field: F;
  readonly direction: SortDirection;
}
export type PatientOrder = Order<keyof typeof PATIENT_ORDERINGS>;
export type StudyOrder = Order<keyof typeof STUDY_ORDERINGS>;
export type SeriesOrder = Order<keyof typeof SERIES_ORDERINGS>;
export type FileOrder = Order<keyof typeof FILE_ORDERINGS>;

type KeyValue = string | number | null;

/** The position of `row` in `ordering`, as an opaque cursor. */
export function encodeCursor(ordering: Ordering, row: Record<string, unknown>): string {
  const raw = (p: SortPart): KeyValue => {
    const v = row[p.key];
    if (v instanceof Date) return v.getTime();
    return (v ?? null) as KeyValue;
  };
  return Buffer.from(JSON.stringify([ordering.name, ...ordering.parts.map(raw), raw(ordering.id)])).toString('base64url');
}

/** The key values and id a cursor holds; InvalidCursorError unless it was made for `ordering`. */
export function decodeCursor(ordering: Ordering, cursor: string): { values: KeyValue[]; id: string | number } {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor of this API');
  }
  if (!Array.isArray(parsed) || parsed.length !== ordering.parts.length + 2) throw new InvalidCursorError('not a cursor of this API');
  if (parsed[0] !== ordering.name) {
    throw new InvalidCursorError(`it was made for the ordering ${JSON.stringify(parsed[0])}, this connection is ordered by ${JSON.stringify(ordering.name)}`);
  }
  const fits = (p: SortPart, v: unknown, nullable: boolean): boolean =>
    (v === null && nullable) || (p.kind === 'text' ? typeof v === 'string' : Number.isSafeInteger(v));
  const values = parsed.slice(1, -1) as KeyValue[];
  const id = parsed.at(-1) as string | number;
  if (!ordering.parts.every((p, i) => fits(p, values[i], ordering.nullable)) || !fits(ordering.id, id, false)) {
    throw new InvalidCursorError('its values do not fit the ordering');
  }
  return { values, id };
}

/**
 * Rows strictly after the cursor position when read in `direction` (SQLite order: NULLs first
 * ascending, last descending). Non-null keys compare as one row value, which SQLite turns into
 * an index range; a nullable key (series/instance number, scoped to one study/series) adds the
 * NULL segment explicitly.
 */
function afterCondition(ordering: Ordering, direction: SortDirection, cursor: { values: KeyValue[]; id: string | number }): SQL {
  const cols = [...ordering.parts.map((p) => p.column), ordering.id.column];
  const op = direction === 'ASC' ? sql.raw('>') : sql.raw('<');
  const rowValue = (items: SQL[]) => sql`(${sql.join(items, sql`, `)})`;
  if (!ordering.nullable || cursor.values.every((v) => v !== null)) {
    const cmp = sql`${rowValue(cols.map((c) => sql`${c}`))} ${op} ${rowValue([...cursor.values, cursor.id].map((v) => sql`${v}`))}`;
    if (!ordering.nullable) return cmp;
    const col = ordering.parts[0]!.column;
    return direction === 'ASC' ? cmp : (or(cmp, sql`${col} IS NULL`) as SQL);
  }
  const col = ordering.parts[0]!.column;
  const idCol = ordering.id.column;
  const nullSegment = sql`${col} IS NULL AND ${idCol} ${op} ${cursor.id}`;
  return direction === 'ASC' ? (or(sql`(${nullSegment})`, sql`${col} IS NOT NULL`) as SQL) : nullSegment;
}

const flip = (d: SortDirection): SortDirection => (d === 'ASC' ? 'DESC' : 'ASC');

function orderBy(ordering: Ordering, direction: SortDirection): SQL[] {
  const by = direction === 'ASC' ? asc : desc;
  return [...ordering.parts.map((p) => by(p.column)), by(ordering.id.column)];
}

function pageSize(name: 'first' | 'last', value: number | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw new InvalidArgumentError(`${name} must be between 0 and ${MAX_PAGE_SIZE}, got ${value}`);
  }
  return value;
}

/**
 * One page of `table` rows matching `conditions`, in `ordering`/`direction`, per Relay's
 * first/after (forwards) or last/before (backwards). Both cursors may be given: the page lies
 * between them. hasPreviousPage (forwards) and hasNextPage (backwards) are exact: one LIMIT 1
 * probe on the other side of the cursor.
 */
export function keysetPage<T extends Record<string, unknown>>(
  db: Db,
  table: SQLiteTable,
  conditions: readonly SQL[],
  ordering: Ordering,
  direction: SortDirection,
  args: PageArgs,
  totalCount: () => number,
): CatalogPage<T> {
  const first = pageSize('first', args.first);
  const last = pageSize('last', args.last);
  if (first !== undefined && last !== undefined) throw new InvalidArgumentError('Give first (with after) or last (with before), not both');
  const after = args.after != null ? decodeCursor(ordering, args.after) : undefined;
  const before = args.before != null ? decodeCursor(ordering, args.before) : undefined;
  const backwards = last !== undefined || (first === undefined && before !== undefined && after === undefined);
  const size = (backwards ? last : first) ?? DEFAULT_PAGE_SIZE;

  const where: SQL[] = [...conditions];
  if (after) where.push(afterCondition(ordering, direction, after));
  if (before) where.push(afterCondition(ordering, flip(direction), before));
  const readDirection = backwards ? flip(direction) : direction;
  const rows = (db
    .select()
    .from(table)
    .where(and(...where))
    .orderBy(...orderBy(ordering, readDirection))
    .limit(size + 1)
    .all() as T[]);
  const more = rows.length > size;
  const nodes = rows.slice(0, size);
  if (backwards) nodes.reverse();

  /** Is there a row at or beyond `cursor` when reading in `dir` from it? */
  const anyBeyond = (cursor: { values: KeyValue[]; id: string | number }, dir: SortDirection): boolean => {
    const atOrBeyond = or(afterCondition(ordering, dir, cursor), sql`${ordering.id.column} = ${cursor.id}`);
    return db.select({ one: sql`1` }).from(table).where(and(...conditions, atOrBeyond)).limit(1).all().length > 0;
  };
  let count: number | undefined;
  return {
    edges: nodes.map((node) => ({ node, cursor: encodeCursor(ordering, node) })),
    hasNextPage: backwards ? (before ? anyBeyond(before, direction) : false) : more,
    hasPreviousPage: backwards ? more : after ? anyBeyond(after, flip(direction)) : false,
    totalCount: () => (count ??= totalCount()),
  };
}
