/**
 * Batch uploads and ZIP archives over real HTTP: `uploadDicoms` keeps order and isolates bad
 * files; archives are unpacked entry by entry through either mutation; zip bombs, lying sizes,
 * over-limit entries and too many files are typed results; the corpus goes through as one ZIP.
 */
import { existsSync, mkdtempSync, openAsBlob, readdirSync, rmSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { corpusOrSkip } from '../helpers/corpus.js';
import { syntheticImage } from '../helpers/fixtures.js';
import { lieAboutSizes, renameEntry, sha256, UPLOAD_ONE, uploadFiles, zipOf } from '../helpers/multipart.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const image = (uid: string, extra: Parameters<typeof syntheticImage>[0] = {}) => syntheticImage({ sopInstanceUid: uid, ...extra });

function blobCount(dataDir: string): number {
  const walk = (dir: string): number =>
    existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).reduce((n, d) => n + (d.isDirectory() ? walk(join(dir, d.name)) : 1), 0) : 0;
  return walk(join(dataDir, 'blobs'));
}

function tmpFiles(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'tmp'));
}

describe('uploadDicoms and ZIP archives', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Small limits so that over-limit entries and bombs stay small in the test.
    server = await startTestServer({ MAX_UPLOAD_BYTES: String(200_000), MAX_ARCHIVE_BYTES: String(2_000_000), MAX_FILES_PER_REQUEST: '20' });
  });
  afterAll(() => server.stop());

  it('gives one result per file, in order; a bad file does not fail the others', async () => {
    const good1 = image('1.2.3.500.1');
    const good2 = image('1.2.3.500.2');
    const res = await uploadFiles(server, [
      { name: 'a.dcm', bytes: good1 },
      { name: 'notes.txt', bytes: Buffer.from('not a DICOM file') },
      { name: 'b.dcm', bytes: good2 },
      { name: 'cut.dcm', bytes: good2.subarray(0, 300) },
      { name: 'a-again.dcm', bytes: good1 },
      { name: 'huge.dcm', bytes: new Uint8Array(300_000) },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const results = res.body.data.uploadDicoms;
    expect(results.map((r: { __typename: string }) => r.__typename)).toEqual([
      'UploadDicomSuccess',
      'InvalidDicomError',
      'UploadDicomSuccess',
      'InvalidDicomError',
      'UploadDicomSuccess',
      'FileTooLargeError',
    ]);
    expect(results.map((r: { source: { index: number; filename: string } }) => [r.source.index, r.source.filename])).toEqual([
      [0, 'a.dcm'],
      [1, 'notes.txt'],
      [2, 'b.dcm'],
      [3, 'cut.dcm'],
      [4, 'a-again.dcm'],
      [5, 'huge.dcm'],
    ]);
    expect(results[0].file.sha256).toBe(sha256(good1));
    expect(results[2].file.sha256).toBe(sha256(good2));
    expect(results[4]).toMatchObject({ duplicate: true, file: { id: results[0].file.id } });
    expect(results[1].code).toBe('INVALID_DICOM');
    expect(results[5].code).toBe('FILE_TOO_LARGE');
    expect(tmpFiles(server.dataDir)).toEqual([]);
  });

  it('unpacks a ZIP entry by entry: nested and ../ names are metadata, litter skipped, non-DICOM entries reported', async () => {
    const written = await zipOf([
      { name: 'study/series 1/IM0001', bytes: image('1.2.3.501.1') },
      { name: '__MACOSX/study/._IM0001', bytes: Buffer.from('resource fork') },
      { name: 'study/.DS_Store', bytes: Buffer.from('finder') },
      { name: 'study/README.txt', bytes: Buffer.from('hello') },
      { name: 'xx/xx/etc/evil.dcm', bytes: image('1.2.3.501.2'), compress: false },
      { name: 'DICOMDIR', bytes: Buffer.from('index') },
    ]);
    const zip = renameEntry(written, 'xx/xx/etc/evil.dcm', '../../etc/evil.dcm'); // yazl refuses to write such names
    const res = await uploadFiles(server, [
      { name: 'plain.dcm', bytes: image('1.2.3.501.0') },
      { name: 'study.zip', bytes: zip },
    ]);
    expect(res.body.errors).toBeUndefined();
    const results = res.body.data.uploadDicoms;
    expect(results.map((r: { __typename: string; source: unknown }) => [r.__typename, r.source])).toEqual([
      ['UploadDicomSuccess', { filename: 'plain.dcm', archiveEntry: null, index: 0 }],
      ['UploadDicomSuccess', { filename: 'study.zip', archiveEntry: 'study/series 1/IM0001', index: 1 }],
      ['InvalidDicomError', { filename: 'study.zip', archiveEntry: 'study/README.txt', index: 1 }],
      ['UploadDicomSuccess', { filename: 'study.zip', archiveEntry: '../../etc/evil.dcm', index: 1 }],
    ]);
    expect(results[1].file).toMatchObject({ filename: 'study/series 1/IM0001', sopInstanceUid: '1.2.3.501.1' });
    expect(results[3].file).toMatchObject({ filename: '../../etc/evil.dcm', sopInstanceUid: '1.2.3.501.2' });
    // nothing was written outside the data directory, and no temp file is left
    expect(existsSync(join(server.dataDir, '..', '..', 'etc', 'evil.dcm'))).toBe(false);
    expect(tmpFiles(server.dataDir)).toEqual([]);
  });

  it('uploadDicom unpacks an archive of exactly one file, and points archives of several to uploadDicoms', async () => {
    const one = await zipOf([{ name: 'only/IM1.dcm', bytes: image('1.2.3.502.1') }, { name: '__MACOSX/only/._IM1.dcm', bytes: Buffer.from('x') }]);
    const ok = await uploadFiles(server, [{ name: 'one.zip', bytes: one }], UPLOAD_ONE, true);
    expect(ok.body.data.uploadDicom).toMatchObject({
      __typename: 'UploadDicomSuccess',
      file: { filename: 'only/IM1.dcm' },
      source: { filename: 'one.zip', archiveEntry: 'only/IM1.dcm', index: 0 },
    });

    const before = blobCount(server.dataDir);
    const two = await zipOf([
      { name: 'IM2.dcm', bytes: image('1.2.3.502.2') },
      { name: 'IM3.dcm', bytes: image('1.2.3.502.3') },
    ]);
    const many = await uploadFiles(server, [{ name: 'two.zip', bytes: two }], UPLOAD_ONE, true);
    expect(many.body.data.uploadDicom).toMatchObject({ __typename: 'ArchiveError', code: 'ARCHIVE_NEEDS_BATCH', source: { filename: 'two.zip', archiveEntry: null } });
    expect(many.body.data.uploadDicom.message).toMatch(/uploadDicoms/);
    expect(blobCount(server.dataDir)).toBe(before);
  });

  it('rejects a zip bomb by its declared ratio before inflating anything', async () => {
    const before = blobCount(server.dataDir);
    const bomb = await zipOf([
      { name: 'ok.dcm', bytes: image('1.2.3.503.1') },
      { name: 'bomb.dcm', bytes: Buffer.alloc(3_000_000) }, // ~3 MB of zeros → a few KB
    ]);
    expect(bomb.length).toBeLessThan(50_000);
    const res = await uploadFiles(server, [{ name: 'bomb.zip', bytes: bomb }]);
    expect(res.body.data.uploadDicoms).toEqual([
      expect.objectContaining({ __typename: 'ArchiveError', code: 'ARCHIVE_TOO_LARGE', source: { filename: 'bomb.zip', archiveEntry: null, index: 0 } }),
    ]);
    expect(blobCount(server.dataDir)).toBe(before); // the good entry was not stored either
  });

  it('rejects archives whose declared sizes add up past MAX_ARCHIVE_BYTES, before inflating anything', async () => {
    // 15 entries of 150 kB: each under MAX_UPLOAD_BYTES and under the ratio floor, 2.25 MB together (limit 2 MB)
    const before = blobCount(server.dataDir);
    const entries = [{ name: 'ok.dcm', bytes: image('1.2.3.503.2') }, ...Array.from({ length: 14 }, (_, i) => ({ name: `f${i}.bin`, bytes: Buffer.alloc(150_000, i) }))];
    const zip = await zipOf(entries);
    expect(zip.length).toBeLessThan(200_000);
    const res = await uploadFiles(server, [{ name: 'sum.zip', bytes: zip }]);
    expect(res.body.data.uploadDicoms).toEqual([expect.objectContaining({ __typename: 'ArchiveError', code: 'ARCHIVE_TOO_LARGE' })]);
    expect(res.body.data.uploadDicoms[0].message).toMatch(/MAX_ARCHIVE_BYTES/);
    expect(blobCount(server.dataDir)).toBe(before);
  });

  it('counts the bytes actually inflated: an entry that lies about its size is rejected', async () => {
    const honest = await zipOf([{ name: 'liar.dcm', bytes: Buffer.alloc(900_000, 7) }]);
    const lying = lieAboutSizes(honest, 1000);
    const before = blobCount(server.dataDir);
    const res = await uploadFiles(server, [{ name: 'liar.zip', bytes: lying }]);
    const [result] = res.body.data.uploadDicoms;
    expect(result).toMatchObject({ __typename: 'ArchiveError', source: { archiveEntry: 'liar.dcm' } });
    expect(['ARCHIVE_TOO_LARGE', 'INVALID_ARCHIVE']).toContain(result.code);
    expect(blobCount(server.dataDir)).toBe(before);
    expect(tmpFiles(server.dataDir)).toEqual([]);
  });

  it('gives FileTooLargeError for an entry over MAX_UPLOAD_BYTES and stores the others', async () => {
    // 300 kB of low-entropy pixel data: compresses well under the 200 kB upload limit, inflates over it
    const values = Array.from({ length: 150_000 }, (_, i) => (i * 7919) % 13);
    const big = syntheticImage({ rows: 300, columns: 500, values, sopInstanceUid: '1.2.3.504.2' });
    expect(big.length).toBeGreaterThan(200_000);
    const zip = await zipOf([
      { name: 'small.dcm', bytes: image('1.2.3.504.1') },
      { name: 'big.dcm', bytes: big },
    ]);
    expect(zip.length).toBeLessThan(200_000);
    const res = await uploadFiles(server, [{ name: 'mixed.zip', bytes: zip }]);
    expect(res.body.data.uploadDicoms.map((r: { __typename: string; source: { archiveEntry: string } }) => [r.__typename, r.source.archiveEntry])).toEqual([
      ['UploadDicomSuccess', 'small.dcm'],
      ['FileTooLargeError', 'big.dcm'],
    ]);
  });

  it('applies MAX_FILES_PER_REQUEST to multipart files (413) and to ZIP entries (ArchiveError)', async () => {
    const files = Array.from({ length: 21 }, (_, i) => ({ name: `${i}.dcm`, bytes: image(`1.2.3.505.${i}`) }));
    const tooMany = await uploadFiles(server, files);
    expect(tooMany.status).toBe(413);

    const zip = await zipOf(Array.from({ length: 15 }, (_, i) => ({ name: `${i}.dcm`, bytes: image(`1.2.3.506.${i}`) })));
    const res = await uploadFiles(server, [
      { name: 'first.zip', bytes: zip },
      { name: 'second.zip', bytes: zip }, // 15 + 15 > 20
    ]);
    const results = res.body.data.uploadDicoms;
    expect(results).toHaveLength(16);
    expect(results.slice(0, 15).every((r: { __typename: string }) => r.__typename === 'UploadDicomSuccess')).toBe(true);
    expect(results[15]).toMatchObject({ __typename: 'ArchiveError', code: 'TOO_MANY_FILES', source: { filename: 'second.zip', archiveEntry: null, index: 1 } });
  });

  it('answers ArchiveError INVALID_ARCHIVE for a corrupt archive', async () => {
    const zip = await zipOf([{ name: 'x.dcm', bytes: image('1.2.3.507.1') }]);
    const res = await uploadFiles(server, [{ name: 'cut.zip', bytes: zip.subarray(0, zip.length - 30) }]);
    expect(res.body.data.uploadDicoms).toEqual([expect.objectContaining({ __typename: 'ArchiveError', code: 'INVALID_ARCHIVE' })]);
  });
});

const corpus = corpusOrSkip('batch ZIP of the corpus');

describe.runIf(corpus)('the corpus as one ZIP archive through uploadDicoms', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'dicomql-zip-'));
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every corpus file, one result per entry, duplicates recognised', async () => {
    const files = corpus!.manifest.files;
    const zipPath = join(dir, 'corpus.zip');
    const zip = new ZipFile();
    for (const f of files) zip.addFile(corpus!.file(f.path), f.path);
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(zipPath));

    const res = await uploadFiles(server, [{ name: 'corpus.zip', blob: await openAsBlob(zipPath) }]);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const results: { __typename: string; duplicate: boolean; file: { sha256: string }; source: { archiveEntry: string } }[] = res.body.data.uploadDicoms;
    expect(results).toHaveLength(files.length);
    expect(results.map((r) => r.source.archiveEntry)).toEqual(files.map((f) => f.path));
    const failed = results.filter((r) => r.__typename !== 'UploadDicomSuccess');
    expect(failed).toEqual([]);
    results.forEach((r, i) => expect(r.file.sha256).toBe(files[i]!.sha256));
    const distinct = new Set(files.map((f) => f.sha256)).size;
    expect(results.filter((r) => !r.duplicate)).toHaveLength(distinct);
    expect(tmpFiles(server.dataDir)).toEqual([]);
  });
});
