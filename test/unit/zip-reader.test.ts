/** ZipReader: litter skipped, names kept as metadata, limits on declared and inflated sizes. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ArchiveError, FileTooLargeError } from '../../src/errors.js';
import { isSkippedEntry, looksLikeZip, ZipReader, type ZipLimits } from '../../src/storage/zip-reader.js';
import { lieAboutSizes, renameEntry, zipOf } from '../helpers/multipart.js';

const dir = mkdtempSync(join(tmpdir(), 'dicomql-zip-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const onDisk = (bytes: Buffer) => {
  const path = join(dir, `${n++}.zip`);
  writeFileSync(path, bytes);
  return path;
};
const limits: ZipLimits = { maxEntryBytes: 1_000_000, maxArchiveBytes: 3_000_000, maxRatio: 200, maxEntries: 10 };

async function drain(reader: ZipReader, i: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await reader.openEntry(reader.entries[i]!)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('ZIP recognition and litter', () => {
  it('recognises local file headers and empty archives', () => {
    expect(looksLikeZip(Buffer.from('PK\x03\x04rest', 'latin1'))).toBe(true);
    expect(looksLikeZip(Buffer.from('PK\x05\x06', 'latin1'))).toBe(true);
    expect(looksLikeZip(Buffer.from('PK\x07\x08', 'latin1'))).toBe(false);
    expect(looksLikeZip(Buffer.from('PK'))).toBe(false);
  });

  it.each([
    ['dir/', true],
    ['__MACOSX/x/._IM1', true],
    ['a/.DS_Store', true],
    ['._IM1', true],
    ['Thumbs.db', true],
    ['x/DICOMDIR', true],
    ['dicomdir', true],
    ['IM0001', false],
    ['a/b/c.dcm', false],
    ['../x.dcm', false],
    ['DICOMDIR.dcm', false],
  ])('%s skipped: %s', (name, skipped) => {
    expect(isSkippedEntry(name)).toBe(skipped);
  });
});

describe('ZipReader', () => {
  it('lists entries in archive order with their names as written, and inflates them', async () => {
    const zip = renameEntry(await zipOf([{ name: 'xx/a.dcm', bytes: Buffer.from('first') }, { name: '.hidden', bytes: Buffer.from('x') }, { name: 'b', bytes: Buffer.alloc(5000, 1), compress: false }]), 'xx/a.dcm', '../a.dcm');
    const reader = await ZipReader.open(onDisk(zip), limits);
    try {
      expect(reader.entries.map((e) => [e.name, e.uncompressedSize, e.error])).toEqual([
        ['../a.dcm', 5, null],
        ['b', 5000, null],
      ]);
      expect((await drain(reader, 0)).toString()).toBe('first');
      expect(await drain(reader, 1)).toEqual(Buffer.alloc(5000, 1));
    } finally {
      reader.close();
    }
  });

  it('marks entries over maxEntryBytes with FileTooLargeError, others stay readable', async () => {
    const zip = await zipOf([{ name: 'big', bytes: Buffer.alloc(1_000_001, 3).map((_, i) => i % 251) }, { name: 'small', bytes: Buffer.from('ok') }]);
    const reader = await ZipReader.open(onDisk(zip), limits);
    try {
      expect(reader.entries[0]!.error).toBeInstanceOf(FileTooLargeError);
      await expect(reader.openEntry(reader.entries[0]!)).rejects.toBeInstanceOf(FileTooLargeError);
      expect((await drain(reader, 1)).toString()).toBe('ok');
    } finally {
      reader.close();
    }
  });

  it('rejects a ratio bomb, a declared total over the limit and too many entries before inflating', async () => {
    const bomb = await zipOf([{ name: 'zeros', bytes: Buffer.alloc(2_000_000) }]);
    await expect(ZipReader.open(onDisk(bomb), { ...limits, maxEntryBytes: 5_000_000 })).rejects.toMatchObject({ code: 'ARCHIVE_TOO_LARGE' });
    // the same entry is fine under the ratio floor… (1 MiB)
    const small = await zipOf([{ name: 'zeros', bytes: Buffer.alloc(1_000_000) }]);
    (await ZipReader.open(onDisk(small), limits)).close();
    const total = await zipOf(Array.from({ length: 4 }, (_, i) => ({ name: `f${i}`, bytes: Buffer.alloc(900_000, i) })));
    await expect(ZipReader.open(onDisk(total), limits)).rejects.toMatchObject({ code: 'ARCHIVE_TOO_LARGE', message: expect.stringMatching(/MAX_ARCHIVE_BYTES/) });
    const many = await zipOf(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, bytes: Buffer.from('x') })));
    await expect(ZipReader.open(onDisk(many), limits)).rejects.toMatchObject({ code: 'TOO_MANY_FILES' });
    const litter = await zipOf([...Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, bytes: Buffer.from('x') })), { name: '__MACOSX/._f0', bytes: Buffer.from('y') }]);
    const ok = await ZipReader.open(onDisk(litter), limits);
    expect(ok.entries).toHaveLength(10); // litter does not count
    ok.close();
  });

  it('counts inflated bytes: an entry that inflates past its declared size fails', async () => {
    const lying = lieAboutSizes(await zipOf([{ name: 'liar', bytes: Buffer.alloc(500_000, 5) }]), 1000);
    const reader = await ZipReader.open(onDisk(lying), limits);
    try {
      const err = await drain(reader, 0).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ArchiveError);
      expect(['ARCHIVE_TOO_LARGE', 'INVALID_ARCHIVE']).toContain((err as ArchiveError).code);
    } finally {
      reader.close();
    }
  });

  it('gives INVALID_ARCHIVE for garbage, and per entry for unsupported methods and encryption', async () => {
    await expect(ZipReader.open(onDisk(Buffer.from('PK\x03\x04 not really a zip', 'latin1')), limits)).rejects.toMatchObject({ code: 'INVALID_ARCHIVE' });
    const zip = await zipOf([{ name: 'm', bytes: Buffer.from('method') }, { name: 'e', bytes: Buffer.from('encrypted') }]);
    // compression method 12 (bzip2) for "m", the encryption flag for "e" (central directory and local headers)
    const patched = Buffer.from(zip);
    let seen = 0;
    for (let i = 0; i + 4 <= patched.length; i++) {
      const sig = patched.readUInt32LE(i);
      if (sig !== 0x04034b50 && sig !== 0x02014b50) continue;
      const central = sig === 0x02014b50;
      const nameLength = patched.readUInt16LE(i + (central ? 28 : 26));
      const name = patched.toString('latin1', i + (central ? 46 : 30), i + (central ? 46 : 30) + nameLength);
      if (name === 'm') patched.writeUInt16LE(12, i + (central ? 10 : 8));
      if (name === 'e') patched.writeUInt16LE(patched.readUInt16LE(i + (central ? 8 : 6)) | 1, i + (central ? 8 : 6));
      seen++;
    }
    expect(seen).toBe(4);
    const reader = await ZipReader.open(onDisk(patched), limits);
    try {
      expect(reader.entries.map((e) => e.error?.code)).toEqual(['INVALID_ARCHIVE', 'INVALID_ARCHIVE']);
      expect(reader.entries[0]!.error!.message).toMatch(/method 12/);
      expect(reader.entries[1]!.error!.message).toMatch(/encrypted/);
    } finally {
      reader.close();
    }
  });
});
