/** The repository of stored DICOM files: the only place SQL about them lives. */
import { count, eq, inArray } from 'drizzle-orm';
import type { Db } from './db.js';
import { type DicomFileRow, dicomFiles, type NewDicomFileRow } from './schema.js';

export class DicomFileRepository {
  constructor(private readonly db: Db) {}

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
   * was already there (two concurrent uploads of the same bytes both end up with one row).
   */
  insertOrGetExisting(row: NewDicomFileRow): { file: DicomFileRow; duplicate: boolean } {
    const inserted = this.db.insert(dicomFiles).values(row).onConflictDoNothing({ target: dicomFiles.sha256 }).returning().get();
    if (inserted) return { file: inserted, duplicate: false };
    const existing = this.findBySha256(row.sha256);
    if (!existing) throw new Error('row vanished between insert and select');
    return { file: existing, duplicate: true };
  }

  count(): number {
    return this.db.select({ n: count() }).from(dicomFiles).get()?.n ?? 0;
  }
}
