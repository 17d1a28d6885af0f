/**
 * The repository of stored DICOM files: the only place SQL about them lives (with catalog.ts).
 *
 * Every file has an owner (users.id). `new DicomFileRepository(db)` is the process-wide root: it
 * only hands out owner-scoped views (`forOwner(userId)`, one per request) and holds what spans
 * owners — catalog maintenance (backfill, counters, consistency) and whether any owner still
 * names a blob. A scoped view reads, counts, lists, pages and deletes only its owner's rows, and
 * inserts rows as its owner's: another owner's id answers exactly like a missing one.
 */
import { and, count, eq, inArray } from 'drizzle-orm';
import { CatalogMaintenance, CatalogRepository } from './catalog.js';
import { CommitQueue } from './commit-queue.js';
import { walSyncFor } from './wal-sync.js';
import { DataVersions } from './data-versions.js';
import type { Db } from './db.js';
import { type FileFacts, FileFactsCache, FileFactsLookup } from './file-facts-cache.js';
import { type DicomFileRow, dicomFiles, type NewDicomFileRow } from './schema.js';

export class DicomFileRepository {
  /** Maintenance across owners: backfill, repairCounters, checkConsistency (src/storage/catalog.ts). */
  readonly catalog: CatalogMaintenance;
  /** Immutable facts of files for the companion routes (src/storage/file-facts-cache.ts); every owner's deletes evict from it. */
  private readonly facts: FileFactsLookup;
  /** Group commit of new file rows: one write transaction (one WAL sync, off the event loop) for the uploads ready together. */
  readonly commits: CommitQueue;
  /** Per-owner version of the stored data, bumped after committed inserts, deletes and catalog maintenance (answer caches compare it). */
  readonly versions = new DataVersions();

  constructor(
    private readonly db: Db,
    options: { factsCacheEntries?: number } = {},
  ) {
    this.catalog = new CatalogMaintenance(db, this.versions);
    this.facts = new FileFactsLookup(db, new FileFactsCache(options.factsCacheEntries));
    this.commits = new CommitQueue(db.$client);
  }

  /** The files and catalog of one user (cheap: make one per request). */
  forOwner(owner: number): OwnerFileRepository {
    return new OwnerFileRepository(this.db, owner, this.facts, this.commits, this.versions);
  }

  /** Entries in the file facts cache (tests, monitoring). */
  factsCacheSize(): number {
    return this.facts.cache.size;
  }

  /**
   * Whether a row of ANY owner names the blob (dicom_files_sha256_idx): a delete keeps a blob
   * another owner still stores.
   */
  isBlobReferenced(sha256: string): boolean {
    return this.db.select({ id: dicomFiles.id }).from(dicomFiles).where(eq(dicomFiles.sha256, sha256)).limit(1).get() !== undefined;
  }

  /**
   * Resolves once every transaction committed so far is on disk (the WAL sync, wal-sync.ts):
   * await it before acknowledging a write made outside the group commit (deletes).
   */
  durable(): Promise<void> {
    return walSyncFor(this.db.$client).durable();
  }

  /** Rows of every owner (maintenance, tests). */
  countAll(): number {
    return this.db.select({ n: count() }).from(dicomFiles).get()?.n ?? 0;
  }
}

/** One owner's stored files: DicomFileRepository.forOwner(userId). */
export class OwnerFileRepository {
  /** Patients, studies, series of this owner: listings, deletes (src/storage/catalog.ts). */
  readonly catalog: CatalogRepository;

  constructor(
    private readonly db: Db,
    /** users.id whose files this repository sees and stores. */
    readonly owner: number,
    private readonly facts: FileFactsLookup = new FileFactsLookup(db, new FileFactsCache(0)),
    private readonly commits: CommitQueue = new CommitQueue(db.$client),
    versions?: DataVersions,
  ) {
    // The catalog's deletes evict the deleted ids from the facts cache (see file-facts-cache.ts)
    // and bump the owner's data version (answer caches), as do its inserts.
    this.catalog = new CatalogRepository(db, owner, (ids) => facts.cache.evict(ids), versions);
  }

  /**
   * The immutable facts of the owner's file (memory after the first lookup; another owner's id is
   * not found): what the image, download and bulk data routes need.
   */
  findFacts(id: string): FileFacts | undefined {
    return this.facts.find(this.owner, id);
  }

  findById(id: string): DicomFileRow | undefined {
    return this.catalog.file(id);
  }

  findByIds(ids: readonly string[]): DicomFileRow[] {
    if (ids.length === 0) return [];
    return this.db
      .select()
      .from(dicomFiles)
      .where(and(inArray(dicomFiles.id, [...ids]), eq(dicomFiles.ownerRef, this.owner)))
      .all();
  }

  /** The owner's copy of these bytes (another owner's copy is not found). */
  findBySha256(sha256: string): DicomFileRow | undefined {
    return this.catalog.fileBySha256(sha256);
  }

  /**
   * Inserts the row as the owner's unless the owner already stored the same bytes; returns the
   * stored row and whether it was already there (two concurrent uploads of the same bytes by one
   * owner both end up with one row; two owners get a row each). The new row is placed in the
   * owner's catalog (patient, study, series, current version) in the same transaction.
   */
  insertOrGetExisting(row: Omit<NewDicomFileRow, 'ownerRef'>): { file: DicomFileRow; duplicate: boolean } {
    return this.catalog.insertFile(row);
  }

  /**
   * insertOrGetExisting in the next group transaction (CommitQueue): resolves once the transaction
   * holding the row has committed and its WAL is on disk (the row is durable), rejects when this
   * row's insert failed (the other rows of the group are unaffected), the COMMIT or the WAL sync failed.
   */
  insertDurably(row: Omit<NewDicomFileRow, 'ownerRef'>): Promise<{ file: DicomFileRow; duplicate: boolean }> {
    return this.commits.commit(() => this.catalog.insertFile(row));
  }

  /** The owner's stored files (all versions). */
  count(): number {
    return this.db.select({ n: count() }).from(dicomFiles).where(eq(dicomFiles.ownerRef, this.owner)).get()?.n ?? 0;
  }
}
