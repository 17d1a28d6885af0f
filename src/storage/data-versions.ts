/**
 * A per-owner counter of committed data writes (a file row inserted, files deleted), kept in
 * memory. Caches of answers about an owner's data (src/http/graphql-answer-cache.ts) remember the
 * version they were computed at; a later write bumps it, so an older entry no longer matches.
 *
 * Bumped by the storage layer right after the write's transaction returns (committed), which is
 * before the request that wrote can answer. Process-local: a restart empties the caches too.
 */
export class DataVersions {
  private readonly versions = new Map<number, number>();
  /** One counter for all bumps: a version is never handed out twice. */
  private last = 0;
  /** Every owner's version is at least this (bumpAll). */
  private floor = 0;

  /** The owner's current version (0 until a write in this process). */
  of(owner: number): number {
    return Math.max(this.versions.get(owner) ?? 0, this.floor);
  }

  /** After a committed write of `owner`'s data. */
  bump(owner: number): void {
    this.versions.set(owner, ++this.last);
  }

  /** After a committed write that may touch any owner's data (maintenance). */
  bumpAll(): void {
    this.floor = ++this.last;
  }
}
