/** The parse pool: upload validation in a worker thread with a time limit, results as plain data. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidDicomError } from '../../src/errors.js';
import { ParsePool } from '../../src/parse/parse-pool.js';
import { deflateBomb, nestedSequences } from '../helpers/crafted.js';
import { syntheticImage } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dicomql-parse-'));
const pool = new ParsePool({ workers: 1, timeoutMs: 2000, maxHeapMb: 256, maxInflatedBytes: 512 * 1024 * 1024, maxInflateRatio: 200 });

afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe('ParsePool', () => {
  it('returns the fields the ingest stores', async () => {
    const parsed = await pool.parse(file('ok.dcm', syntheticImage({ rows: 4, columns: 4 })));
    expect(parsed).toMatchObject({
      declaredTransferSyntaxUid: '1.2.840.10008.1.2.1',
      hasPixelData: true,
      pixelDataVr: 'OW',
      pixelDataLength: 32,
      pixelDataEncapsulated: false,
    });
    expect(parsed.summary.rows).toBe(4);
    expect(parsed.headerEnd).toBeGreaterThan(132);
  });

  it('rejects garbage, deep nesting and a deflate bomb with InvalidDicomError', async () => {
    await expect(pool.parse(file('garbage', Buffer.from('not dicom at all')))).rejects.toBeInstanceOf(InvalidDicomError);
    await expect(pool.parse(file('nested', nestedSequences(10_000)))).rejects.toThrow(/nested deeper than 64/);
    await expect(pool.parse(file('bomb', deflateBomb()))).rejects.toThrow(/deflate bomb/);
  });

  it('stops a parse past its time limit (InvalidDicomError) and keeps working after', async () => {
    const slow = new ParsePool({ workers: 1, timeoutMs: 1, maxHeapMb: 256, maxInflatedBytes: 512 * 1024 * 1024, maxInflateRatio: 1_000_000 });
    try {
      await expect(slow.parse(file('big-deflated', deflateBomb(128 * 1024 * 1024)))).rejects.toThrow(/took longer than the server's limit of 1 ms/);
      expect(slow.stats().timeouts).toBe(1);
    } finally {
      await slow.close();
    }
    // the other pool is unaffected
    expect((await pool.parse(file('ok2.dcm', syntheticImage()))).hasPixelData).toBe(true);
  });

  describe('inspect: digest and validation in one worker task', () => {
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

    it('returns the SHA-256, size and first bytes of the whole file with the same parse as parse()', async () => {
      const bytes = syntheticImage({ rows: 64, columns: 64 });
      const path = file('inspect.dcm', bytes);
      const inspection = await pool.inspect(path);
      expect(inspection.kind).toBe('dicom');
      if (inspection.kind !== 'dicom') return;
      expect(inspection.digest.sha256).toBe(sha(bytes));
      expect(inspection.digest.byteSize).toBe(bytes.length);
      expect(Buffer.from(inspection.digest.head)).toEqual(bytes.subarray(0, 132));
      expect(inspection.parsed).toEqual(await pool.parse(path));
    });

    it('hashes files larger than its read buffer exactly', async () => {
      const bytes = syntheticImage({ rows: 1024, columns: 1100 }); // 2.2 MB: three 1 MiB reads
      const inspection = await pool.inspect(file('large.dcm', bytes));
      expect(inspection.digest?.sha256).toBe(sha(bytes));
      expect(inspection.digest?.byteSize).toBe(bytes.length);
    });

    it('recognises a ZIP archive without parsing it, but not a DICOM file whose preamble starts like one', async () => {
      const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]);
      const archive = await pool.inspect(file('a.zip', zip));
      expect(archive).toMatchObject({ kind: 'archive', digest: { sha256: sha(zip), byteSize: zip.length } });
      const dicom = Buffer.from(syntheticImage());
      dicom.set([0x50, 0x4b, 0x03, 0x04], 0); // preamble bytes are free-form; "DICM" at 128 decides
      expect((await pool.inspect(file('pk-preamble.dcm', dicom))).kind).toBe('dicom');
    });

    it('returns a rejected file\'s error with its digest (the ingest still answers the owner\'s duplicate)', async () => {
      const garbage = Buffer.from('not dicom at all');
      const inspection = await pool.inspect(file('garbage2', garbage));
      expect(inspection.kind).toBe('rejected');
      if (inspection.kind !== 'rejected') return;
      expect(inspection.error).toBeInstanceOf(InvalidDicomError);
      expect(inspection.digest?.sha256).toBe(sha(garbage));
    });

    it('grants the digest time for the file\'s size on top of the parse\'s limit', async () => {
      // 1 ms would not read 8 MiB; the size the worker announces extends the limit (50 MB/s).
      const slow = new ParsePool({ workers: 1, timeoutMs: 1, maxHeapMb: 256, maxInflatedBytes: 512 * 1024 * 1024, maxInflateRatio: 200 });
      try {
        const bytes = syntheticImage({ rows: 2048, columns: 2048, values: new Array(2048 * 2048).fill(0) });
        const inspection = await slow.inspect(file('big.dcm', bytes));
        expect(inspection.kind).toBe('dicom');
        expect(inspection.digest?.sha256).toBe(sha(bytes));
        expect(slow.stats().timeouts).toBe(0);
      } finally {
        await slow.close();
      }
    });
  });
});
