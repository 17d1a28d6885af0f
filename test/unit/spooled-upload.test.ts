/**
 * A spooled upload at the storage level: a worker task (here run inline) digests and validates
 * the multipart parser's spool file, and the blob store hard-links it. The upload's stream is
 * never opened for a DICOM file (the event loop neither reads nor hashes the bytes); ZIP
 * archives, failed spools and uploads without a spool path still go through the stream.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveError, FileTooLargeError, InvalidDicomError } from '../../src/errors.js';
import { type OpenDatabase, openDatabase } from '../../src/storage/db.js';
import { DicomFileRepository } from '../../src/storage/dicom-files.js';
import { DicomIngest, type UploadInspector } from '../../src/storage/dicom-ingest.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { repairDataDir } from '../../src/storage/repair.js';
import { type UploadInput, UploadIngest, type UploadOutcome } from '../../src/storage/zip-ingest.js';
import { syntheticImage } from '../helpers/fixtures.js';
import { inlineInspector, inlineParser } from '../helpers/inline-parser.js';
import { zipOf } from '../helpers/multipart.js';

const OWNER = 1;
let dir: string;
let database: OpenDatabase;
let blobs: LocalBlobStore;
let files: DicomFileRepository;
let inspections: number;

function uploads(inspect: UploadInspector = inlineInspector, maxUploadBytes = 10_000_000): UploadIngest {
  const counted: UploadInspector = (path) => {
    inspections++;
    return inspect(path);
  };
  const ingest = new DicomIngest(blobs, files, maxUploadBytes, inlineParser, counted);
  return new UploadIngest(ingest, { tempDir: join(dir, 'tmp'), maxUploadBytes, maxArchiveBytes: 1e8, maxZipRatio: 100 });
}

/** An upload spooled to a file; counts how often its stream is opened. */
function spooledInput(bytes: Buffer, name = 'x.dcm'): UploadInput & { opened: () => number; path: string } {
  const path = join(dir, `spool-${Math.random().toString(36).slice(2)}.tmp`);
  writeFileSync(path, bytes);
  let opened = 0;
  return {
    filename: name,
    path,
    opened: () => opened,
    open: () => {
      opened++;
      return Readable.from([bytes]);
    },
    spooled: async () => path,
  };
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const one = async (ingest: UploadIngest, input: UploadInput, remaining = 10): Promise<UploadOutcome> => {
  const outcomes = await ingest.ingestUpload(OWNER, input, 0, { remaining }, false);
  expect(outcomes).toHaveLength(1);
  return outcomes[0]!;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomql-spooled-'));
  database = openDatabase(dir);
  blobs = new LocalBlobStore(dir);
  files = new DicomFileRepository(database.db);
  inspections = 0;
});
afterEach(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a spooled upload', () => {
  it('is stored without opening its stream: the worker\'s digest names the blob, which is the spool file itself', async () => {
    const bytes = syntheticImage({ rows: 32, columns: 32 });
    const input = spooledInput(bytes);
    const outcome = await one(uploads(), input);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(input.opened()).toBe(0);
    expect(inspections).toBe(1);
    expect(outcome.result.file.sha256).toBe(sha(bytes));
    expect(outcome.result.file.byteSize).toBe(bytes.length);
    expect(statSync(blobs.blobPath(sha(bytes))).ino).toBe(statSync(input.path).ino);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    // the same bytes again: the owner's record, no second row
    const again = await one(uploads(), spooledInput(bytes));
    expect(again.ok && again.result.duplicate).toBe(true);
    expect(again.ok && again.result.file.id).toBe(outcome.result.file.id);
    expect(files.forOwner(OWNER).count()).toBe(1);
    // nothing for the startup repair to find
    const report = await repairDataDir({ dataDir: dir, blobs, db: database.db, catalog: files.catalog });
    expect(report).toMatchObject({ orphanBlobsRemoved: 0, rowsWithoutBlobCount: 0 });
  });

  it('rejects an invalid file with the worker\'s error and stores nothing', async () => {
    const input = spooledInput(Buffer.from('not a dicom file'));
    const outcome = await one(uploads(), input);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toBeInstanceOf(InvalidDicomError);
    expect(input.opened()).toBe(0);
    expect(files.forOwner(OWNER).count()).toBe(0);
    expect(readdirSync(join(dir, 'blobs'))).toEqual([]);
  });

  it('refuses a file over the upload limit by its digest size', async () => {
    const bytes = syntheticImage({ rows: 64, columns: 64 });
    const outcome = await one(uploads(inlineInspector, bytes.length - 1), spooledInput(bytes));
    expect(!outcome.ok && outcome.error).toBeInstanceOf(FileTooLargeError);
    expect(files.forOwner(OWNER).count()).toBe(0);
  });

  it('unpacks a spooled ZIP archive entry by entry (through its stream)', async () => {
    const a = syntheticImage({ rows: 4, columns: 4 });
    const b = syntheticImage({ rows: 8, columns: 8 });
    const input = spooledInput(await zipOf([{ name: 'a.dcm', bytes: a }, { name: 'b.dcm', bytes: b }]), 'study.zip');
    const outcomes = await uploads().ingestUpload(OWNER, input, 0, { remaining: 10 }, false);
    expect(outcomes.map((o) => o.ok && o.result.file.sha256)).toEqual([sha(a), sha(b)]);
    expect(outcomes.map((o) => o.source.archiveEntry)).toEqual(['a.dcm', 'b.dcm']);
    expect(input.opened()).toBeGreaterThan(0);
  });

  it('spends the request\'s file budget like a streamed upload', async () => {
    const outcome = await one(uploads(), spooledInput(syntheticImage()), 0);
    expect(!outcome.ok && outcome.error).toBeInstanceOf(ArchiveError);
    expect(!outcome.ok && (outcome.error as ArchiveError).code).toBe('TOO_MANY_FILES');
  });

  it('reports a spool that failed (graphql-upload-ts\'s 413 past its size limit) as FileTooLargeError', async () => {
    const input: UploadInput = {
      filename: 'big.dcm',
      open: () => {
        throw Object.assign(new Error('File truncated as it exceeds the 10 byte size limit.'), { status: 413 });
      },
      spooled: () => Promise.reject(Object.assign(new Error('File truncated'), { status: 413 })),
    };
    const outcome = await one(uploads(), input);
    expect(!outcome.ok && outcome.error).toBeInstanceOf(FileTooLargeError);
    expect(inspections).toBe(0);
  });

  it('reads the stream as before when the spool path is unknown', async () => {
    const bytes = syntheticImage({ rows: 16, columns: 16 });
    const input = { ...spooledInput(bytes), spooled: async () => null };
    const outcome = await one(uploads(), input);
    expect(outcome.ok && outcome.result.file.sha256).toBe(sha(bytes));
    expect(input.opened()).toBeGreaterThan(0);
    expect(inspections).toBe(0);
    expect(readFileSync(blobs.blobPath(sha(bytes)))).toEqual(bytes);
  });
});
