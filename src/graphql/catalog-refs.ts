/**
 * The catalog's GraphQL object refs and connection types, declared apart from their
 * implementations (patient.ts, study.ts, series.ts) so that the type files can name each other.
 */
import type { CatalogPage } from '../storage/catalog-query.js';
import type { PatientRow, SeriesRow, StudyRow } from '../storage/schema.js';
import { builder } from './builder.js';
import { DicomFileRef } from './dicom-file.js';

export const PatientRef = builder.objectRef<PatientRow>('Patient');
export const StudyRef = builder.objectRef<StudyRow>('Study');
export const SeriesRef = builder.objectRef<SeriesRow>('Series');

/** What a catalog connection field resolves to: Relay's shape plus a lazy totalCount. */
export interface CatalogConnection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => number;
}

export function toConnection<T>(page: CatalogPage<T>): CatalogConnection<T> {
  const edges = [...page.edges];
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: page.totalCount,
  };
}

const connectionDescription = (what: string) =>
  `A page of ${what} (Relay cursor connection; keyset pagination: any page costs the same).`;

const totalCount = (what: string) => ({
  description: `How many ${what} match, over all pages.`,
  resolve: (parent: object) => (parent as CatalogConnection<unknown>).totalCount(),
});

export const PatientConnection = builder.connectionObject({
  type: PatientRef,
  name: 'PatientConnection',
  description: connectionDescription('patients'),
  fields: (t) => ({ totalCount: t.int(totalCount('patients')) }),
});
export const StudyConnection = builder.connectionObject({
  type: StudyRef,
  name: 'StudyConnection',
  description: connectionDescription('studies'),
  fields: (t) => ({ totalCount: t.int(totalCount('studies')) }),
});
export const SeriesConnection = builder.connectionObject({
  type: SeriesRef,
  name: 'SeriesConnection',
  description: connectionDescription('series'),
  fields: (t) => ({ totalCount: t.int(totalCount('series')) }),
});
export const DicomFileConnection = builder.connectionObject({
  type: DicomFileRef,
  name: 'DicomFileConnection',
  description: connectionDescription('files'),
  fields: (t) => ({ totalCount: t.int(totalCount('files')) }),
});

/** '' (absent in the catalog key) → null. */
export const orNull = (v: string | null | undefined): string | null => (v ? v : null);

/** A Relay global id's local part as a catalog row id, or undefined when it is not one. */
export function rowId(id: string | number): number | undefined {
  const n = typeof id === 'number' ? id : /^[1-9]\d{0,15}$/.test(id) ? Number(id) : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
