/**
 * The companion routes' cache of immutable file facts (src/storage/file-facts-cache.ts): scoped
 * by owner (another owner's id = missing, cached or not), evicted by every catalog delete, bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository } from '../../src/storage/dicom-files.js';
import { DicomIngest } from '../../src/storage/dicom-ingest.js';
import { type FileFacts, FileFactsCache } from '../../src/storage/file-facts-cache.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { catalogFile } from '../helpers/catalog-files.js';
import { inlineParser } from '../helpers/inline-parser.js';


const A = 2;
const B = 3;
let dir: string;
let database: OpenDatabase;
let root: DicomFileRepository;
let ingest: DicomIngest;

function setUp(options: { factsCacheEntries?: number } = {}) {
  root = new DicomFileRepository(database.db, options);
  ingest = new DicomIngest(new LocalBlobStore(dir), root, 10_000_000, inlineParser);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-facts-'));
  database = openDatabase(dir);
  database.db.$client.prepare("INSERT INTO users (id, name, created_at) VALUES (?, 'alice', 0), (?, 'bob', 0)").run(A, B);
  setUp();
});
afterEach(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

const file = (i: number, o: Parameters<typeof catalogFile>[0] = {}) =>
  catalogFile({ patientId: `P-${i}`, studyUid: `1.7.${i}`, seriesUid: `1.7.${i}.1`, sopUid: `1.7.${i}.1.1`, ...o });
const store = async (owner: number, bytes: Buffer) => (await ingest.ingest(owner, () => Readable.from([bytes]), 'x.dcm')).file;
/** Removes the row behind the repositories' back: a lookup that still answers came from memory. */
const dropRowBehindTheCache = (id: string) => database.db.$client.prepare('DELETE FROM dicom_files WHERE id = ?').run(id);

describe('file facts cache', () => {
  it('answers the row\'s immutable columns, from memory after the first lookup', async () => {
    const row = await store(A, file(1));
    const facts = root.forOwner(A).findFacts(row.id)!;
    expect(facts).toEqual({
      id: row.id,
      ownerRef: A,
      sha256: row.sha256,
      filename: row.filename,
      byteSize: row.byteSize,
      rows: row.rows,
      columns: row.columns,
      numberOfFrames: row.numberOfFrames,
      hasPixelData: row.hasPixelData,
      pixelDataVr: row.pixelDataVr,
      pixelDataLength: row.pixelDataLength,
      pixelDataEncapsulated: row.pixelDataEncapsulated,
      headerEnd: row.headerEnd,
    });
    expect(root.factsCacheSize()).toBe(1);
    dropRowBehindTheCache(row.id);
    expect(root.forOwner(A).findFacts(row.id)).toEqual(facts);
    expect(root.forOwner(A).findFacts('no-such-id')).toBeUndefined();
    expect(root.factsCacheSize()).toBe(1); // misses are not cached
  });

  it("treats another owner's id as missing, before and after the owner's lookup cached it", async () => {
    const mine = await store(A, file(1));
    expect(root.forOwner(B).findFacts(mine.id)).toBeUndefined();
    expect(root.forOwner(A).findFacts(mine.id)?.id).toBe(mine.id);
    expect(root.forOwner(B).findFacts(mine.id)).toBeUndefined();
    // The same bytes stored by B: B's own row (another id), never A's.
    const theirs = await store(B, file(1));
    expect(theirs.id).not.toBe(mine.id);
    expect(root.forOwner(B).findFacts(theirs.id)).toMatchObject({ id: theirs.id, ownerRef: B });
    expect(root.forOwner(A).findFacts(theirs.id)).toBeUndefined();
    expect(root.forOwner(B).findFacts(mine.id)).toBeUndefined();
  });

  it('forgets the files every kind of catalog delete removed (file, series, study, patient)', async () => {
    const owned = root.forOwner(A);
    const rows = [];
    for (let i = 1; i <= 4; i++) rows.push(await store(A, file(i)));
    for (const r of rows) expect(owned.findFacts(r.id)).toBeDefined();
    expect(root.factsCacheSize()).toBe(4);
    const [f1, f2, f3, f4] = rows as [typeof rows[0], typeof rows[0], typeof rows[0], typeof rows[0]];

    expect(owned.catalog.deleteFile(f1.id)).toBeDefined();
    expect(owned.catalog.deleteSeries(f2.seriesRef!)).toBeDefined();
    expect(owned.catalog.deleteStudy(f3.studyRef!)).toBeDefined();
    expect(owned.catalog.deletePatient(f4.patientRef!)).toBeDefined();
    expect(root.factsCacheSize()).toBe(0);
    // A fresh scoped repository (as the next request makes) does not find them either.
    for (const r of rows) expect(root.forOwner(A).findFacts(r.id)).toBeUndefined();
  });

  it("another owner's delete of the same id changes nothing for the owner", async () => {
    const mine = await store(A, file(1));
    expect(root.forOwner(A).findFacts(mine.id)).toBeDefined();
    expect(root.forOwner(B).catalog.deleteFile(mine.id)).toBeUndefined();
    expect(root.forOwner(A).findFacts(mine.id)?.id).toBe(mine.id);
  });

  it('is bounded: the least recently used entries go first', async () => {
    setUp({ factsCacheEntries: 2 });
    const rows = [];
    for (let i = 1; i <= 3; i++) rows.push(await store(A, file(i)));
    const owned = root.forOwner(A);
    owned.findFacts(rows[0]!.id);
    owned.findFacts(rows[1]!.id);
    owned.findFacts(rows[0]!.id); // rows[0] is now the most recent
    owned.findFacts(rows[2]!.id); // evicts rows[1]
    expect(root.factsCacheSize()).toBe(2);
    for (const r of rows) dropRowBehindTheCache(r.id);
    expect(owned.findFacts(rows[0]!.id)).toBeDefined();
    expect(owned.findFacts(rows[1]!.id)).toBeUndefined();
    expect(owned.findFacts(rows[2]!.id)).toBeDefined();
  });
});

describe('FileFactsCache', () => {
  const facts = (id: string, ownerRef: number): FileFacts => ({
    id,
    ownerRef,
    sha256: 'ab'.repeat(32),
    filename: 'x.dcm',
    byteSize: 1,
    rows: 1,
    columns: 1,
    numberOfFrames: null,
    hasPixelData: true,
    pixelDataVr: 'OW',
    pixelDataLength: 2,
    pixelDataEncapsulated: false,
    headerEnd: 1,
  });

  it('keys by id and checks the owner; evicts by id; 0 entries keeps nothing', () => {
    const cache = new FileFactsCache(10);
    cache.set(facts('x', A));
    expect(cache.get(A, 'x')?.id).toBe('x');
    expect(cache.get(B, 'x')).toBeUndefined();
    cache.evict(['x', 'unknown']);
    expect(cache.get(A, 'x')).toBeUndefined();
    const none = new FileFactsCache(0);
    none.set(facts('x', A));
    expect(none.size).toBe(0);
    expect(() => new FileFactsCache(-1)).toThrow(RangeError);
  });
});
