/**
 * FileByteSource serves reads from a window that starts small and grows: whatever the order and
 * size of the reads, each must return exactly the file's bytes, clamped to its end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileByteSource, withFileSource } from '../../src/storage/file-byte-source.js';
import { prng } from '../helpers/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'file-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(size: number): { path: string; bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >>> 8) * 13) & 0xff;
  const path = join(dir, `f-${size}`);
  writeFileSync(path, bytes);
  return { path, bytes };
}


describe('FileByteSource', () => {
  it.each([0, 1, 100, 16 * 1024 - 1, 16 * 1024 + 5, 70_000, 300_000])('returns the file bytes for any read pattern (%d bytes)', (size) => {
    const { path, bytes } = fileOf(size);
    const random = prng(size + 1);
    withFileSource(path, (source) => {
      expect(source.size).toBe(size);
      let sequential = 0;
      for (let i = 0; i < 400; i++) {
        // a mix of walking forward in small steps (element headers), jumps and large reads
        const kind = random();
        const offset = kind < 0.5 ? sequential : Math.floor(random() * (size + 10));
        const length = kind < 0.5 ? 12 : kind < 0.9 ? Math.floor(random() * 40_000) : Math.floor(random() * 200_000);
        const got = source.read(offset, length);
        const start = Math.min(offset, size);
        expect(Buffer.from(got).equals(bytes.subarray(start, Math.min(size, start + length))), `read(${offset}, ${length})`).toBe(true);
        sequential = kind < 0.5 ? (offset + 12 + Math.floor(random() * 300)) % (size + 1) : sequential;
      }
    });
  });

  it('a closed source refuses reads', () => {
    const { path } = fileOf(64);
    const source = new FileByteSource(path);
    source.close();
    expect(() => source.read(0, 4)).toThrow(/closed/);
  });
});
