/**
 * The startup check (README "Crash safety"): run by createApp before the server listens, so no
 * upload or delete can race with it. It brings DATA_DIR back to the invariant "every row names a
 * whole blob, every blob is named by a row, nothing in tmp/":
 *
 * - temp files (an upload or ZIP archive cut off by a crash): removed;
 * - orphan blobs, i.e. blobs no row names (a crash between the blob's rename and its row insert,
 *   or between a delete's row removal and its unlink): removed. Such an upload was never
 *   acknowledged (the row is written before the mutation answers), so nothing promised is lost;
 * - rows whose blob is missing: cannot come from a crash (the blob is fsynced and renamed before
 *   the row is written), only from outside interference (a blob deleted by hand, a restored
 *   database without its blobs). They are NOT deleted: the row is the only record of what was
 *   stored, and deleting it would silently lose data. They are reported loudly (ids and sha256
 *   prefixes, no patient data) and left for an operator; their download/image routes fail;
 * - catalog counters (checkConsistency()): a crash cannot leave them wrong (each change is one
 *   SQLite transaction with its rows), so this is a belt-and-braces check; when it finds problems
 *   the counters are recomputed from the rows (repairCounters()) and what remains is reported.
 *
 * The blob scan is a merge per prefix folder (blobs/ab/cd): one streamed directory listing and
 * one indexed range query per folder, so memory stays bounded by the largest folder. Several
 * rows may name one blob (the same bytes stored by several owners): a blob is an orphan when no
 * row of any owner names it, and a row is without blob only when its blob is not on disk.
 */
import { opendir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from './db.js';
import type { CatalogMaintenance } from './catalog.js';
import type { LocalBlobStore } from './local-blob-store.js';

export interface RepairReport {
  /** Files removed from DATA_DIR/tmp. */
  readonly tempFilesRemoved: number;
  /** Blobs no row referred to, removed. */
  readonly orphanBlobsRemoved: number;
  /** First 12 hex digits of each removed orphan's sha256 (at most 20 listed). */
  readonly orphanBlobPrefixes: readonly string[];
  /** Rows whose blob is missing: kept, reported (file ids, at most 100 listed; see rowsWithoutBlobCount). */
  readonly rowsWithoutBlob: readonly string[];
  readonly rowsWithoutBlobCount: number;
  /** Catalog discrepancies fixed by recomputing the counters. */
  readonly counterRepairs: number;
  /** Catalog discrepancies left after the repair (should be []). */
  readonly catalogProblems: readonly string[];
  /** How long the whole check took, in milliseconds. */
  readonly durationMs: number;
}

export interface RepairTarget {
  readonly dataDir: string;
  /** Owns DATA_DIR/tmp: its sweep removes what a crash left there. */
  readonly blobs: Pick<LocalBlobStore, 'sweepTemp'>;
  readonly db: Db;
  readonly catalog: Pick<CatalogMaintenance, 'checkConsistency' | 'repairCounters'>;
}

const SHA256 = /^[0-9a-f]{64}$/;
const HEX2 = /^[0-9a-f]{2}$/;
const LIST_LIMIT = 100;
const PREFIX_LIST_LIMIT = 20;

export async function repairDataDir(target: RepairTarget): Promise<RepairReport> {
  const started = Date.now();
  const tempFilesRemoved = await target.blobs.sweepTemp();
  const client = target.db.$client;
  const rowsInRange = client.prepare<[string, string], { id: string; sha256: string }>(
    'SELECT id, sha256 FROM dicom_files WHERE sha256 >= ? AND sha256 < ? ORDER BY sha256',
  );

  let orphanBlobsRemoved = 0;
  const orphanBlobPrefixes: string[] = [];
  const rowsWithoutBlob: string[] = [];
  let rowsWithoutBlobCount = 0;
  const missing = (id: string) => {
    rowsWithoutBlobCount += 1;
    if (rowsWithoutBlob.length < LIST_LIMIT) rowsWithoutBlob.push(id);
  };

  const blobDir = join(target.dataDir, 'blobs');
  const visited = new Set<string>();
  for (const top of await hexDirs(blobDir)) {
    for (const sub of await hexDirs(join(blobDir, top))) {
      const prefix = top + sub;
      visited.add(prefix);
      const dir = join(blobDir, top, sub);
      const onDisk = new Set<string>();
      // Streamed listing: a huge folder is not read into one array of dirents.
      for await (const entry of await opendir(dir)) {
        if (entry.isFile() && SHA256.test(entry.name) && entry.name.startsWith(prefix)) onDisk.add(entry.name);
      }
      // prefix + 'g' sorts after every 64-digit hex string starting with prefix.
      const named = new Set<string>();
      for (const row of rowsInRange.iterate(prefix, `${prefix}g`)) {
        if (onDisk.has(row.sha256)) named.add(row.sha256);
        else missing(row.id);
      }
      for (const sha256 of onDisk) {
        if (named.has(sha256)) continue;
        await unlink(join(dir, sha256)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        orphanBlobsRemoved += 1;
        if (orphanBlobPrefixes.length < PREFIX_LIST_LIMIT) orphanBlobPrefixes.push(sha256.slice(0, 12));
      }
    }
  }
  // Rows whose whole prefix folder is missing were not seen above.
  const prefixes = client.prepare<[], { p: string }>('SELECT DISTINCT substr(sha256, 1, 4) AS p FROM dicom_files').all();
  for (const { p } of prefixes) {
    if (visited.has(p)) continue;
    for (const row of rowsInRange.iterate(p, `${p}g`)) missing(row.id);
  }

  let counterRepairs = 0;
  let catalogProblems = target.catalog.checkConsistency();
  if (catalogProblems.length > 0) {
    const before = catalogProblems.length;
    target.catalog.repairCounters();
    catalogProblems = target.catalog.checkConsistency();
    counterRepairs = Math.max(0, before - catalogProblems.length);
  }

  return {
    tempFilesRemoved,
    orphanBlobsRemoved,
    orphanBlobPrefixes,
    rowsWithoutBlob,
    rowsWithoutBlobCount,
    counterRepairs,
    catalogProblems,
    durationMs: Date.now() - started,
  };
}

/** True when the report says something was repaired or is wrong. */
export function repairFoundSomething(report: RepairReport): boolean {
  return (
    report.tempFilesRemoved > 0 ||
    report.orphanBlobsRemoved > 0 ||
    report.rowsWithoutBlobCount > 0 ||
    report.counterRepairs > 0 ||
    report.catalogProblems.length > 0
  );
}

/**
 * The one place the startup check's outcome is logged (to be switched to the structured logger):
 * nothing when all was well, a warning for repairs, an error for what could not be repaired.
 * Only counts, file ids and sha256 prefixes: no names or other patient data.
 */
export function logRepairReport(report: RepairReport, log: RepairLog): void {
  if (!repairFoundSomething(report)) return;
  const summary = {
    tempFilesRemoved: report.tempFilesRemoved,
    orphanBlobsRemoved: report.orphanBlobsRemoved,
    orphanBlobPrefixes: report.orphanBlobPrefixes,
    rowsWithoutBlob: report.rowsWithoutBlobCount,
    counterRepairs: report.counterRepairs,
    durationMs: report.durationMs,
  };
  log.warn({ repair: summary }, 'startup check repaired the data directory');
  if (report.rowsWithoutBlobCount > 0) {
    log.error(
      { rowsWithoutBlob: report.rowsWithoutBlob, count: report.rowsWithoutBlobCount },
      'startup check: stored files have no blob (kept, not deleted; restore the blobs or delete the files)',
    );
  }
  if (report.catalogProblems.length > 0) {
    log.error({ problems: report.catalogProblems.slice(0, LIST_LIMIT) }, 'startup check: catalog inconsistencies left after repair');
  }
}

/** The logger methods the report needs (pino's call shape: fields, then message). */
export interface RepairLog {
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}


/** The two-hex-digit folder names under `dir`, sorted; [] when it does not exist. */
async function hexDirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && HEX2.test(e.name)).map((e) => e.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
