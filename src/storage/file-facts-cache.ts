/**
 * The immutable facts of stored files that the companion routes (image, download, bulk data)
 * need, kept in memory per process: a stored file's bytes never change, so neither do its
 * content hash, name, size and image geometry. A cache hit answers without SQL; a miss runs one
 * statement prepared once (id + owner).
 *
 * Correctness:
 * - Owner scoping: an entry remembers its owner; a lookup by another owner is a miss and goes to
 *   the database with that owner's id, which finds nothing (exactly like a missing id). Misses
 *   are never cached (a negative answer could go stale on upload).
 * - Deletes: the owner-scoped catalog repository (src/storage/catalog.ts) evicts the ids of every
 *   row it deletes, in the delete call itself (DicomFileRepository wires it): no delete path can
 *   forget it. Lookups and deletes run synchronously on the one event loop, so no lookup can slip
 *   a stale row back between a delete's statement and its eviction.
 * - Bounded: least recently used entries go first beyond `maxEntries`.
 */
import { and, eq, sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Db } from './db.js';
import { type DicomFileRow, dicomFiles } from './schema.js';

/** What never changes for a file id (the columns the companion routes read). */
export type FileFacts = Pick<
  DicomFileRow,
  | 'id'
  | 'ownerRef'
  | 'sha256'
  | 'filename'
  | 'byteSize'
  | 'rows'
  | 'columns'
  | 'numberOfFrames'
  | 'hasPixelData'
  | 'pixelDataVr'
  | 'pixelDataLength'
  | 'pixelDataEncapsulated'
  | 'headerEnd'
>;

export const DEFAULT_FILE_FACTS_ENTRIES = 10_000;

/**
 * A bounded LRU map id → facts: lru-cache, whose hits do not touch its Map (a Map used as an LRU by
 * deleting and re-inserting the key on each hit grows that key's hash chain with deleted entries
 * until the next rehash: measured on Node 20, 4.6 µs per hit at 4,000 entries, 25 µs at 10,000).
 */
export class FileFactsCache {
  private readonly entries: LRUCache<string, FileFacts> | undefined;

  constructor(readonly maxEntries: number = DEFAULT_FILE_FACTS_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError(`maxEntries must be an integer ≥ 0, got ${maxEntries}`);
    this.entries = maxEntries > 0 ? new LRUCache({ max: maxEntries }) : undefined;
  }

  /** The owner's file facts, or undefined (not cached, or another owner's). */
  get(owner: number, id: string): FileFacts | undefined {
    const hit = this.entries?.get(id);
    return hit !== undefined && hit.ownerRef === owner ? hit : undefined;
  }

  set(facts: FileFacts): void {
    this.entries?.set(facts.id, facts);
  }

  evict(ids: Iterable<string>): void {
    if (!this.entries) return;
    for (const id of ids) this.entries.delete(id);
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}

/** Looks facts up: the cache, else one prepared statement (id + owner). */
export class FileFactsLookup {
  private statement: ReturnType<typeof prepareFactsStatement> | undefined;

  constructor(
    private readonly db: Db,
    readonly cache: FileFactsCache,
  ) {}

  find(owner: number, id: string): FileFacts | undefined {
    const hit = this.cache.get(owner, id);
    if (hit) return hit;
    this.statement ??= prepareFactsStatement(this.db);
    const row = this.statement.get({ id, owner });
    if (!row) return undefined;
    const facts: FileFacts = Object.freeze({ ...row });
    this.cache.set(facts);
    return facts;
  }
}

function prepareFactsStatement(db: Db) {
  return db
    .select({
      id: dicomFiles.id,
      ownerRef: dicomFiles.ownerRef,
      sha256: dicomFiles.sha256,
      filename: dicomFiles.filename,
      byteSize: dicomFiles.byteSize,
      rows: dicomFiles.rows,
      columns: dicomFiles.columns,
      numberOfFrames: dicomFiles.numberOfFrames,
      hasPixelData: dicomFiles.hasPixelData,
      pixelDataVr: dicomFiles.pixelDataVr,
      pixelDataLength: dicomFiles.pixelDataLength,
      pixelDataEncapsulated: dicomFiles.pixelDataEncapsulated,
      headerEnd: dicomFiles.headerEnd,
    })
    .from(dicomFiles)
    .where(and(eq(dicomFiles.id, sql.placeholder('id')), eq(dicomFiles.ownerRef, sql.placeholder('owner'))))
    .prepare();
}
