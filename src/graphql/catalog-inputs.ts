/**
 * Filter and order inputs of the catalog connections (patients, studies, series, dicomFiles and
 * their nested connections), and their translation to repository filters. Dates are checked
 * here, once: a malformed one is INVALID_ARGUMENT.
 */
import { normalizeDicomDate } from '../dicom/instance-summary.js';
import { InvalidArgumentError } from '../errors.js';
import type { DateRange, FileFilter, InstantRange, PatientFilter, SeriesFilter, SortDirection, StudyFilter } from '../storage/catalog-query.js';
import { FILE_ORDERINGS, PATIENT_ORDERINGS, SERIES_ORDERINGS, STUDY_ORDERINGS } from '../storage/catalog-query.js';
import { builder } from './builder.js';

export const SortDirectionEnum = builder.enumType('SortDirection', {
  values: { ASC: { description: 'Ascending (missing values first)' }, DESC: { description: 'Descending (missing values last)' } } as const,
});

const DateRangeInput = builder.inputType('DateRange', {
  description: 'Inclusive range of calendar dates, each "YYYYMMDD" (DICOM DA) or "YYYY-MM-DD"; either end may be left open. Objects without the date never match.',
  fields: (t) => ({
    from: t.string({ required: false }),
    to: t.string({ required: false }),
  }),
});

const DateTimeRangeInput = builder.inputType('DateTimeRange', {
  description: 'Half-open range of instants: from ≤ t < to; either end may be left open.',
  fields: (t) => ({
    from: t.field({ type: 'DateTime', required: false }),
    to: t.field({ type: 'DateTime', required: false }),
  }),
});

const WILDCARD = 'DICOM wildcard matching, case-insensitive: * matches any run of characters, ? exactly one.';

export const PatientFilterInput = builder.inputType('PatientFilter', {
  fields: (t) => ({
    patientId: t.string({ required: false, description: 'Exact Patient ID (0010,0020).' }),
    issuerOfPatientId: t.string({ required: false, description: 'Exact Issuer of Patient ID (0010,0021).' }),
    patientName: t.string({ required: false, description: `${WILDCARD} Matches any name the patient was seen with.` }),
    uploadedAt: t.field({ type: DateTimeRangeInput, required: false, description: 'lastUploadedAt in this range.' }),
  }),
});

export const StudyFilterInput = builder.inputType('StudyFilter', {
  fields: (t) => ({
    patientId: t.string({ required: false, description: 'Exact Patient ID (0010,0020).' }),
    issuerOfPatientId: t.string({ required: false, description: 'Exact Issuer of Patient ID (0010,0021).' }),
    patientName: t.string({ required: false, description: `${WILDCARD} Matches any name the patient was seen with.` }),
    modality: t.string({ required: false, description: 'Studies with a series of this modality (modalitiesInStudy contains it).' }),
    studyDate: t.field({ type: DateRangeInput, required: false }),
    accessionNumber: t.string({ required: false, description: 'Exact Accession Number (0008,0050).' }),
    studyInstanceUid: t.string({ required: false }),
    uploadedAt: t.field({ type: DateTimeRangeInput, required: false, description: 'lastUploadedAt in this range.' }),
  }),
});

export const SeriesFilterInput = builder.inputType('SeriesFilter', {
  fields: (t) => ({
    patientId: t.string({ required: false, description: 'Exact Patient ID (0010,0020).' }),
    issuerOfPatientId: t.string({ required: false, description: 'Exact Issuer of Patient ID (0010,0021).' }),
    patientName: t.string({ required: false, description: `${WILDCARD} Matches any name the patient was seen with.` }),
    modality: t.string({ required: false, description: 'The series modality.' }),
    studyDate: t.field({ type: DateRangeInput, required: false }),
    accessionNumber: t.string({ required: false }),
    studyInstanceUid: t.string({ required: false }),
    seriesInstanceUid: t.string({ required: false }),
    uploadedAt: t.field({ type: DateTimeRangeInput, required: false, description: 'lastUploadedAt in this range.' }),
  }),
});

export const DicomFileFilterInput = builder.inputType('DicomFileFilter', {
  fields: (t) => ({
    patientId: t.string({ required: false, description: 'Files of patients with this exact Patient ID.' }),
    issuerOfPatientId: t.string({ required: false }),
    patientName: t.string({ required: false, description: `${WILDCARD} Files of patients seen with a matching name.` }),
    modality: t.string({ required: false, description: "The file's own Modality (0008,0060)." }),
    studyDate: t.field({ type: DateRangeInput, required: false, description: 'Files of studies dated in this range.' }),
    accessionNumber: t.string({ required: false, description: 'Files of studies with this Accession Number.' }),
    studyInstanceUid: t.string({ required: false }),
    seriesInstanceUid: t.string({ required: false }),
    sopClassUid: t.string({ required: false }),
    sopInstanceUid: t.string({ required: false }),
    uploadedAt: t.field({ type: DateTimeRangeInput, required: false, description: 'uploadedAt in this range.' }),
    includeAllVersions: t.boolean({
      required: false,
      description: 'Also list versions replaced by a newer upload of the same instance (default: current versions only).',
    }),
  }),
});

function orderInput<F extends string>(name: string, fields: Record<F, string>, defaultText: string) {
  const fieldEnum = builder.enumType(`${name}Field`, {
    values: Object.fromEntries(Object.entries(fields).map(([k, description]) => [k, { description: description as string }])) as Record<F, { description: string }>,
  });
  return builder.inputType(name, {
    description: `Sort order; default ${defaultText}. Ties are broken by id, so every position is unique.`,
    fields: (t) => ({
      field: t.field({ type: fieldEnum, required: true }),
      direction: t.field({ type: SortDirectionEnum, required: true }),
    }),
  });
}

export const PatientOrderInput = orderInput(
  'PatientOrder',
  { PATIENT_NAME: 'Patient name (newest), case-insensitive', PATIENT_ID: 'Patient ID, then issuer', LAST_UPLOADED_AT: 'Latest upload of any of its files' } satisfies Record<keyof typeof PATIENT_ORDERINGS, string>,
  'PATIENT_NAME ASC',
);
export const StudyOrderInput = orderInput(
  'StudyOrder',
  { STUDY_DATE: 'Study date, then study time', LAST_UPLOADED_AT: 'Latest upload of any of its files' } satisfies Record<keyof typeof STUDY_ORDERINGS, string>,
  'STUDY_DATE DESC',
);
export const SeriesOrderInput = orderInput(
  'SeriesOrder',
  { SERIES_NUMBER: 'Series number', LAST_UPLOADED_AT: 'Latest upload of any of its files' } satisfies Record<keyof typeof SERIES_ORDERINGS, string>,
  'SERIES_NUMBER ASC within a study, LAST_UPLOADED_AT DESC for `series`',
);
export const DicomFileOrderInput = orderInput(
  'DicomFileOrder',
  { INSTANCE_NUMBER: 'Instance number', UPLOADED_AT: 'Upload time' } satisfies Record<keyof typeof FILE_ORDERINGS, string>,
  'INSTANCE_NUMBER ASC within a series, UPLOADED_AT DESC for `dicomFiles`',
);

interface Order<F> {
  field: F;
  direction: SortDirection;
}

/** The order asked for, else the default. */
export function orderOr<F>(given: Order<F> | null | undefined, fallback: Order<F>): Order<F> {
  return given ?? fallback;
}

function dateBound(name: string, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const text = value.trim();
  const compact = /^\d{8}$/.test(text) ? text : /^\d{4}-\d{2}-\d{2}$/.test(text) ? text.replaceAll('-', '') : null;
  const da = normalizeDicomDate(compact);
  if (!da) throw new InvalidArgumentError(`${name} must be a calendar date written YYYYMMDD or YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return da;
}

function dateRange(name: string, range: { from?: string | null; to?: string | null } | null | undefined): DateRange | null {
  if (!range) return null;
  return { from: dateBound(`${name}.from`, range.from), to: dateBound(`${name}.to`, range.to) };
}

function instantRange(range: { from?: Date | null; to?: Date | null } | null | undefined): InstantRange | null {
  return range ? { from: range.from ?? null, to: range.to ?? null } : null;
}

type Input<T> = { [K in keyof T]?: unknown } | null | undefined;

/** GraphQL filter input → repository filter (dates checked). */
export function patientFilter(input: Input<PatientFilter>): PatientFilter {
  const f = (input ?? {}) as PatientFilter & { uploadedAt?: { from?: Date | null; to?: Date | null } | null };
  return { patientId: f.patientId, issuerOfPatientId: f.issuerOfPatientId, patientName: f.patientName, uploadedAt: instantRange(f.uploadedAt) };
}

export function studyFilter(input: Input<StudyFilter>): StudyFilter {
  const f = (input ?? {}) as StudyFilter & { studyDate?: { from?: string | null; to?: string | null } | null };
  return {
    ...patientFilter(input),
    modality: f.modality,
    studyDate: dateRange('studyDate', f.studyDate),
    accessionNumber: f.accessionNumber,
    studyInstanceUid: f.studyInstanceUid,
  };
}

export function seriesFilter(input: Input<SeriesFilter>): SeriesFilter {
  const f = (input ?? {}) as SeriesFilter;
  return { ...studyFilter(input), seriesInstanceUid: f.seriesInstanceUid };
}

export function fileFilter(input: Input<FileFilter>): FileFilter {
  const f = (input ?? {}) as FileFilter;
  return { ...seriesFilter(input), sopClassUid: f.sopClassUid, sopInstanceUid: f.sopInstanceUid, includeAllVersions: f.includeAllVersions };
}
