/**
 * Upgrading an install that stored files before the catalog existed: the migration adds the
 * catalog tables and columns (empty), and this re-reads each such file's header (the bytes before
 * Pixel Data only) to index the new attributes and place the file in the catalog. Rows go oldest
 * first, so the newest upload of an instance ends up its current version, as if uploaded today.
 * It runs once per row: a placed row is never selected again, so calling it at every start is
 * free once done. Rows keep their owner (owner_ref; rows from before accounts belong to the
 * local user, the column's default) and are placed in that owner's catalog tree.
 */
import { BufferByteSource } from '../dicom/byte-source.js';
import { parseHeader } from '../dicom/header.js';
import { summarizeInstance } from '../dicom/instance-summary.js';
import type { BlobStore } from './blob-store.js';
import type { CatalogMaintenance } from './catalog.js';

export interface BackfillReport {
  /** Rows placed in the catalog. */
  readonly placed: number;
  /** Of those, rows whose blob could not be read again: placed with the attributes the row had. */
  readonly unreadable: number;
}

export async function backfillCatalog(
  catalog: Pick<CatalogMaintenance, 'uncataloguedFiles' | 'placeExisting'>,
  blobs: Pick<BlobStore, 'readPrefix'>,
  onUnreadable: (fileId: string, err: unknown) => void = () => {},
): Promise<BackfillReport> {
  let placed = 0;
  let unreadable = 0;
  for (;;) {
    const batch = catalog.uncataloguedFiles(200);
    if (batch.length === 0) return { placed, unreadable };
    for (const row of batch) {
      let summary: Partial<ReturnType<typeof summarizeInstance>> = {};
      try {
        const prefix = await blobs.readPrefix(row.sha256, row.headerEnd);
        summary = summarizeInstance(parseHeader(new BufferByteSource(prefix)).dataset, row.hasPixelData);
      } catch (err) {
        unreadable++;
        onUnreadable(row.id, err);
      }
      catalog.placeExisting(row.id, summary);
      placed++;
    }
  }
}
