/** The parse pool: upload validation in a worker thread with a time limit, results as plain data. */
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
});
