/** The repository of stored DICOM files: the only place SQL about them lives (with catalog.ts). */
import { count, eq, inArray } from 'drizzle-orm';
import { CatalogRepository } from './catalog.js';
import type { Db } from './db.js';
import { type DicomFileRow, dicomFiles, type NewDicomFileRow } from './schema.js';

export class DicomFileRepository {
  /** Patients, studies, series: listings, deletes (src/storage/catalog.ts). */
  readonly catalog: CatalogRepository;

  constructor(private readonly db: Db) {
    this.catalog = new CatalogRepository(db);
  }

  findById(id: string): DicomFileRow | undefined {
    return this.db.select().from(dicomFiles).where(eq(dicomFiles.id, id)).get();
  }

  findByIds(ids: readonly string[]): DicomFileRow[] {
    if (ids.length === 0) return [];
    return this.db.select().from(dicomFiles).where(inArray(dicomFiles.id, [...ids])).all();
  }

  findBySha256(sha256: string): DicomFileRow | undefined {
    return this.db.select().from(dicomFiles).where(eq(dicomFiles.sha256, sha256)).get();
  }

  /**
   * Inserts the row unless one with the same bytes exists; returns the stored row and whether it
   * was already there (two concurrent uploads of the same bytes both end up with one row). The
   * new row is placed in the catalog (patient, study, series, current version) in the same
   * transaction.
   */
  insertOrGetExisting(row: NewDicomFileRow): { file: DicomFileRow; duplicate: boolean } {
    return this.catalog.insertFile(row);
  }

  count(): number {
    return this.db.select({ n: count() }).from(dicomFiles).get()?.n ?? 0;
  }
}
